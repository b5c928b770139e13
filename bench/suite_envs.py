r"""The generality suite's task families: bodies nobody tuned EmbedPG for, built as a user would.

Each family is made only through the documented own-family recipe (docs/multi_task_envs.md):
a gymnasium body, one task env per task description, `MultiTaskEnv` around them and
`with_flat_obs_option` for PPO's view. The task is never in the policy's observation: where
the body's own observation carries its goal (Reacher), the goal's coordinates are removed.

| family | body | K | horizon | what differs between tasks | reward per step | success (at the episode's end) |
| --- | --- | --- | --- | --- | --- | --- |
| PendulumTargets | Pendulum-v1 | 4 | 200 | swing up and balance; hold 0.3 rad either side of upright against gravity; stay down | -(angle error^2 + 0.1 thdot^2 + 0.001 u^2), -16 .. 0 | angle error < 0.2 rad, \|thdot\| < 1 |
| CartPoleTargets | CartPole-v1 (discrete) | 4 | 500 | balance the pole while moving the cart to x_k | 1 - min(\|x - x_k\|, 2.4) / 2.4, 0 .. 1; the episode ends when the pole falls | pole still up, \|x - x_k\| < 0.25 |
| ReacherTargets | MuJoCo Reacher-v5 | 4 | 50 | reach one of four fixed points (the goal not in the observation) | gymnasium's: -distance - \|a\|^2, about -0.3 .. 0 | distance < 0.05 |
| InvertedPendulumTargets | MuJoCo InvertedPendulum-v5 (continuous force) | 4 | 1000 | balance the pole with the cart held at x_k on its rail | 1 - min(\|x - x_k\|, 2) / 2, 0 .. 1; the episode ends when the pole tips past 0.2 rad | pole still up, \|x - x_k\| < 0.1 |

Registered ids: `suite/<Family>-v0` (env_config: `num_tasks` <= the family's K).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Mapping, Sequence

import gymnasium as gym
import numpy as np

from rllib_embed.envs import MultiTaskEnv, with_flat_obs_option
from rllib_embed.envs.multi_task import config_int, config_with_defaults


def _angle_error(theta: float, target: float) -> float:
    return (theta - target + math.pi) % (2.0 * math.pi) - math.pi


class PendulumTarget(gym.Wrapper):
    """Pendulum-v1 held at `target` (radians from upright, counter-clockwise)."""

    def __init__(self, target: float):
        super().__init__(gym.make("Pendulum-v1", max_episode_steps=200))
        self.target = float(target)

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        error = _angle_error(math.atan2(float(obs[1]), float(obs[0])), self.target)
        torque = float(np.clip(action, -2.0, 2.0)[0])
        reward = -(error ** 2 + 0.1 * float(obs[2]) ** 2 + 0.001 * torque ** 2)
        info = {**info, "success": abs(error) < 0.2 and abs(float(obs[2])) < 1.0}
        return obs, reward, terminated, truncated, info


class CartPoleTarget(gym.Wrapper):
    """CartPole-v1 balanced with the cart at `target` (metres)."""

    def __init__(self, target: float):
        super().__init__(gym.make("CartPole-v1"))
        self.target = float(target)

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        distance = abs(float(obs[0]) - self.target)
        info = {**info, "success": not terminated and distance < 0.25}
        return obs, 1.0 - min(distance, 2.4) / 2.4, terminated, truncated, info


class ReacherTarget(gym.Wrapper):
    """Reacher-v5 with a fixed goal; the goal's coordinates (and the fingertip-to-goal vector) are
    removed from the observation, which keeps the joints' cos/sin and velocities (6 numbers)."""

    KEEP = [0, 1, 2, 3, 6, 7]

    def __init__(self, goal: Sequence[float]):
        super().__init__(gym.make("Reacher-v5"))
        self.goal = np.asarray(goal, dtype=np.float64)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (len(self.KEEP),), np.float32)

    def reset(self, **kwargs):
        self.env.reset(**kwargs)
        inner = self.env.unwrapped
        qpos, qvel = inner.data.qpos.copy(), inner.data.qvel.copy()
        qpos[-2:], qvel[-2:] = self.goal, 0.0
        inner.set_state(qpos, qvel)  # the goal is part of the MuJoCo state (its last two joints)
        return self._obs(), {}

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        distance = float(np.linalg.norm(obs[8:10]))
        return self._obs(), reward, terminated, truncated, {**info, "success": distance < 0.05}

    def _obs(self):
        return self.env.unwrapped._get_obs()[self.KEEP].astype(np.float32)


class InvertedPendulumTarget(gym.Wrapper):
    """MuJoCo InvertedPendulum-v5 (1000 steps) balanced with the cart at `target` (metres, rail [-1, 1])."""

    def __init__(self, target: float):
        super().__init__(gym.make("InvertedPendulum-v5"))
        self.target = float(target)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, self.env.observation_space.shape, np.float32)

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs.astype(np.float32), info

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        distance = abs(float(obs[0]) - self.target)
        info = {**info, "success": not terminated and distance < 0.1}
        return obs.astype(np.float32), 1.0 - min(distance, 2.0) / 2.0, terminated, truncated, info


SUITE: Dict[str, tuple] = {
    # family: (task env class, the K task descriptions)
    "PendulumTargets": (PendulumTarget, (0.0, 0.3, -0.3, math.pi)),
    "CartPoleTargets": (CartPoleTarget, (-1.2, -0.4, 0.4, 1.2)),
    "ReacherTargets": (ReacherTarget, tuple((0.15 * math.cos(a), 0.15 * math.sin(a))
                                            for a in (math.pi / 4, 3 * math.pi / 4, 5 * math.pi / 4, 7 * math.pi / 4))),
    "InvertedPendulumTargets": (InvertedPendulumTarget, (-0.6, -0.2, 0.2, 0.6)),
}


def creator(family: str) -> Callable[[Mapping[str, Any] | None], MultiTaskEnv]:
    task_env, tasks = SUITE[family]
    name = f"suite/{family}-v0"

    def create(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
        config = config_with_defaults(name, env_config, {"num_tasks": len(tasks)})
        k = config_int(name, "num_tasks", config["num_tasks"], 1, len(tasks))
        return MultiTaskEnv(task_env, tasks[:k])

    return create


def register_suite() -> None:
    """Registers every family as `suite/<Family>-v0` with Ray Tune (and its flat view for PPO)."""
    from ray.tune.registry import register_env
    for family in SUITE:
        register_env(f"suite/{family}-v0", with_flat_obs_option(creator(family)))


register_suite()
