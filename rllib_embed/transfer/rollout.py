"""Running the frozen low-level policy pi(a|s,z) with a given skill z."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.columns import Columns

from rllib_embed.embed_pg.columns import OBS_KEY, SKILL
from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import EmbedPGTorchRLModule


def low_level_observation(obs: Any) -> np.ndarray:
    """What pi sees of an observation: the ``obs`` part of a Dict observation, else all of it."""
    return np.asarray(obs[OBS_KEY] if isinstance(obs, dict) else obs, dtype=np.float32)


ObservationFilter = Optional[Callable[[np.ndarray], np.ndarray]]


def low_level_action(module: EmbedPGTorchRLModule, obs: np.ndarray, z: np.ndarray, *,
                     deterministic: bool = True, normalize_obs: ObservationFilter = None) -> np.ndarray:
    """One action of pi(.|obs, z): the distribution's mode, or a sample (torch's global RNG).

    z is given directly (the SKILL column), so the module skips p(z|t) and needs no task id.
    `normalize_obs`: the observation normalisation; None (default) = the training
    statistics the module carries (`module.observation_normalizer`), if any.
    """
    if normalize_obs is None:
        normalize_obs = getattr(module, "observation_normalizer", None)
    if normalize_obs is not None:
        obs = normalize_obs(obs)
    batch = {Columns.OBS: {OBS_KEY: torch.as_tensor(obs, dtype=torch.float32)[None]},
             SKILL: torch.as_tensor(z, dtype=torch.float32)[None]}
    with torch.no_grad():
        dist_inputs = module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS]
        dist = module.get_inference_action_dist_cls().from_logits(dist_inputs)
        action = (dist.to_deterministic() if deterministic else dist).sample()
    return action[0].numpy()


@dataclass
class Rollout:
    """One episode: observations s_0..s_n (pi's view), actions, rewards, the skills used
    ([n, latent_dim]), the last info, and every step's info (``infos[t]``: step t's)."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    info: dict = field(default_factory=dict)
    skills: Optional[np.ndarray] = None
    infos: list = field(default_factory=list)

    def info_values(self, key: str) -> np.ndarray:
        """[n]: ``infos[t][key]`` for every step t (e.g. ``"x_velocity"``)."""
        return np.asarray([info[key] for info in self.infos], dtype=np.float64)

    @property
    def episode_return(self) -> float:
        return float(self.rewards.sum())

    @property
    def final_observation(self) -> np.ndarray:
        return self.observations[-1]


SkillSchedule = Callable[[Any, dict], np.ndarray]


def rollout(module: EmbedPGTorchRLModule, env: gym.Env, z: np.ndarray | SkillSchedule, *, seed: int | None = None,
            deterministic: bool = True, max_steps: int = 10_000, normalize_obs: ObservationFilter = None) -> Rollout:
    """Runs one episode of ``env`` (already set to its task) with the frozen pi(.|s, z).

    ``z``: one skill [latent_dim] for the whole episode, or a function ``z(obs, info)`` of the
    env's latest observation and info (the reset's at the first step) that gives the skill for
    each step (e.g. a blend chosen by the current target). The Rollout keeps the env's own
    observations (not normalised).
    """
    obs, info = env.reset(seed=seed)
    observations, actions, rewards, skills, infos = [low_level_observation(obs)], [], [], [], []
    for _ in range(max_steps):
        skill = np.asarray(z(obs, info) if callable(z) else z, dtype=np.float32)
        action = low_level_action(module, observations[-1], skill, deterministic=deterministic,
                                  normalize_obs=normalize_obs)
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(low_level_observation(obs))
        actions.append(action)
        rewards.append(float(reward))
        skills.append(skill)
        infos.append(dict(info))
        if terminated or truncated:
            break
    return Rollout(np.stack(observations), np.stack(actions), np.asarray(rewards), dict(info), np.stack(skills), infos)
