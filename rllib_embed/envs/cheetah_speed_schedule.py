"""A new task for skills trained on HalfCheetahVel: target speeds it never trained on, and
speeds that change within the episode.

``rllib_embed/HalfCheetahSpeedSchedule-v0``: gymnasium's HalfCheetah-v5 with the cheetah-vel
reward of ``mujoco_tasks`` (``-|v_x - v*(t)| - 0.05 |a|^2``), where the target speed
``v*(t)`` follows a schedule of ``[start_step, speed]`` pairs. One pair is a held-out
constant speed (``[[0, 1.25]]``); several make the speed change within the episode (the
default ``[[0, 0.75], [100, 1.75]]``: 0.75 m/s for 100 steps, then 1.75 m/s).

The observation is a Dict: ``obs``, the cheetah's own 17 numbers (what skills trained on
HalfCheetahVel see), and ``target_velocity``, the current target (what a high-level policy
needs). ``env_config["flat_obs"]=True`` gives one Box ``obs ++ target_velocity`` instead,
for learners from scratch. Every info carries ``x_velocity`` and ``target_velocity``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import gymnasium as gym
import numpy as np

from rllib_embed.envs.mujoco_tasks import (DEFAULT_MAX_EPISODE_STEPS, HALF_CHEETAH_CTRL_COST_WEIGHT,
                                           config_episode_steps, half_cheetah_velocity_reward, make_gym_env)
from rllib_embed.envs.multi_task import OBS_KEY, config_with_defaults

ENV_ID = "rllib_embed/HalfCheetahSpeedSchedule-v0"
TARGET_KEY = "target_velocity"
DEFAULT_SCHEDULE = ((0, 0.75), (100, 1.75))
MAX_SPEED = 10.0  # m/s, either way: far beyond what the cheetah runs


def parse_schedule(value: Any, max_episode_steps: int) -> tuple[tuple[int, float], ...]:
    """``[[start_step, speed], ...]`` checked: the first start 0, starts increasing and below
    ``max_episode_steps``, speeds finite in [-MAX_SPEED, MAX_SPEED] m/s. ValueError otherwise."""
    ok = isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) > 0
    pairs = []
    for pair in (value if ok else ()):
        good = isinstance(pair, Sequence) and not isinstance(pair, (str, bytes)) and len(pair) == 2
        good = good and isinstance(pair[0], Integral) and not isinstance(pair[0], bool)
        good = good and isinstance(pair[1], Real) and not isinstance(pair[1], bool) and math.isfinite(pair[1])
        good = good and abs(pair[1]) <= MAX_SPEED
        if not good:
            ok = False
            break
        pairs.append((int(pair[0]), float(pair[1])))
    starts = [start for start, _ in pairs]
    ok = ok and starts[0] == 0 and all(a < b for a, b in zip(starts, starts[1:])) and starts[-1] < max_episode_steps
    if not ok:
        raise ValueError(f"{ENV_ID} env_config: 'schedule' must be a list of [start_step, speed] pairs, the first "
                         f"start 0, starts increasing and < max_episode_steps ({max_episode_steps}), speeds in m/s "
                         f"within +-{MAX_SPEED:g}; got {value!r}")
    return tuple(pairs)


class CheetahSpeedScheduleEnv(gym.Env):
    """HalfCheetah-v5 whose target speed follows ``schedule`` (see the module docstring).

    Observation ``Dict(obs=Box(17,), target_velocity=Box(1,))`` (float32), or with
    ``flat_obs`` one ``Box(18,)``; action: the cheetah's ``Box(-1, 1, (6,))``. Episodes end
    after ``max_episode_steps`` (truncated). ``target_at(step)`` is the schedule's speed.
    """

    metadata = {"render_modes": []}

    def __init__(self, schedule: Sequence[Sequence[float]] = DEFAULT_SCHEDULE,
                 max_episode_steps: int = DEFAULT_MAX_EPISODE_STEPS, flat_obs: bool = False) -> None:
        self.max_episode_steps = config_episode_steps(ENV_ID, {"max_episode_steps": max_episode_steps})
        self.schedule = parse_schedule(schedule, self.max_episode_steps)
        if not isinstance(flat_obs, bool):
            raise ValueError(f"{ENV_ID} env_config: 'flat_obs' must be true or false, got {flat_obs!r}")
        self.flat_obs = flat_obs
        self.env = make_gym_env("HalfCheetah-v5", ENV_ID, self.max_episode_steps,
                                ctrl_cost_weight=HALF_CHEETAH_CTRL_COST_WEIGHT)
        inner = self.env.observation_space
        speeds = gym.spaces.Box(-MAX_SPEED, MAX_SPEED, (1,), np.float32)
        self.observation_space = (
            gym.spaces.Box(np.append(inner.low, -MAX_SPEED).astype(np.float32),
                           np.append(inner.high, MAX_SPEED).astype(np.float32), dtype=np.float32)
            if flat_obs else gym.spaces.Dict({OBS_KEY: inner, TARGET_KEY: speeds}))
        self.action_space = self.env.action_space
        self._step = 0

    def target_at(self, step: int) -> float:
        """The schedule's target speed (m/s) at env step ``step`` of the episode (0-based)."""
        return [speed for start, speed in self.schedule if start <= step][-1]

    def _observation(self, obs: np.ndarray) -> Any:
        target = np.array([self.target_at(self._step)], np.float32)
        if self.flat_obs:
            return np.concatenate([obs, target]).astype(np.float32)
        return {OBS_KEY: obs.astype(np.float32), TARGET_KEY: target}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self._step = 0
        return self._observation(obs), {**info, TARGET_KEY: self.target_at(0)}

    def step(self, action: Any):
        target = self.target_at(self._step)
        obs, _, terminated, truncated, info = self.env.step(action)
        reward = half_cheetah_velocity_reward(target)(info)
        self._step += 1
        return self._observation(obs), reward, terminated, truncated, {**info, TARGET_KEY: target}

    def close(self) -> None:
        self.env.close()


