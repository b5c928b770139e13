"""GridGoals: a discrete-action grid walk to one of K goal cells."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from itertools import chain
from numbers import Integral
from typing import Any

import gymnasium as gym
import numpy as np

from rllib_embed.envs.multi_task import (
    MAX_TASKS,
    MultiTaskEnv,
    config_int,
    config_pairs,
    config_with_defaults,
)

_NAME = "GridGoals"

# Action -> (d_row, d_col): up, down, left, right.
_MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))


class GridGoalEnv(gym.Env):
    """An agent on a ``size`` x ``size`` grid that should walk to ``goal``.

    - Observation: ``Box(0, 1, (2,), float32)``, ``(row, col) / (size - 1)``;
      the agent starts at the centre cell ``(size // 2, size // 2)``.
    - Action: ``Discrete(4)``: 0 up, 1 down, 2 left, 3 right; moving into a
      wall leaves the agent in place.
    - Reward: +1.0 and ``terminated=True`` on entering the goal, else -0.05.
    - Episode: truncated after ``episode_len`` steps.
    - Info: ``success`` (the goal was reached), on reset and on every step.
    """

    metadata = {"render_modes": []}

    def __init__(self, goal: tuple[int, int], size: int = 5, episode_len: int = 20) -> None:
        self.goal = (int(goal[0]), int(goal[1]))
        self.size = size
        self.episode_len = episode_len
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(4)
        self._pos = (size // 2, size // 2)
        self._steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._pos = (self.size // 2, self.size // 2)
        self._steps = 0
        return self._obs(), {"success": False}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        d_row, d_col = _MOVES[int(action)]
        last = self.size - 1
        self._pos = (
            min(max(self._pos[0] + d_row, 0), last),
            min(max(self._pos[1] + d_col, 0), last),
        )
        self._steps += 1
        success = self._pos == self.goal
        reward = 1.0 if success else -0.05
        truncated = self._steps >= self.episode_len
        return self._obs(), reward, success, truncated, {"success": success}

    def _obs(self) -> np.ndarray:
        return np.asarray(self._pos, dtype=np.float32) / np.float32(self.size - 1)


def grid_corner_goals(num_tasks: int, size: int) -> list[tuple[int, int]]:
    """``num_tasks`` distinct goal cells, easiest to tell apart first.

    The 4 corners, then the 4 edge midpoints, then the remaining non-centre
    cells in row-major order. More tasks than non-centre cells: ValueError.
    """
    last, mid = size - 1, size // 2
    if not 1 <= num_tasks <= size * size - 1:
        raise ValueError(
            f"grid_corner_goals: num_tasks must be in [1, {size * size - 1}] for a "
            f"{size}x{size} grid, got {num_tasks}"
        )
    ordered = chain([(0, 0), (0, last), (last, 0), (last, last)],
                    [(0, mid), (mid, 0), (mid, last), (last, mid)],
                    ((r, c) for r in range(size) for c in range(size)))
    cells = {}  # the first num_tasks distinct non-centre cells, without listing a huge grid's all
    for cell in ordered:
        if cell != (mid, mid):
            cells.setdefault(cell, None)
            if len(cells) == num_tasks:
                break
    return list(cells)


_DEFAULTS: dict[str, Any] = {
    "num_tasks": None,  # 4, or len(goals) when goals are given
    "size": 5,
    "episode_len": 20,
    "goals": None,
    "task_index": 0,
}


def make_grid_goals(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """Env creator (Ray Tune / RLlib style) for the GridGoals multi-task env.

    ``env_config`` keys: num_tasks (int in [1, min(size**2 - 1, 1024)], default 4),
    size (int >= 3, default 5), episode_len (int >= 1, default 20), goals
    (optional list of [row, col] inside the grid, not the centre start cell;
    replaces the corner goals), task_index (int in [0, num_tasks - 1],
    default 0). Anything else raises ValueError.
    """
    cfg = config_with_defaults(_NAME, env_config, _DEFAULTS)
    size = config_int(_NAME, "size", cfg["size"], 3)
    episode_len = config_int(_NAME, "episode_len", cfg["episode_len"], 1)
    num_tasks = cfg["num_tasks"]
    if num_tasks is not None:
        num_tasks = config_int(_NAME, "num_tasks", num_tasks, 1, min(size * size - 1, MAX_TASKS))
    if cfg["goals"] is None:
        goals = grid_corner_goals(4 if num_tasks is None else num_tasks, size)
    else:
        goals = [_checked_goal(pair, size) for pair in config_pairs(_NAME, "goals", cfg["goals"])]
        if num_tasks is not None and num_tasks != len(goals):
            raise ValueError(
                f"{_NAME} env_config: 'num_tasks' must equal len(goals) = {len(goals)} "
                f"or be absent, got {num_tasks!r}"
            )
    task_index = config_int(_NAME, "task_index", cfg["task_index"], 0, len(goals) - 1)
    make_task_env = partial(GridGoalEnv, size=size, episode_len=episode_len)
    return MultiTaskEnv(make_task_env, goals, task_index)


def _checked_goal(pair: tuple[Any, Any], size: int) -> tuple[int, int]:
    centre = (size // 2, size // 2)
    ints = all(isinstance(v, Integral) and not isinstance(v, bool) for v in pair)
    if not (ints and all(0 <= v < size for v in pair)) or tuple(pair) == centre:
        raise ValueError(
            f"{_NAME} env_config: 'goals' entries must be [row, col] ints in "
            f"[0, {size - 1}] other than the start cell {list(centre)}, got {list(pair)!r}"
        )
    return (int(pair[0]), int(pair[1]))
