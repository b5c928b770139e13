"""Register the envs of this package with gymnasium and with Ray Tune."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
from ray.tune.registry import register_env

from rllib_embed.envs.cheetah_speed_schedule import ENV_ID as CHEETAH_SPEED_SCHEDULE
from rllib_embed.envs.cheetah_speed_schedule import make_cheetah_speed_schedule
from rllib_embed.envs.flat_observation import FLAT_OBS_KEY, FlatTaskObservation, env_copy_index
from rllib_embed.envs.grid_goals import make_grid_goals
from rllib_embed.envs.metaworld_tasks import make_metaworld_mt1, make_metaworld_mt10
from rllib_embed.envs.mujoco_tasks import make_ant_dir, make_half_cheetah_dir, make_half_cheetah_vel
from rllib_embed.envs.multi_task import MultiTaskEnv
from rllib_embed.envs.point_goals import make_point_goals
from rllib_embed.envs.point_goal_sequence import make_point_goal_sequence

EnvCreator = Callable[[Mapping[str, Any] | None], MultiTaskEnv]

ENV_IDS: dict[str, EnvCreator] = {
    "rllib_embed/PointGoals-v0": make_point_goals,
    "rllib_embed/GridGoals-v0": make_grid_goals,
    "rllib_embed/PointGoalSequence-v0": make_point_goal_sequence,
    # Robot suites; their simulators are optional extras, imported when an env is built.
    "rllib_embed/HalfCheetahDir-v0": make_half_cheetah_dir,  # rllib-embed[mujoco]
    "rllib_embed/HalfCheetahVel-v0": make_half_cheetah_vel,  # rllib-embed[mujoco]
    "rllib_embed/AntDir-v0": make_ant_dir,  # rllib-embed[mujoco]
    "rllib_embed/MetaWorldMT1-v0": make_metaworld_mt1,  # rllib-embed[metaworld]
    "rllib_embed/MetaWorldMT10-v0": make_metaworld_mt10,  # rllib-embed[metaworld]
}


# New tasks for trained skills (single-task envs; each creator takes its own `flat_obs`).
NEW_TASK_ENV_IDS: dict[str, Callable[[Mapping[str, Any] | None], gym.Env]] = {
    CHEETAH_SPEED_SCHEDULE: make_cheetah_speed_schedule,  # rllib-embed[mujoco]
}


def with_flat_obs_option(creator: EnvCreator) -> Callable[[Mapping[str, Any] | None], gym.Env]:
    """``creator`` that also takes ``env_config["flat_obs"]`` (bool, default False).

    True gives the baselines' view of the env (``FlatTaskObservation``): one Box
    observation with the task id appended, the task cycling per reset.
    """

    def create(env_config: Mapping[str, Any] | None = None) -> gym.Env:
        config = dict(env_config or {})
        flat = config.pop(FLAT_OBS_KEY, False)
        if not isinstance(flat, bool):
            raise ValueError(f"env_config: {FLAT_OBS_KEY!r} must be true or false, got {flat!r}")
        env = creator(config)
        return FlatTaskObservation(env, start=env_copy_index(env_config)) if flat else env

    return create


def _gym_entry_point(creator: EnvCreator) -> Callable[..., MultiTaskEnv]:
    """Adapt an ``env_config`` creator to gymnasium's ``**kwargs`` entry point."""

    def entry_point(**kwargs: Any) -> MultiTaskEnv:
        return creator(kwargs)

    return entry_point


def register_envs() -> None:
    """Register every id in ``ENV_IDS`` and ``NEW_TASK_ENV_IDS``; safe to call any number of times.

    Afterwards ``gym.make(env_id, **env_config)`` and RLlib's
    ``.environment(env_id, env_config=...)`` both build the env.
    """
    creators = {**{env_id: with_flat_obs_option(creator) for env_id, creator in ENV_IDS.items()}, **NEW_TASK_ENV_IDS}
    for env_id, creator in creators.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=_gym_entry_point(creator))
        register_env(env_id, creator)
