"""The no-gradient weights of the EmbedPG surrogate (see docs/equations.md).

Rows of a batch are grouped in *segments*: the steps of one episode inside one
env's I-step sample. Rows of a segment are contiguous, `step` counts from 0 at the
segment's first row, and every sum below stays inside its segment, so no reward,
return or baseline ever crosses into a neighbouring episode.
"""

from typing import Tuple

import torch


def augmented_reward(reward: torch.Tensor, log_q: torch.Tensor, policy_entropy: torch.Tensor,
                     alpha2: float, alpha3: float) -> torch.Tensor:
    """r_hat_i = r_t(s_i, a_i) + alpha2 * log q_psi(z | a_i, s_i^H) + alpha3 * H[pi_theta(.|s_i, z)]."""
    return reward + alpha2 * log_q + alpha3 * policy_entropy


def segment_returns(r_hat: torch.Tensor, step: torch.Tensor, segment_id: torch.Tensor,
                    gamma: float) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Discounted returns of each segment, broadcast to its rows.

    Returns, per row i of segment c (all sums over rows j of c):
      R      = sum_j gamma^j r_hat_j              (the literal segment return)
      R_i    = sum_{j>=i} gamma^j r_hat_j          (reward-to-go, discounted from the segment start)
      G_i    = sum_{j>=i} gamma^(j-i) r_hat_j      (= R_i / gamma^i: V(s_i, z)'s regression target)
    """
    r_hat = r_hat.double()
    discount = gamma ** step.double()
    w = discount * r_hat
    n_seg = int(segment_id.max()) + 1
    seg_total = torch.zeros(n_seg, dtype=w.dtype, device=w.device).index_add_(0, segment_id, w)
    # Reward-to-go without a Python loop: a reverse cumulative sum over the whole
    # batch, minus what it carries in from the segments that follow.
    reverse_cumsum = w.flip(0).cumsum(0).flip(0)
    row = torch.arange(len(w), device=w.device)
    seg_last_row = torch.zeros(n_seg, dtype=torch.long, device=w.device).scatter_reduce(
        0, segment_id, row, reduce="amax", include_self=False)
    after_last = seg_last_row[segment_id] + 1
    carried_in = torch.where(after_last < len(w), reverse_cumsum[after_last.clamp(max=len(w) - 1)],
                             torch.zeros_like(w))
    reward_to_go = reverse_cumsum - carried_in
    return seg_total[segment_id], reward_to_go, reward_to_go / discount


def leave_one_out_task_baseline(segment_return: torch.Tensor, segment_task: torch.Tensor,
                                num_tasks: int) -> torch.Tensor:
    """Baseline for log p(z|t)'s weight: mean return of the *other* segments of the same task.

    It must not depend on the segment's own z, which other segments' returns do not
    (each episode draws its own z). A segment whose task has no other segment in the
    batch (D = 1) gets the mean return of all other segments; a lone segment gets 0.
    """
    ret = segment_return.double()
    sums = torch.zeros(num_tasks, dtype=ret.dtype, device=ret.device).index_add_(0, segment_task, ret)
    counts = torch.zeros(num_tasks, dtype=ret.dtype, device=ret.device).index_add_(
        0, segment_task, torch.ones_like(ret))
    same_task_others = counts[segment_task] - 1
    all_others = len(ret) - 1
    batch_mean = (ret.sum() - ret) / max(all_others, 1) if all_others > 0 else torch.zeros_like(ret)
    return torch.where(same_task_others > 0, (sums[segment_task] - ret) / same_task_others.clamp(min=1), batch_mean)
