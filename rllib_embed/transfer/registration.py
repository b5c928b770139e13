"""Registers ``rllib_embed/SkillSpace-v0`` with gymnasium and Ray Tune."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
from ray.tune.registry import register_env

SKILL_SPACE_ENV_ID = "rllib_embed/SkillSpace-v0"


def _create(env_config: Mapping[str, Any] | None = None):
    # Imported on use: loading torch modules is not needed to register the id.
    from rllib_embed.transfer.skill_space_env import make_skill_space_env
    return make_skill_space_env(env_config)


def _gym_entry_point(**kwargs: Any):
    return _create(kwargs)


def register_skill_space_env() -> None:
    """Idempotent; afterwards ``gym.make(id, **cfg)`` and ``.environment(id, env_config=cfg)`` build it."""
    if SKILL_SPACE_ENV_ID not in gym.registry:
        gym.register(SKILL_SPACE_ENV_ID, entry_point=_gym_entry_point)
    register_env(SKILL_SPACE_ENV_ID, _create)
