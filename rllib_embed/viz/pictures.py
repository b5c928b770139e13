"""All pictures of a trained EmbedPG checkpoint in one call."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from rllib_embed.embed_pg.env_factory import make_env
from rllib_embed.transfer.checkpoint import checkpoint_env, load_skills, resolve_skills_checkpoint, task_embeddings
from rllib_embed.transfer.interpolation import interpolation_sweep
from rllib_embed.transfer.rollout import ObservationFilter, Rollout, rollout
from rllib_embed.viz.behaviour import plot_behaviour
from rllib_embed.viz.embedding_space import plot_embedding_space, plot_inferred_skills
from rllib_embed.viz.learning_curves import plot_learning_curves
from rllib_embed.viz.style import point_tasks
from rllib_embed.viz.trajectories import plot_interpolation, plot_trajectories

PICTURES = ("embedding_space", "inferred_skills", "trajectories", "interpolation", "behaviour", "learning_curves")


def task_rollouts(module, env: Any, env_config: Mapping[str, Any] | None, episodes_per_task: int,
                  seed: int = 0, normalize_obs: ObservationFilter = None
                  ) -> tuple[dict[int, list[Rollout]], np.ndarray | None]:
    """(episodes per task, the tasks as 2-D goals or None): z drawn from p(z|t) per episode (as in training),
    pi's mode actions; seeded, so the same call gives the same pictures."""
    means, stds = task_embeddings(module)
    rng = np.random.default_rng(seed)
    environment = make_env(env, env_config)
    try:
        episodes = {}
        for k in range(environment.num_tasks):
            environment.set_task(k)
            episodes[k] = [rollout(module, environment, (means[k] + stds[k] * rng.standard_normal(len(means[k]))
                                                         ).astype(np.float32), seed=seed + 1000 * k + j,
                                   normalize_obs=normalize_obs)
                           for j in range(episodes_per_task)]
        goals = point_tasks(environment.tasks)
    finally:
        environment.close()
    return episodes, goals


def find_results(checkpoint: str | os.PathLike) -> str | None:
    """The run's result folder next to a Tune checkpoint (its trial folder), if there is one."""
    checkpoint = os.path.abspath(os.fspath(checkpoint))
    for folder in (checkpoint, os.path.dirname(checkpoint)):
        if any(os.path.isfile(os.path.join(folder, name)) for name in ("result.json", "progress.csv")):
            return folder
    return None


def make_pictures(checkpoint: str | os.PathLike, out_dir: str | os.PathLike, *, results: str | None = None,
                  env: Any = None, env_config: Mapping[str, Any] | None = None, episodes_per_task: int = 3,
                  seed: int = 0, trust_checkpoint: bool = False) -> dict[str, str]:
    """Writes every picture that applies to ``out_dir`` as PNG; returns {picture: path} (a
    `Pictures` dict, whose `skipped` says which pictures were not drawn and why).

    - embedding_space.png: each task's p(z|t) (mean, 2-sigma ellipse; latent_dim > 2: the two
      principal axes that keep the tasks apart) and every pair's distance in units of sigma
    - inferred_skills.png: q's inferred z along each task's rollouts, over p(z|t)
    - trajectories.png, interpolation.png: only for 2-D observations (positions)
    - behaviour.png: otherwise, each task's rollouts as the body's path in the plane, its
      forward velocity over time, or the observation's first principal component over time
    - learning_curves.png: per-task return and success, from ``results`` (default: the Tune
      trial folder holding the checkpoint, where there is one)

    ``env``/``env_config`` default to those the checkpoint was trained on. A checkpoint without
    EmbedPG's plain files is read (unpickled) only with ``trust_checkpoint`` (`load_skills`).
    """
    if not isinstance(episodes_per_task, int) or episodes_per_task < 1:
        raise ValueError(f"episodes_per_task must be an int >= 1, got {episodes_per_task!r}")
    checkpoint = resolve_skills_checkpoint(checkpoint)  # says which one it took from a trial folder
    module = load_skills(checkpoint, trust_checkpoint=trust_checkpoint)
    normalize_obs = module.observation_normalizer  # the training statistics kept with the module
    if env is None:
        env, stored_config = checkpoint_env(checkpoint, trust_checkpoint=trust_checkpoint)
        env_config = stored_config if env_config is None else env_config
    results = results if results is not None else find_results(checkpoint)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    written = Pictures(
        embedding_space=plot_embedding_space(module, os.path.join(out_dir, "embedding_space.png")),
    )
    episodes, goals = task_rollouts(module, env, env_config, episodes_per_task, seed, normalize_obs)
    written["inferred_skills"] = plot_inferred_skills(module, episodes, os.path.join(out_dir, "inferred_skills.png"),
                                                      normalize_obs)
    if module.obs_dim != 2:
        why = (f"the observation has {module.obs_dim} numbers; these pictures draw 2-D positions "
               f"(e.g. PointGoals); behaviour.png shows the skills instead")
        written.skipped.update(trajectories=why, interpolation=why)
        written["behaviour"] = plot_behaviour(episodes, os.path.join(out_dir, "behaviour.png"))
    else:
        written.skipped["behaviour"] = "drawn for bodies without 2-D positions; trajectories.png shows these skills"
        written["trajectories"] = plot_trajectories(episodes, os.path.join(out_dir, "trajectories.png"), goals)
        k = module.num_tasks
        pairs = [(a, (a + 1) % k) for a in range(k)] if k > 2 else [(0, 1)] if k == 2 else []
        sweeps = [interpolation_sweep(module, env, env_config, a, b, episodes=1, seed=seed,
                                      normalize_obs=normalize_obs) for a, b in pairs]
        if sweeps:
            written["interpolation"] = plot_interpolation(sweeps, os.path.join(out_dir, "interpolation.png"), goals, k)
    if results is not None:
        written["learning_curves"] = plot_learning_curves(results, os.path.join(out_dir, "learning_curves.png"))
    else:
        written.skipped["learning_curves"] = "no result folder (pass --results DIR)"
    return written


class Pictures(dict):
    """{picture: path} of the PNGs written, and `skipped`: {picture: why it was not drawn}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skipped: dict[str, str] = {}
