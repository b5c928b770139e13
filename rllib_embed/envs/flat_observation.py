"""A multi-task env as algorithms without a task embedding see it (the baselines' view).

RLlib's PPO, SAC, ... take one Box observation and know nothing of `set_task`. For them
the task id is appended to the observation (the usual multi-task baseline) and the task
changes at every reset, so that every task gets episodes whatever the number of env
copies. Chosen with `env_config={"flat_obs": True, ...}` on any id this package registers.
"""

from __future__ import annotations

import multiprocessing
import re
from typing import Any

import gymnasium as gym
import numpy as np

from rllib_embed.envs.multi_task import OBS_KEY, TASK_KEY, MultiTaskEnv

FLAT_OBS_KEY = "flat_obs"


class FlatTaskObservation(gym.Wrapper):
    """Observation ``concat(obs, one_hot(task))`` as one float32 Box; task cycles per reset.

    Copy ``start`` of the env begins at task ``start % K`` and moves to the next task at
    each reset, so N copies cover all K tasks evenly. ``set_task(k)`` pins task ``k``
    (for per-task evaluation) and stops the cycling.
    """

    def __init__(self, env: MultiTaskEnv, start: int = 0) -> None:
        super().__init__(env)
        inner = env.observation_space[OBS_KEY]
        if not isinstance(inner, gym.spaces.Box) or len(inner.shape) != 1:
            raise ValueError(f"{FLAT_OBS_KEY}: needs a 1-D Box observation, the env has {inner}")
        k = env.num_tasks
        self.observation_space = gym.spaces.Box(
            np.concatenate([inner.low, np.zeros(k)]).astype(np.float32),
            np.concatenate([inner.high, np.ones(k)]).astype(np.float32),
            dtype=np.float32,
        )
        self._next_task = int(start) % k
        self._cycling = True

    @property
    def num_tasks(self) -> int:
        return self.env.num_tasks

    def set_task(self, k: int) -> None:
        self.env.set_task(k)
        self._cycling = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if self._cycling:
            if self._next_task != self.env.task_index:
                self.env.set_task(self._next_task)
            self._next_task = (self._next_task + 1) % self.env.num_tasks
        obs, info = self.env.reset(seed=seed, options=options)
        return self._flat(obs), info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._flat(obs), reward, terminated, truncated, info

    @staticmethod
    def _flat(obs: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(obs[OBS_KEY], np.float32).ravel(), obs[TASK_KEY]]).astype(np.float32)


def env_copy_index(env_config: Any) -> int:
    """A start offset that differs between RLlib's env copies (0 outside RLlib).

    RLlib 2.60's new-stack env runners build their ``num_envs_per_env_runner`` copies with
    ``gym.make_vec`` and hand every copy the *same* ``EnvContext``, with ``vector_index``
    left at 0 (ray/rllib/env/single_agent_env_runner.py ``make_env``). So the copies are
    counted here: consecutive calls with the same context object (one ``make_vec``, "sync"
    mode) get slots 0, 1, 2, ...; in "async" mode each copy lives in a gymnasium worker
    process whose name carries the copy's index. The offset is then
    ``vector_index + slot + 31 * worker_index``; it only staggers the copies (the cycling
    still covers every task), and a plain dict (no ``worker_index``: outside RLlib) gives 0.
    """
    if not hasattr(env_config, "worker_index"):
        return 0
    worker = int(getattr(env_config, "worker_index", 0) or 0)
    vector = int(getattr(env_config, "vector_index", 0) or 0)
    return vector + _slot_in_vector(env_config) + 31 * worker


# The context of the last copy built in this process and how many copies it has built.
_last_context: list = [None, 0]
_ASYNC_WORKER = re.compile(r"^Worker<AsyncVectorEnv>-(\d+)$")  # gymnasium 1.x AsyncVectorEnv's process name


def _slot_in_vector(env_config: Any) -> int:
    """The copy's index within one ``make_vec`` call (see ``env_copy_index``)."""
    if _last_context[0] is env_config:
        _last_context[1] += 1
    else:  # a new vector (a fresh EnvContext): count from 0 again, whatever was built before
        _last_context[0], _last_context[1] = env_config, 0
    match = _ASYNC_WORKER.match(multiprocessing.current_process().name)
    return _last_context[1] + (int(match.group(1)) if match else 0)
