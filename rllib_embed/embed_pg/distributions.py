"""Diagonal Gaussian densities used by p(z|t) and q(z|a, s^H).

Kept apart from RLlib's action distributions because both are over the latent
skill space, not over actions, and the learner needs them as plain functions.
"""

import math

import torch

_LOG_2PI = math.log(2.0 * math.pi)


def diag_gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag(exp(log_std)^2)), summed over the last dimension."""
    z = (x - mean) * torch.exp(-log_std)
    return (-0.5 * z.pow(2) - log_std - 0.5 * _LOG_2PI).sum(-1)


def diag_gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """H[N(., diag(exp(log_std)^2))] = sum_j (log_std_j + 0.5 * log(2 pi e))."""
    return (log_std + 0.5 * (_LOG_2PI + 1.0)).sum(-1)
