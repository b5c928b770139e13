"""Box observations as float32, the dtype of the module's networks."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class Float32Observation(gym.ObservationWrapper):
    """The inner env's Box observation cast to float32 (MuJoCo and Meta-World give float64).

    Unlike ``gym.wrappers.DtypeObservation``, it casts the bounds itself, without
    gymnasium's precision warning on every env built. ``bounded=False`` declares
    the space unbounded, for envs whose declared bounds are wrong or differ by task.
    """

    def __init__(self, env: gym.Env, bounded: bool = True) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box):
            raise TypeError(f"Float32Observation needs a Box observation space, got {space}")
        low, high = (space.low, space.high) if bounded else (-np.inf, np.inf)
        self.observation_space = gym.spaces.Box(
            np.broadcast_to(low, space.shape).astype(np.float32),
            np.broadcast_to(high, space.shape).astype(np.float32),
            space.shape,
            np.float32,
        )

    def observation(self, observation: Any) -> np.ndarray:
        return np.asarray(observation, dtype=np.float32)
