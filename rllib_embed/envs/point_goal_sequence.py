"""PointGoalSequence: the PointGoals point mass must visit two (or more) goals in order, in one episode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from rllib_embed.envs.multi_task import (
    MAX_TASKS, MultiTaskEnv, config_float, config_int, config_pairs, config_with_defaults)
from rllib_embed.envs.point_goals import PointMass, _checked_goal, goals_on_circle

_NAME = "PointGoalSequence"


class PointGoalSequenceEnv(PointMass):
    """The PointGoals point mass (same observation, action and dynamics) with a goal sequence.

    - Observation: ``Box(-inf, inf, (2,), float32)``, the position, exactly as in
      PointGoals (so skills trained there drive it); which goal is current is not
      observed: the straight paths start -> goal 1 -> goal 2 do not cross, so the
      position tells it.
    - Reward: ``-(distance still to travel)`` = ``-(||p - g_current|| + the lengths of the
      legs between the remaining goals)``, dense and <= 0; reaching a goal changes it by
      at most ``goal_tolerance``, so it rewards progress along the sequence, not the
      switch itself.
    - A goal counts as reached when ``||p - g|| < goal_tolerance``; the next one becomes
      current. Truncated after ``episode_len`` steps, never terminates.
    - Info: ``success`` (every goal but the last reached in order and the last one within
      tolerance now), ``distance`` (to the current goal), ``stage`` (goals reached).
    """

    def __init__(self, goals: Sequence[tuple[float, float]], episode_len: int = 25, max_step: float = 0.2,
                 goal_tolerance: float = 0.2, start_noise: float = 0.05) -> None:
        super().__init__(episode_len, max_step, goal_tolerance, start_noise)
        self.goals = np.asarray(goals, dtype=np.float64).reshape(-1, 2)
        legs = np.linalg.norm(np.diff(self.goals, axis=0), axis=1)
        # Length of the path still ahead after goal i is reached.
        self._rest = np.concatenate([np.cumsum(legs[::-1])[::-1], [0.0]])
        self._stage = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._start(seed)
        self._stage = 0
        self._advance()
        return self._obs(), self._info()

    def step(self, action: Any):
        truncated = self._move(action)
        self._advance()
        reward = -(self._distance() + self._rest[self._stage])
        return self._obs(), reward, False, truncated, self._info()

    def _advance(self) -> None:
        """Moves past every goal reached now (the last one stays current)."""
        last = len(self.goals) - 1
        while self._stage < last and self._distance() < self.goal_tolerance:
            self._stage += 1

    def _distance(self) -> float:
        return float(np.linalg.norm(self._pos - self.goals[self._stage]))

    def _info(self) -> dict[str, Any]:
        distance = self._distance()
        success = self._stage == len(self.goals) - 1 and distance < self.goal_tolerance
        return {"success": success, "distance": distance, "stage": self._stage}


_DEFAULTS: dict[str, Any] = {
    "num_tasks": None,  # 1, or 1 when goals are given
    "circle_goals": 4,
    "radius": 1.0,
    "goals": None,
    "episode_len": 25,
    "max_step": 0.2,
    "goal_tolerance": 0.2,
    "start_noise": 0.05,
}


def make_point_goal_sequence(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """Env creator for ``rllib_embed/PointGoalSequence-v0``.

    Task k: visit goal k, then goal k + 1 (mod n) of ``circle_goals`` = n goals on the
    circle of PointGoals (``goals_on_circle(n, radius)``), so with the defaults task 0 is
    PointGoals' (K = 4) goal 0 then goal 1: (1, 0), then (0, 1). ``goals`` (a list of
    >= 2 [x, y], visited in order) replaces the circle with that one sequence.

    ``env_config`` keys: num_tasks (int in [1, n], default 1; 1 or absent with goals),
    circle_goals (int in [2, 1024], default 4), radius (> 0, default 1.0), goals (default none),
    episode_len (int >= 1, default 25), max_step (> 0, default 0.2), goal_tolerance
    (> 0, default 0.2), start_noise (>= 0, default 0.05). Anything else raises ValueError.
    """
    cfg = config_with_defaults(_NAME, env_config, _DEFAULTS)
    if cfg["goals"] is None:
        n = config_int(_NAME, "circle_goals", cfg["circle_goals"], 2, MAX_TASKS)
        radius = config_float(_NAME, "radius", cfg["radius"], 0.0, strict=True)
        num_tasks = config_int(_NAME, "num_tasks", 1 if cfg["num_tasks"] is None else cfg["num_tasks"], 1, n)
        circle = goals_on_circle(n, radius)
        sequences = [(circle[k], circle[(k + 1) % n]) for k in range(num_tasks)]
    else:
        goals = [_checked_goal(pair) for pair in config_pairs(_NAME, "goals", cfg["goals"])]
        if len(goals) < 2:
            raise ValueError(f"{_NAME} env_config: 'goals' must list at least 2 goals, got {cfg['goals']!r}")
        if cfg["num_tasks"] is not None:
            config_int(_NAME, "num_tasks", cfg["num_tasks"], 1, 1)
        sequences = [tuple(goals)]
    kwargs = {
        "episode_len": config_int(_NAME, "episode_len", cfg["episode_len"], 1),
        "max_step": config_float(_NAME, "max_step", cfg["max_step"], 0.0, strict=True),
        "goal_tolerance": config_float(_NAME, "goal_tolerance", cfg["goal_tolerance"], 0.0, strict=True),
        "start_noise": config_float(_NAME, "start_noise", cfg["start_noise"], 0.0, strict=False),
    }
    return MultiTaskEnv(partial(PointGoalSequenceEnv, **kwargs), sequences)