def make_cheetah_speed_schedule(env_config: Mapping[str, Any] | None = None) -> CheetahSpeedScheduleEnv:
    """Env creator for ``rllib_embed/HalfCheetahSpeedSchedule-v0``.

    env_config: ``schedule`` (``[[start_step, speed], ...]``, default [[0, 0.75], [100, 1.75]]),
    ``max_episode_steps`` (default 200), ``flat_obs`` (default false). Unknown keys and bad
    values raise ValueError naming the key.
    """
    config = config_with_defaults(ENV_ID, env_config, {"schedule": [list(p) for p in DEFAULT_SCHEDULE],
                                                        "max_episode_steps": DEFAULT_MAX_EPISODE_STEPS,
                                                        "flat_obs": False})
    return CheetahSpeedScheduleEnv(config["schedule"], config["max_episode_steps"], config["flat_obs"])


SETTLE_STEPS = 40  # env steps (2 s at the cheetah's 0.05 s per step) to reach a new target speed


def speed_error(x_velocities: Sequence[float], targets: Sequence[float], settle_steps: int = SETTLE_STEPS) -> float:
    """How far an episode ran from its targets, in m/s: for each stretch of constant target,
    |mean x-velocity - target| over the stretch without its first ``settle_steps`` steps (the
    whole stretch where it is shorter), averaged over the stretches.

    ``x_velocities``, ``targets``: [n], step t's ``info["x_velocity"]`` and ``info["target_velocity"]``.
    Raises ValueError for empty or unequal inputs.
    """
    v, target = np.asarray(x_velocities, np.float64), np.asarray(targets, np.float64)
    if v.ndim != 1 or v.shape != target.shape or len(v) == 0:
        raise ValueError(f"speed_error: x_velocities and targets must be two equal non-empty 1-D sequences; "
                         f"got shapes {v.shape} and {target.shape}")
    starts = [0, *np.flatnonzero(np.diff(target) != 0) + 1, len(v)]
    errors = []
    for begin, end in zip(starts, starts[1:]):
        steady = v[begin + settle_steps:end] if end - begin > settle_steps else v[begin:end]
        errors.append(abs(steady.mean() - target[begin]))
    return float(np.mean(errors))
