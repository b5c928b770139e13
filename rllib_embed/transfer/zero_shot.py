"""Zero-shot skills: z for a new task from the trained tasks' embeddings, without training."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rllib_embed.transfer.interpolation import blend


def skill_for_value(means: np.ndarray, task_values: Sequence[float], value: float) -> np.ndarray:
    """z for a new task given by one number (a target speed, a goal distance): the blend of the
    means of p(z|t) of the two trained tasks whose numbers are nearest on either side.

    ``means``: [K, latent_dim], task t's mean of p(z|t) (``task_embeddings``); ``task_values``:
    [K] distinct numbers, task t's (e.g. HalfCheetahVel's target speeds in m/s); ``value``: the
    new task's. With a <= value <= b the nearest trained numbers below and above it,
    ``z = blend(mu_a, mu_b, w)``, ``w = (value - a) / (b - a)`` (linear interpolation of the
    embedding in the task's number; Hausman et al. 2018 interpolate between two tasks' skills
    the same way). Beyond the trained range, the same line through the two outermost tasks on
    that side (w < 0 or w > 1: extrapolation, which may leave the latent region pi was trained
    on; clip it to `skill_box`). K=1: that task's mean. Returns [latent_dim] float32.

    Raises ValueError where ``task_values`` has not one distinct finite number per row of
    ``means``, or ``value`` is not finite.
    """
    means = np.asarray(means, dtype=np.float64)
    values = np.asarray(task_values, dtype=np.float64)
    if means.ndim != 2 or values.shape != (len(means),) or not np.all(np.isfinite(values)) \
            or len(set(values.tolist())) != len(values):
        raise ValueError(f"skill_for_value: 'task_values' must be {len(means)} distinct finite numbers, one per "
                         f"task (row of means, shape {means.shape}); got {list(task_values)!r}")
    if not np.isfinite(value):
        raise ValueError(f"skill_for_value: 'value' must be a finite number, got {value!r}")
    if len(values) == 1:
        return means[0].astype(np.float32)
    order = np.argsort(values)
    values, means = values[order], means[order]
    upper = int(np.clip(np.searchsorted(values, value), 1, len(values) - 1))
    a, b = values[upper - 1], values[upper]
    return blend(means[upper - 1], means[upper], (value - a) / (b - a)).astype(np.float32)
