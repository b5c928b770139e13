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
      G_i    = sum_{j>=i} gamma^(j-i) r_hat_j      (V(s_i, z)'s regression target; R_i = gamma^i G_i)
    G comes from the backward recursion G_i = r_hat_i + gamma G_{i+1}, run on all
    segments at once over a [segments, max length] grid, so no division by gamma^i.
    """
    r_hat = r_hat.double()
    n_seg = int(segment_id.max()) + 1
    length = int(step.max()) + 1
    grid = torch.zeros(n_seg, length + 1, dtype=r_hat.dtype, device=r_hat.device)
    grid[segment_id, step] = r_hat  # rows past a segment's end stay 0
    for t in range(length - 1, -1, -1):
        grid[:, t] += gamma * grid[:, t + 1]
    G = grid[segment_id, step]
    reward_to_go = (gamma ** step.double()) * G
    return grid[segment_id, 0], reward_to_go, G


def gae_advantages(r_hat: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor,
                   terminated: torch.Tensor, step: torch.Tensor, segment_id: torch.Tensor,
                   gamma: float, lambda_: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """GAE(gamma, lambda) over the augmented reward, inside each segment.

    Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage
    Estimation", eqs. 11-16, per row i of a segment:
      delta_i = r_hat_i + gamma * (1 - terminated_i) * V(s_{i+1}, z) - V(s_i, z)
      A_i     = delta_i + gamma * lambda * A_{i+1}      (A past the segment's last row: 0)
    At a segment's last row, V(s_{i+1}, z) is the *bootstrap*: the value of the state after
    the cut (the end of the I-step sample) or after a time-limit truncation; after a
    termination it is dropped (terminated_i = 1). The same convention as RLlib's
    `compute_value_targets`, which needs one extra timestep per episode chunk; here the
    segment grid of `segment_returns` carries s_{i+1} on every row instead.

    All inputs are per row, shape [B]. Returns (A, value targets A + V), shape [B], float64.
    With lambda = 1 and V = 0 (no baseline, no bootstrap) A_i is `segment_returns`' G_i.
    """
    values = values.double()
    delta = r_hat.double() + gamma * (1.0 - terminated.double()) * next_values.double() - values
    n_seg = int(segment_id.max()) + 1
    length = int(step.max()) + 1
    grid = torch.zeros(n_seg, length + 1, dtype=delta.dtype, device=delta.device)
    grid[segment_id, step] = delta  # rows past a segment's end stay 0: the recursion stops there
    for t in range(length - 1, -1, -1):
        grid[:, t] += gamma * lambda_ * grid[:, t + 1]
    advantages = grid[segment_id, step]
    return advantages, advantages + values


def standardize(x: torch.Tensor, group: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(x - mean) / std within each group (std floored at 1e-4, as RLlib's GAE connector does).

    EmbedPG standardises each task's advantages on their own: tasks whose rewards differ in
    scale (HalfCheetahDir's backward task pays several times the forward one early on) would
    otherwise leave the smaller task's advantages near zero next to the larger task's. With
    one group this is RLlib's (and PPO's) whole-batch standardisation.
    `x`, `group`: shape [B]. Returns (standardised x, 1 / std of each row's group), both [B];
    the second rescales the same task's pathwise terms (`losses.embed_pg_surrogate`).
    """
    out = torch.empty_like(x)
    inv_std = torch.ones_like(x)
    for g in torch.unique(group):
        member = group == g
        v = x[member]
        std = v.std(unbiased=False).clamp(min=1e-4) if v.numel() > 1 else torch.ones((), dtype=x.dtype)
        out[member] = (v - v.mean()) / std
        inv_std[member] = 1.0 / std
    return out, inv_std


def group_means(x: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """Each row's group's mean of `x` ([B] each)."""
    means = torch.zeros(int(group.max()) + 1, dtype=x.dtype, device=x.device).index_add_(0, group, x)
    counts = torch.bincount(group, minlength=len(means)).to(x.dtype).clamp(min=1)
    return (means / counts)[group]


def leave_one_out_task_baseline(segment_return: torch.Tensor, segment_task: torch.Tensor,
                                segment_env: torch.Tensor) -> torch.Tensor:
    """Baseline for log p(z|t)'s weight: mean return of the same task's segments from *other* envs.

    It must not depend on the segment's own z. Other episodes draw their own z, but a
    later segment of the same env can start where this one's episode terminated, so
    its return can depend on this z: every segment of the same env is left out. Where
    the task has no segment from another env (D = 1), the mean over all other envs'
    segments is used; where there is none either, 0.
    """
    ret = segment_return.double()
    same_env = segment_env[:, None] == segment_env[None, :]
    same_task = segment_task[:, None] == segment_task[None, :]
    others_same_task = (same_task & ~same_env).double()
    others = (~same_env).double()
    task_count, all_count = others_same_task.sum(1), others.sum(1)
    task_mean = (others_same_task @ ret) / task_count.clamp(min=1)
    all_mean = (others @ ret) / all_count.clamp(min=1)
    return torch.where(task_count > 0, task_mean, torch.where(all_count > 0, all_mean, torch.zeros_like(ret)))
