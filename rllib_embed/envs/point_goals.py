"""PointGoals: a 2-D point mass that must reach one of K goals on a circle."""

from __future__ import annotations

import math
from functools import partial
from collections.abc import Mapping
from numbers import Real
from typing import Any

import gymnasium as gym
import numpy as np

from rllib_embed.envs.multi_task import (
    MAX_TASKS,
    MultiTaskEnv,
    config_choice,
    config_float,
    config_int,
    config_pairs,
    config_with_defaults,
)

_NAME = "PointGoals"
REWARDS = ("dense", "sparse")  # see PointGoalEnv


class PointMass(gym.Env):
    """The plane, the point and its moves, shared by PointGoals and PointGoalSequence.

    Position ``p`` (the observation, float32) starts at the origin plus uniform noise in
    [-start_noise, start_noise]; an action, clipped to [-1, 1], moves it by
    ``max_step * action``; episodes are truncated after ``episode_len`` steps.
    Subclasses define the goals, the reward and the info.
    """

    metadata = {"render_modes": []}

    def __init__(self, episode_len: int, max_step: float, goal_tolerance: float, start_noise: float) -> None:
        self.episode_len = episode_len
        self.max_step = max_step
        self.goal_tolerance = goal_tolerance
        self.start_noise = start_noise
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._pos = np.zeros(2)
        self._steps = 0

    def _start(self, seed: int | None) -> None:
        """Seeds the env and puts the point at its (noisy) start."""
        super().reset(seed=seed)  # gym.Env: seeds np_random
        self._pos = self.np_random.uniform(-self.start_noise, self.start_noise, size=2)
        self._steps = 0

    def _move(self, action: Any) -> bool:
        """Applies one action; returns whether the episode is truncated."""
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        self._pos = self._pos + self.max_step * action
        self._steps += 1
        return self._steps >= self.episode_len

    def _obs(self) -> np.ndarray:
        return self._pos.astype(np.float32)


class PointGoalEnv(PointMass):
    """A point mass in the plane that should move to ``goal``.

    - Observation: ``Box(-inf, inf, (2,), float32)``, the position ``p``;
      it starts at the origin plus uniform noise in [-start_noise, start_noise].
    - Action: ``Box(-1, 1, (2,), float32)``, clipped to [-1, 1] by the env;
      ``p += max_step * action``.
    - Reward (``reward``): "dense": ``-||p - goal||`` after the move (always <= 0);
      "sparse": 1.0 on every step that ends within ``goal_tolerance`` of the goal, else
      0.0 (success only; the episode still runs its ``episode_len`` steps, so a policy
      that gets there sooner and stays collects more).
    - Episode: never terminates; truncated after ``episode_len`` steps.
    - Info: ``success`` (``||p - goal|| < goal_tolerance``) and ``distance``,
      on reset and on every step.
    """

    def __init__(
        self,
        goal: tuple[float, float],
        episode_len: int = 25,
        max_step: float = 0.2,
        goal_tolerance: float = 0.2,
        start_noise: float = 0.05,
        reward: str = "dense",
    ) -> None:
        if reward not in REWARDS:
            raise ValueError(f"PointGoalEnv: reward must be one of {REWARDS}, got {reward!r}")
        super().__init__(episode_len, max_step, goal_tolerance, start_noise)
        self.reward = reward
        self.goal = np.asarray(goal, dtype=np.float64)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        self._start(seed)
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        truncated = self._move(action)
        distance = self._distance()
        if self.reward == "dense":
            reward = -distance
        else:
            reward = 1.0 if distance < self.goal_tolerance else 0.0
        return self._obs(), reward, False, truncated, self._info()

    def _distance(self) -> float:
        return float(np.linalg.norm(self._pos - self.goal))

    def _info(self) -> dict[str, Any]:
        distance = self._distance()
        return {"success": distance < self.goal_tolerance, "distance": distance}


def goals_on_circle(num_tasks: int, radius: float = 1.0) -> list[tuple[float, float]]:
    """``num_tasks`` goals evenly spaced on a circle, the first at angle 0."""
    angles = (2.0 * math.pi * k / num_tasks for k in range(num_tasks))
    return [(radius * math.cos(a), radius * math.sin(a)) for a in angles]


_DEFAULTS: dict[str, Any] = {
    "num_tasks": None,  # 4, or len(goals) when goals are given
    "radius": 1.0,
    "episode_len": 25,
    "max_step": 0.2,
    "goal_tolerance": 0.2,
    "start_noise": 0.05,
    "goals": None,
    "task_index": 0,
    "reward": "dense",
}


def make_point_goals(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """Env creator (Ray Tune / RLlib style) for the PointGoals multi-task env.

    ``env_config`` keys: num_tasks (int in [1, 1024], default 4), radius (> 0,
    default 1.0), episode_len (int >= 1, default 25), max_step (> 0, default
    0.2), goal_tolerance (> 0, default 0.2, the goal radius of PEARL's point
    robot on a unit circle), start_noise (>= 0, default
    0.05), goals (optional list of [x, y]; replaces the circle), task_index
    (int in [0, num_tasks - 1], default 0), reward ("dense": minus the distance to
    the goal, the default; "sparse": 1.0 on steps within goal_tolerance, else 0.0).
    Anything else raises ValueError.
    """
    cfg = config_with_defaults(_NAME, env_config, _DEFAULTS)
    radius = config_float(_NAME, "radius", cfg["radius"], 0.0, strict=True)
    if cfg["goals"] is None:
        num_tasks = 4 if cfg["num_tasks"] is None else cfg["num_tasks"]
        num_tasks = config_int(_NAME, "num_tasks", num_tasks, 1, MAX_TASKS)
        goals = goals_on_circle(num_tasks, radius)
    else:
        goals = [_checked_goal(pair) for pair in config_pairs(_NAME, "goals", cfg["goals"])]
        num_tasks = cfg["num_tasks"]
        if num_tasks is not None and config_int(_NAME, "num_tasks", num_tasks, 1) != len(goals):
            raise ValueError(
                f"{_NAME} env_config: 'num_tasks' must equal len(goals) = {len(goals)} "
                f"or be absent, got {num_tasks!r}"
            )
    kwargs = {
        "episode_len": config_int(_NAME, "episode_len", cfg["episode_len"], 1),
        "max_step": config_float(_NAME, "max_step", cfg["max_step"], 0.0, strict=True),
        "goal_tolerance": config_float(
            _NAME, "goal_tolerance", cfg["goal_tolerance"], 0.0, strict=True
        ),
        "start_noise": config_float(_NAME, "start_noise", cfg["start_noise"], 0.0, strict=False),
        "reward": config_choice(_NAME, "reward", cfg["reward"], REWARDS),
    }
    task_index = config_int(_NAME, "task_index", cfg["task_index"], 0, len(goals) - 1)
    return MultiTaskEnv(partial(PointGoalEnv, **kwargs), goals, task_index)


def _checked_goal(pair: tuple[Any, Any]) -> tuple[float, float]:
    if not all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in pair):
        raise ValueError(
            f"{_NAME} env_config: 'goals' entries must be [x, y] pairs of finite "
            f"numbers, got {list(pair)!r}"
        )
    return (float(pair[0]), float(pair[1]))
