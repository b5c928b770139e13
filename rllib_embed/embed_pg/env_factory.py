"""Builds an environment by the name RLlib would use, outside of an env runner."""

from typing import Any, Mapping, Optional

from ray.tune.registry import ENV_CREATOR, _global_registry


def make_env(env, env_config: Optional[Mapping[str, Any]] = None):
    """An env given as RLlib takes it: a name registered with Tune (as `rllib_embed/...`
    are) or gymnasium, or a callable (an env class or creator) taking the env config."""
    if callable(env):
        return env(dict(env_config or {}))
    if _global_registry.contains(ENV_CREATOR, env):
        return _global_registry.get(ENV_CREATOR, env)(dict(env_config or {}))
    import gymnasium as gym
    return gym.make(env, **dict(env_config or {}))


def count_tasks(env, env_config: Optional[Mapping[str, Any]] = None) -> int:
    """K of a multi-task env, read off one instance (built and closed again)."""
    instance = make_env(env, env_config)
    try:
        if not hasattr(instance.unwrapped, "num_tasks"):
            raise ValueError(f"EmbedPG needs a multi-task env (rllib_embed.envs.MultiTaskEnv); {env!r} builds a "
                             f"{type(instance.unwrapped).__name__}")
        return int(instance.unwrapped.num_tasks)
    finally:
        instance.close()
