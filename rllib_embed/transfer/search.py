"""Few-shot search over z with the skills frozen: the cross-entropy method (CEM).

The policy pi(a|s,z) is not trained; only z is chosen, by a score of whole episodes (their
return unless told otherwise). What it costs and gains against learning from scratch is
measured in docs/transfer.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from rllib_embed.embed_pg.env_factory import make_env
from rllib_embed.transfer.checkpoint import skill_box, task_embeddings
from rllib_embed.transfer.rollout import ObservationFilter, Rollout, rollout


@dataclass
class SkillSearch:
    """The best z found (``skill``, [latent_dim]), its score (by default its episode return),
    the number of evaluations (episodes) run, every evaluated ``(z, score)`` in order
    (``evaluations``), the best one's place in it (``index``), and for `search_skill` the env
    seed of the best z's episode."""

    skill: np.ndarray
    episode_return: float
    episodes: int
    evaluations: list = field(default_factory=list)
    index: int = 0
    env_seed: Optional[int] = None


def cross_entropy_method(objective: Callable[[np.ndarray], float], mean: np.ndarray, std: np.ndarray,
                         low: np.ndarray, high: np.ndarray, *, evaluations: int = 30, population: int = 6,
                         elites: int = 2, min_std: float = 1e-3, seed: int = 0) -> SkillSearch:
    """Maximises ``objective(z)`` with at most ``evaluations`` calls: the cross-entropy method
    (Rubinstein 1999; de Boer et al. 2005) with a diagonal Gaussian, clipped to [low, high].

    Each round samples ``population`` points from N(mean, std^2) (the first round's first point is
    ``mean`` itself), evaluates them, and refits mean and std to the ``elites`` best of the round
    (std at least ``min_std``); the last round may be smaller to keep within ``evaluations``.
    ``mean``, ``std``, ``low``, ``high``: [d]. Returns the best point evaluated (not the final
    mean) as a SkillSearch. Raises ValueError for evaluations < 1, population < 1 or elites not
    in [1, population].
    """
    if evaluations < 1 or population < 1 or not 1 <= elites <= population:
        raise ValueError(f"cross_entropy_method: need evaluations >= 1, population >= 1 and 1 <= elites <= "
                         f"population; got evaluations={evaluations}, population={population}, elites={elites}")
    rng = np.random.default_rng(seed)
    low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    mean, std = np.clip(np.asarray(mean, np.float64), low, high), np.asarray(std, np.float64)
    history: list = []
    while len(history) < evaluations:
        size = min(population, evaluations - len(history))
        points = np.clip(rng.normal(mean, std, size=(size, len(mean))), low, high)
        if not history:
            points[0] = mean
        scores = np.asarray([float(objective(point.astype(np.float32))) for point in points])
        history += [(point.astype(np.float32), score) for point, score in zip(points, scores)]
        best = points[np.argsort(-scores)[:min(elites, size)]]
        mean, std = best.mean(axis=0), np.maximum(best.std(axis=0), min_std)
    index = max(range(len(history)), key=lambda i: history[i][1])
    return SkillSearch(*history[index], len(history), history, index)


def search_skill(module, env: Any, env_config: Mapping[str, Any] | None = None, *, episodes: int = 30,
                 start: Optional[np.ndarray] = None, population: int = 6, elites: int = 2, bound_stds: float = 3.0,
                 seed: int = 0, normalize_obs: ObservationFilter = None,
                 score: Optional[Callable[[Rollout], float]] = None) -> SkillSearch:
    """The skill z that does best on ``env`` (a new task), found in ``episodes`` episodes of the
    frozen pi(.|s, z) (mode actions, one episode per z). Episode i runs with env seed
    ``seed + i``: with one seed for all, the search picks the z that happens to suit that one
    start (docs/transfer.md measures the difference). ``score``: what "best" means, a function of the episode's
    `Rollout` (default: its return, ``Rollout.episode_return``); `SkillSearch.episode_return`
    holds the best score.

    ``module``: trained skills (`load_skills`); ``env``: an env id or creator whose (``obs`` part
    of the) observation is the skills' (``env_config`` its config). CEM (`cross_entropy_method`)
    over `skill_box(module, bound_stds)`, starting at ``start`` (e.g. `skill_for_value`'s zero-shot
    z; default: the mean of the trained tasks' means) with std = the spread of the trained tasks'
    means per dimension (or the mean sigma of p(z|t) where larger). Returns a SkillSearch.
    """
    means, stds = task_embeddings(module)
    low, high = skill_box(module, bound_stds)
    start = means.mean(axis=0) if start is None else np.asarray(start, np.float64)
    spread = np.maximum(means.std(axis=0), stds.mean(axis=0))
    environment = make_env(env, env_config)
    env_seeds = iter(range(seed, seed + episodes))
    try:
        def objective(z: np.ndarray) -> float:
            episode = rollout(module, environment, z, seed=next(env_seeds), normalize_obs=normalize_obs)
            return float(score(episode)) if score is not None else episode.episode_return

        result = cross_entropy_method(objective, start, spread, low, high, evaluations=episodes,
                                      population=population, elites=elites, seed=seed)
    finally:
        environment.close()
    result.env_seed = seed + result.index  # episode i ran on env seed seed + i
    return result
