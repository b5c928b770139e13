"""A wrapper that turns a family of single-task gymnasium envs into K tasks.

Also holds the small ``env_config`` validation helpers shared by the env
creators of this package, so every creator fails the same, strict way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import gymnasium as gym
import numpy as np

OBS_KEY = "obs"
TASK_KEY = "task"
# Largest K an env_config may ask for: K one-hot inputs and K x D envs sampled at once; a
# larger count (e.g. a mistyped 10**9) would only exhaust memory while the goals are built.
MAX_TASKS = 1024


class MultiTaskEnv(gym.Env):
    """K tasks of one env family, with the task id in the observation.

    Observation space: ``Dict({OBS_KEY: <inner observation space>,
    TASK_KEY: Box(0, 1, (K,), float32)})``, where ``TASK_KEY`` holds the
    current task id as a one-hot vector. The learning algorithm routes
    ``TASK_KEY`` only to its task-embedding network and ``OBS_KEY`` to the
    policy: this is how the task id reaches the module but not the policy,
    which sees the task only through the learned embedding.

    Action space: the inner env's. All K task envs must share observation
    and action spaces; this is checked whenever the task is switched.

    Reward, termination, truncation and info come from the inner env; every
    info also carries ``info["task_index"]``.
    """

    def __init__(
        self,
        make_task_env: Callable[[Any], gym.Env],
        tasks: Sequence[Any],
        task_index: int = 0,
    ) -> None:
        if len(tasks) == 0:
            raise ValueError("MultiTaskEnv: `tasks` must be a non-empty sequence")
        self._make_task_env = make_task_env
        self._tasks = tuple(tasks)
        self._task_env: gym.Env | None = None
        # The first task env fixes the spaces every other task must match.
        first_env = make_task_env(self._tasks[self._checked_index(task_index)])
        self.action_space = first_env.action_space
        self.observation_space = gym.spaces.Dict(
            {
                OBS_KEY: first_env.observation_space,
                TASK_KEY: gym.spaces.Box(0.0, 1.0, (self.num_tasks,), np.float32),
            }
        )
        self._install(task_index, first_env)

    @property
    def task_index(self) -> int:
        return self._task_index

    @property
    def num_tasks(self) -> int:
        return len(self._tasks)

    @property
    def tasks(self) -> tuple[Any, ...]:
        return self._tasks

    @property
    def task_env(self) -> gym.Env:
        return self._task_env

    def set_task(self, k: int) -> None:
        """Switch to task ``k`` now (rebuilds the inner env); reset afterwards."""
        task = self._tasks[self._checked_index(k)]
        new_env = self._make_task_env(task)
        if (
            new_env.observation_space != self.observation_space[OBS_KEY]
            or new_env.action_space != self.action_space
        ):
            new_env.close()
            raise ValueError(
                f"MultiTaskEnv: task {k} ({task!r}) has spaces "
                f"{new_env.observation_space} / {new_env.action_space}, expected "
                f"{self.observation_space[OBS_KEY]} / {self.action_space}"
            )
        self._task_env.close()
        self._install(k, new_env)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if seed is None and not self._task_env_seeded:
            # A freshly switched-in env would otherwise seed itself from OS
            # entropy; deriving its seed keeps seeded runs reproducible.
            seed = int(self.np_random.integers(2**31 - 1))
        obs, info = self._task_env.reset(seed=seed, options=options)
        self._task_env_seeded = True
        return self._wrap_obs(obs), self._wrap_info(info)

    def step(
        self, action: Any
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self._task_env.step(action)
        return self._wrap_obs(obs), reward, terminated, truncated, self._wrap_info(info)

    def render(self) -> Any:
        return self._task_env.render()

    def close(self) -> None:
        self._task_env.close()

    def _checked_index(self, k: int) -> int:
        if not isinstance(k, Integral) or isinstance(k, bool) or not 0 <= k < self.num_tasks:
            raise ValueError(
                f"MultiTaskEnv: task_index must be an int in [0, {self.num_tasks - 1}], "
                f"got {k!r}"
            )
        return int(k)

    def _install(self, k: int, task_env: gym.Env) -> None:
        self._task_index = int(k)
        self._task_env = task_env
        self._task_env_seeded = False
        self.metadata = task_env.metadata
        self.render_mode = task_env.render_mode

    def _wrap_obs(self, obs: Any) -> dict[str, np.ndarray]:
        one_hot = np.zeros(self.num_tasks, dtype=np.float32)
        one_hot[self._task_index] = 1.0
        return {OBS_KEY: obs, TASK_KEY: one_hot}

    def _wrap_info(self, info: Mapping[str, Any]) -> dict[str, Any]:
        return {**info, "task_index": self._task_index}


# --- env_config validation helpers shared by the env creators ---------------


def config_with_defaults(
    env_name: str, env_config: Mapping[str, Any] | None, defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """``defaults`` overridden by ``env_config``; unknown keys raise ValueError."""
    config = dict(env_config or {})
    unknown = sorted(set(config) - set(defaults), key=str)
    if unknown:
        raise ValueError(
            f"{env_name} env_config: unknown key {unknown[0]!r}; "
            f"allowed keys: {', '.join(sorted(defaults))}"
        )
    return {**defaults, **config}


def config_int(
    env_name: str, key: str, value: Any, low: int, high: int | None = None
) -> int:
    """``value`` as an int in [low, high] (high=None: unbounded), else ValueError."""
    ok = isinstance(value, Integral) and not isinstance(value, bool)
    ok = ok and low <= value and (high is None or value <= high)
    if not ok:
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{env_name} env_config: {key!r} must be an int {allowed}, got {value!r}")
    return int(value)


def config_float(
    env_name: str, key: str, value: Any, low: float, *, strict: bool
) -> float:
    """``value`` as a finite float > low (strict) or >= low, else ValueError."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if strict else value >= low)
    if not ok:
        allowed = f"{'>' if strict else '>='} {low}"
        raise ValueError(
            f"{env_name} env_config: {key!r} must be a finite number {allowed}, got {value!r}"
        )
    return float(value)


def config_pairs(env_name: str, key: str, value: Any) -> list[tuple[Any, Any]]:
    """``value`` as a non-empty list of 2-element pairs (elements unchecked)."""
    try:
        pairs = [tuple(pair) for pair in value]
    except TypeError:
        pairs = []
    if isinstance(value, (str, bytes)) or not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError(
            f"{env_name} env_config: {key!r} must be a non-empty list of 2-element "
            f"pairs, got {value!r}"
        )
    return pairs


def config_choice(env_name: str, key: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` as one of the strings ``allowed``, else ValueError naming them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{env_name} env_config: {key!r} must be one of "
            f"{', '.join(repr(a) for a in allowed)}, got {value!r}"
        )
    return value
