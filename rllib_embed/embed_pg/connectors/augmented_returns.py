"""Learner connector: augmented reward r_hat, returns, baselines and surrogate weights.

Runs at the end of the learner pipeline on the batched tensors, with the learner's
current networks (pi's entropy: the sampling pass's distribution inputs, the same weights)
and without gradient (R is a weight in the surrogate).
"""

from typing import Any, Dict, List, Optional

import torch

from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core.columns import Columns
from ray.rllib.utils.typing import EpisodeType

from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.columns import OBS_KEY, TASK_KEY
from rllib_embed.embed_pg.distributions import diag_gaussian_log_prob
from rllib_embed.embed_pg.returns import (augmented_reward, gae_advantages, group_means,
                                          leave_one_out_task_baseline, segment_returns, standardize)
from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import reparameterise


def _values_and_next_values(module, obs, next_obs, z, time_left, step):
    """V(s_i, z) and V(s_{i+1}, z) per row ([B] each) from one pass over the B rows plus one row
    per segment: s_{i+1} is the next row's s inside a segment (same z; time_left is 1 on every
    row with bootstrapping), so only each segment's last row needs its own s_{i+1}, the bootstrap
    state. RLlib's GAE connector does the same with one extra timestep per episode chunk."""
    last = torch.ones_like(step, dtype=torch.bool)
    last[:-1] = step[1:] == 0  # rows are contiguous per segment; the next segment starts at step 0
    flat = module.flat_obs(obs)
    both = module.value(torch.cat([flat, module.flat_obs(next_obs[last])]), torch.cat([z, z[last]]),
                        torch.cat([time_left, time_left[last]]))
    values = both[:len(flat)]
    next_values = torch.empty_like(values)
    next_values[:-1] = values[1:]
    next_values[last] = both[len(flat):]
    return values, next_values


