"""Skill interpolation: the frozen policy run with z blended between two tasks' embeddings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rllib_embed.embed_pg.env_factory import make_env
from rllib_embed.transfer.checkpoint import task_embeddings
from rllib_embed.transfer.rollout import ObservationFilter, Rollout, rollout


def blend(mu_a: np.ndarray, mu_b: np.ndarray, w: float) -> np.ndarray:
    """z = (1 - w) mu_a + w mu_b."""
    return (1.0 - w) * np.asarray(mu_a) + w * np.asarray(mu_b)


def progress_along(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Where ``points`` lie along the line start -> end: 0 at start, 1 at end (projection)."""
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    direction = end - start
    return (np.asarray(points, np.float64) - start) @ direction / float(direction @ direction)


@dataclass
class InterpolationSweep:
    """Rollouts under z = blend(mu_a, mu_b, w): ``rollouts[i][j]`` is episode j at ``weights[i]``."""

    task_a: int
    task_b: int
    weights: np.ndarray
    skills: np.ndarray  # [W, latent_dim]
    rollouts: list[list[Rollout]]

    def final_observations(self) -> np.ndarray:
        """[W, episodes, obs_dim]: where each episode ended."""
        return np.stack([np.stack([r.final_observation for r in row]) for row in self.rollouts])


def interpolation_sweep(module, env: Any, env_config: Mapping[str, Any] | None, task_a: int, task_b: int,
                        weights: Sequence[float] = tuple(np.linspace(0.0, 1.0, 11)), *, episodes: int = 3,
                        seed: int = 0, deterministic: bool = True,
                        normalize_obs: ObservationFilter = None) -> InterpolationSweep:
    """Runs ``episodes`` episodes of ``env`` for each blend weight, with pi's mode actions.

    The env (a multi-task env of the skills' family) stays on ``task_a``: pi never sees
    the task, so only its rewards refer to task a. Episode j uses seed ``seed + j`` at
    every weight, so the weights differ only in z.
    """
    means, _ = task_embeddings(module)
    for name, task in (("task_a", task_a), ("task_b", task_b)):
        if not 0 <= task < len(means):
            raise ValueError(f"interpolation_sweep: {name!r} must be in [0, {len(means) - 1}], got {task!r}")
    weights = np.asarray(weights, dtype=np.float64)
    environment = make_env(env, env_config)
    try:
        if hasattr(environment, "set_task"):
            environment.set_task(task_a)
        skills = np.stack([blend(means[task_a], means[task_b], w) for w in weights]).astype(np.float32)
        rollouts = [[rollout(module, environment, z, seed=seed + j, deterministic=deterministic,
                             normalize_obs=normalize_obs)
                     for j in range(episodes)] for z in skills]
    finally:
        environment.close()
    return InterpolationSweep(task_a, task_b, weights, skills, rollouts)
