"""SkillSpaceEnv: a task's env whose action is a skill z for a frozen EmbedPG policy.

A high-level policy (any RLlib algorithm) picks z; the frozen low-level policy
pi(a|s,z) of a trained EmbedPG module follows it for ``hold_steps`` env steps; the
reward is the sum of those steps' rewards.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import gymnasium as gym
import numpy as np

from rllib_embed.embed_pg.columns import OBS_KEY
from rllib_embed.embed_pg.env_factory import make_env
from rllib_embed.transfer.checkpoint import load_skills, resolve_skills_checkpoint, skill_box
from rllib_embed.transfer.rollout import low_level_action, low_level_observation

LOW_LEVEL_STEPS = "low_level_steps"  # info key: env steps taken by the last high-level step

_DEFAULTS: dict[str, Any] = {
    "checkpoint": None,
    "env": None,
    "env_config": None,
    "hold_steps": 5,
    "bound_stds": 3.0,
    "deterministic": True,
    "trust_checkpoint": False,
}


class SkillSpaceEnv(gym.Env):
    """The env ``env`` (built with ``env_config``), driven through skills.

    - Action: ``z``, a ``Box(low, high, (latent_dim,), float32)`` spanning the trained
      tasks' embeddings: per dimension, from ``min_t(mu_t - bound_stds * sigma_t)`` to
      ``max_t(mu_t + bound_stds * sigma_t)`` of p(z|t). pi was trained only on z drawn
      from p(z|t), so the box covers every task's skills and every blend of their means
      (the means' convex hull) and keeps the high level out of latent regions pi never
      saw; a z outside the box is clipped to it.
    - Observation: the env's. A Dict observation (e.g. ``MultiTaskEnv``'s ``{obs, task}``)
      is flattened to one Box (``gymnasium.spaces.flatten``) for the high level, and pi
      sees its ``obs`` part; a Box observation goes to both as it is.
    - Step: pi(.|s, z) acts for ``hold_steps`` env steps (its mode where ``deterministic``,
      else samples), fewer where the episode ends first; reward = their rewards' sum;
      info = the last env step's, plus ``low_level_steps`` (steps taken).

    pi's observation space and action space must equal those of the skills' training
    env (the ``obs`` part of the module's observation space, its action space); with
    ``normalize_observations`` the raw env space kept with the module's statistics, which
    pi's observations then go through ((obs - mean) / std, clipped, as in training).
    """

    metadata = {"render_modes": []}

    def __init__(self, checkpoint: str, env: Any, env_config: Mapping[str, Any] | None = None, *,
                 hold_steps: int = 5, bound_stds: float = 3.0, deterministic: bool = True,
                 trust_checkpoint: bool = False) -> None:
        if not isinstance(hold_steps, Integral) or isinstance(hold_steps, bool) or hold_steps < 1:
            raise ValueError(f"SkillSpaceEnv: 'hold_steps' must be an int >= 1, got {hold_steps!r}")
        if not isinstance(bound_stds, Real) or isinstance(bound_stds, bool) or not np.isfinite(bound_stds) \
                or bound_stds < 0:
            raise ValueError(f"SkillSpaceEnv: 'bound_stds' must be a finite number >= 0, got {bound_stds!r}")
        if not isinstance(deterministic, bool):
            raise ValueError(f"SkillSpaceEnv: 'deterministic' must be true or false, got {deterministic!r}")
        if not isinstance(trust_checkpoint, bool):
            raise ValueError(f"SkillSpaceEnv: 'trust_checkpoint' must be true or false, got {trust_checkpoint!r}")
        if env is None:
            raise ValueError("SkillSpaceEnv: 'env' is required (a registered env id or an env creator)")
        self.hold_steps = int(hold_steps)
        self.deterministic = deterministic
        checkpoint = resolve_skills_checkpoint(checkpoint)  # complete ones only; says which it took
        self.module = load_skills(checkpoint, trust_checkpoint=trust_checkpoint)
        self.normalize_obs = self.module.observation_normalizer  # the skills' training statistics, or None
        self.env = make_env(env, env_config)
        _check_spaces(self.module, self.env)

        self.skill_low, self.skill_high = skill_box(self.module, bound_stds)
        self.action_space = gym.spaces.Box(self.skill_low, self.skill_high, dtype=np.float32)
        self._dict_obs = isinstance(self.env.observation_space, gym.spaces.Dict)
        self.observation_space = (gym.spaces.flatten_space(self.env.observation_space) if self._dict_obs
                                  else self.env.observation_space)
        self._obs = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._obs, info = self.env.reset(seed=seed, options=options)
        return self._high_level(self._obs), {**info, LOW_LEVEL_STEPS: 0}

    def step(self, action: Any):
        z = np.clip(np.asarray(action, dtype=np.float32).reshape(self.action_space.shape),
                    self.skill_low, self.skill_high)
        total, steps = 0.0, 0
        terminated = truncated = False
        info: dict[str, Any] = {}
        while steps < self.hold_steps and not (terminated or truncated):
            low_action = low_level_action(self.module, low_level_observation(self._obs), z,
                                          deterministic=self.deterministic, normalize_obs=self.normalize_obs)
            self._obs, reward, terminated, truncated, info = self.env.step(low_action)
            total += float(reward)
            steps += 1
        return self._high_level(self._obs), total, terminated, truncated, {**info, LOW_LEVEL_STEPS: steps}

    def close(self) -> None:
        self.env.close()

    def _high_level(self, obs: Any) -> np.ndarray:
        if self._dict_obs:
            return gym.spaces.flatten(self.env.observation_space, obs).astype(self.observation_space.dtype)
        return obs


def _check_spaces(module, env: gym.Env) -> None:
    """pi's view of ``env`` must be the skills' training spaces (else: ValueError naming both).

    With observation statistics the module's own space is the normalised one, so the
    raw env space recorded with them is compared (only the shape where none is recorded).
    """
    normalizer = module.observation_normalizer
    skills_obs = module.observation_space[OBS_KEY] if normalizer is None else normalizer.raw_space
    env_obs = env.observation_space
    if isinstance(env_obs, gym.spaces.Dict):
        if OBS_KEY not in env_obs.spaces:
            raise ValueError(f"SkillSpaceEnv: the env's Dict observation has no {OBS_KEY!r} part for the skills' "
                             f"policy (keys: {sorted(env_obs.spaces)}); the skills were trained on {skills_obs}")
        env_obs = env_obs[OBS_KEY]
    if skills_obs is None:  # statistics without their raw space (older checkpoints): the shape must match
        if env_obs.shape != module.observation_space[OBS_KEY].shape:
            raise ValueError(f"SkillSpaceEnv: the env's observation shape {env_obs.shape} differs from the one the "
                             f"skills were trained on, {module.observation_space[OBS_KEY].shape}")
    elif env_obs != skills_obs:
        raise ValueError(f"SkillSpaceEnv: the env's observation space {env_obs} differs from the one the skills "
                         f"were trained on, {skills_obs}")
    if env.action_space != module.action_space:
        raise ValueError(f"SkillSpaceEnv: the env's action space {env.action_space} differs from the one the "
                         f"skills were trained on, {module.action_space}")


def make_skill_space_env(env_config: Mapping[str, Any] | None = None) -> SkillSpaceEnv:
    """Env creator (Tune / RLlib / gymnasium) for ``rllib_embed/SkillSpace-v0``.

    ``env_config`` keys: checkpoint (required: an EmbedPG Algorithm checkpoint or its
    RLModule folder), env (required: env id), env_config (dict for that env, default
    {}), hold_steps (int >= 1, default 5), bound_stds (>= 0, default 3.0),
    deterministic (bool, default true), trust_checkpoint (bool, default false: a checkpoint
    without EmbedPG's plain module files is refused rather than unpickled; see
    `load_skills`). Anything else raises ValueError.
    """
    config = dict(env_config or {})
    unknown = sorted(set(config) - set(_DEFAULTS), key=str)
    if unknown:
        raise ValueError(f"rllib_embed/SkillSpace-v0 env_config: unknown key {unknown[0]!r}; "
                         f"allowed keys: {', '.join(sorted(_DEFAULTS))}")
    config = {**_DEFAULTS, **config}
    if config["checkpoint"] is None:
        raise ValueError("rllib_embed/SkillSpace-v0 env_config: 'checkpoint' is required (an EmbedPG checkpoint)")
    return SkillSpaceEnv(config["checkpoint"], config["env"], config["env_config"],
                         hold_steps=config["hold_steps"], bound_stds=config["bound_stds"],
                         deterministic=config["deterministic"], trust_checkpoint=config["trust_checkpoint"])