class AugmentedRewardAndWeights(ConnectorV2):
    """Adds r_hat, the weights of log pi and log p(z|t), V's targets, and the pre-update values.

    - r_hat_i = r_i + alpha2 log q(z|a_i,s_i^H) + alpha3 H[pi(.|s_i,z)]
    - advantages="returns" (the literal weights): R (returns="segment") or R_i
      (returns="reward_to_go"), minus gamma^i V(s_i, z) when baseline="value"; V's target
      is the segment's discounted reward-to-go G_i.
    - advantages="gae": A_i = A_ext_i + A_int_i: GAE(gamma, lambda_) over the env's reward r with
      V bootstrapped at cuts and truncations (`returns.gae_advantages`; V's target is
      A_ext_i + V(s_i, z), the extrinsic value), plus GAE over the alpha terms
      alpha2 log q + alpha3 H[pi] without a baseline.
    - embedding weight: the segment's return (R; with GAE the lambda-return from its first
      state), minus the mean return of the other segments of the same task from other envs
      when embedding_baseline="task_mean" (free of z), on every row of the segment, and each
      row's share of the segment's terms, segment_share = 1 / its rows
    - normalize_advantages: over the batch (True) or within each task ("per_task"). With GAE,
      the extrinsic parts of both weights are standardised (mean 0, std 1) and the alpha
      terms' parts centred, not scaled, so the alphas weigh against one standard deviation of
      the extrinsic advantage (pathwise_scale 1). With the literal returns, both weights are
      standardised and pathwise_scale = 1 / std of the row's policy weights (1 without
      standardisation), the factor of that row's pathwise terms in the loss.
    - sampled_skill z and embedding_logp_old log p(z|t) with the networks before the update:
      the clipped update's denominators (pi_old comes from the env runners' ACTION_LOGP).
    Also logs the intrinsic reward parts and how well q identifies the task.
    """

    def __init__(self, input_observation_space=None, input_action_space=None, *, gamma: float,
                 alpha2: float, alpha3: float, returns: str, baseline: Optional[str],
                 embedding_baseline: Optional[str], advantages: str = "returns", lambda_: float = 1.0,
                 normalize_advantages=False, **kwargs):
        super().__init__(input_observation_space, input_action_space, **kwargs)
        self.gamma, self.alpha2, self.alpha3 = gamma, alpha2, alpha3
        self.returns, self.baseline, self.embedding_baseline = returns, baseline, embedding_baseline
        self.advantages, self.lambda_, self.normalize_advantages = advantages, lambda_, normalize_advantages

    def __call__(self, *, rl_module, batch: Dict[str, Any], episodes: List[EpisodeType],
                 explore: Optional[bool] = None, shared_data: Optional[dict] = None, metrics=None, **kwargs) -> Any:
        for module_id, module_batch in batch.items():
            module = rl_module[module_id].unwrapped()
            with torch.no_grad():
                stats = self._add_weights(module, module_batch)
            if metrics is not None:
                metrics.log_dict(stats, key=module_id, window=1)
        return batch

    def _add_weights(self, module, b: Dict[str, Any]) -> Dict[str, float]:
        obs, task = b[Columns.OBS][OBS_KEY], b[Columns.OBS][TASK_KEY].float()
        emb_mean, emb_log_std = module.embedding_params(task)
        z = reparameterise(emb_mean, emb_log_std, b[C.Z_NOISE].float())
        # H[pi(.|s_i, z)] of the distribution the action was drawn from: the sampling pass's
        # inputs (RLlib's ACTION_DIST_INPUTS column; the same weights, as PPO's ACTION_LOGP),
        # so the learner does not run pi over the batch again.
        entropy = module.get_train_action_dist_cls().from_logits(b[Columns.ACTION_DIST_INPUTS]).entropy()
        q_mean, q_log_std = module.inference_params(module.action_features(b[Columns.ACTIONS]), b[C.OBS_WINDOW].float())
        log_q = diag_gaussian_log_prob(z, q_mean, q_log_std)
        reward = b[Columns.REWARDS].float()
        r_hat = augmented_reward(reward, log_q, entropy, self.alpha2, self.alpha3)

        seg, step = b[C.SEGMENT_ID].long(), b[C.STEP_IN_SEGMENT].long()
        first = step == 0  # one row per segment carries log p(z|t)
        row_task = task.argmax(-1)
        seg_task = row_task[first]
        groups = None
        if self.normalize_advantages:  # within each task, or one group: the whole batch
            per_task = self.normalize_advantages == "per_task"
            groups = (row_task, seg_task) if per_task else (torch.zeros_like(row_task), torch.zeros_like(seg_task))
        pathwise_scale = torch.ones_like(reward)
        if self.advantages == "gae":
            # The extrinsic advantage (GAE over r, V estimating the extrinsic value) and the intrinsic
            # one (GAE over alpha2 log q + alpha3 H[pi], no baseline) apart: standardisation
            # rescales the extrinsic part alone, so the alphas weigh the intrinsic part against one
            # standard deviation of the extrinsic advantage, whatever the body's reward scale (as
            # PPO's entropy_coeff does), and the pathwise terms keep scale 1.
            r_int = r_hat - reward
            values, next_values = _values_and_next_values(module, obs, b[C.NEXT_OBS], z, b[C.TIME_LEFT], step)
            ext, value_target = gae_advantages(reward, values, next_values, b[Columns.TERMINATEDS], step, seg,
                                               self.gamma, self.lambda_)
            intr, _ = gae_advantages(r_int, torch.zeros_like(values), torch.zeros_like(values),
                                     b[Columns.TERMINATEDS], step, seg, self.gamma, self.lambda_)
            # The segment's lambda-returns from its first state, each less the mean of the same
            # task's segments from other envs (embedding_baseline="task_mean").
            seg_ext, seg_int = value_target[first], intr[first]
            emb_ext, emb_int = seg_ext, seg_int
            if self.embedding_baseline == "task_mean":
                env = b[C.SEGMENT_ENV][first]
                emb_ext = seg_ext - leave_one_out_task_baseline(seg_ext, seg_task, env)
                emb_int = seg_int - leave_one_out_task_baseline(seg_int, seg_task, env)
            if groups is not None:
                ext, _ = standardize(ext, groups[0])
                intr = intr - group_means(intr, groups[0])
                emb_ext, _ = standardize(emb_ext, groups[1])
            intrinsic_advantage_std = intr.std().item()  # beside ext's (1 where standardised)
            weight, emb_weight = ext + intr, emb_ext + emb_int
            seg_return = seg_ext + seg_int
        else:
            R, R_to_go, value_target = segment_returns(r_hat, step, seg, self.gamma)
            weight = R_to_go if self.returns == "reward_to_go" else R
            if self.baseline == "value":
                weight = weight - (self.gamma ** step.double()) * module.value(obs, z, b[C.TIME_LEFT]).double()
            seg_return = R[first]
            intrinsic_advantage_std = float("nan")  # one weight: no intrinsic part of its own
            emb_weight = seg_return
            if self.embedding_baseline == "task_mean":
                emb_weight = seg_return - leave_one_out_task_baseline(seg_return, seg_task, b[C.SEGMENT_ENV][first])
            if groups is not None:
                weight, pathwise_scale = standardize(weight, groups[0])
                emb_weight, _ = standardize(emb_weight, groups[1])

        f32 = torch.float32
        b[C.INTRINSIC_LOG_Q], b[C.INTRINSIC_ENTROPY], b[C.AUGMENTED_REWARD] = log_q, entropy, r_hat
        b[C.POLICY_WEIGHT] = weight.to(f32)
        # The segment's weight on each of its rows, each row holding 1/L of the segment's terms.
        rows_per_segment = torch.bincount(seg)
        b[C.EMBEDDING_WEIGHT] = torch.zeros(len(rows_per_segment), dtype=f32, device=reward.device).index_put(
            (seg[first],), emb_weight.to(f32))[seg]
        b[C.SEGMENT_SHARE] = 1.0 / rows_per_segment[seg].to(f32)
        b[C.PATHWISE_SCALE] = pathwise_scale.to(f32)
        b[C.VALUE_TARGETS] = value_target.to(f32)
        b[C.SAMPLED_SKILL] = z
        b[C.EMBEDDING_LOGP_OLD] = diag_gaussian_log_prob(z, emb_mean, emb_log_std)

        # How well q identifies the task: nearest p(z|t_k) mean to q's mean.
        all_means = module.embedding_params(torch.eye(module.num_tasks, device=task.device))[0]
        nearest = torch.cdist(q_mean, all_means).argmin(-1)
        return {
            "extrinsic_reward_mean": reward.mean().item(),
            "intrinsic_log_q_mean": log_q.mean().item(),
            "intrinsic_policy_entropy_mean": entropy.mean().item(),
            "augmented_reward_mean": r_hat.mean().item(),
            "segment_return_mean": seg_return.mean().item(),
            "intrinsic_advantage_std": intrinsic_advantage_std,
            "q_task_accuracy": (nearest == row_task).float().mean().item(),
        }
