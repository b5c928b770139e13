"""MuJoCo locomotion task families on gymnasium's own HalfCheetah-v5 and Ant-v5.

Each task is the real gymnasium env with its reward re-shaped from the env's own
``info`` (``x_velocity``, ``y_velocity``, ``reward_ctrl``, ...), the way the
meta-RL literature defines these families:

- cheetah-dir (run forward / run backward): Finn et al. 2017 (MAML), Rothfuss et
  al. 2019 (ProMP): ``r = d * v_x - 0.05 * |a|^2``, ``d in {+1, -1}``.
- cheetah-vel (K target speeds): MAML, Rakelly et al. 2019 (PEARL):
  ``r = -|v_x - v*| - 0.05 * |a|^2``.
- ant-dir (K walking directions on the circle): PEARL (directions in the plane;
  MAML's ant-dir is the K=2 forward/backward case):
  ``r = (v_x, v_y) . (cos th, sin th) + 1 (alive) - 0.5 |a|^2 - 5e-4 |contact|^2``.

The physics, observations, termination and control/contact costs are gymnasium's
(control cost weight 0.05 for the cheetah as in MAML; gymnasium's default is 0.1).
Episodes are cut at ``max_episode_steps`` (default 200, the horizon MAML and
PEARL train these families with; gymnasium's own is 1000).

``mujoco`` is imported only when an env is built (extra ``rllib-embed[mujoco]``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

import gymnasium as gym

from rllib_embed.envs.float32_observation import Float32Observation
from rllib_embed.envs.multi_task import MultiTaskEnv, config_int, config_with_defaults
from rllib_embed.envs.optional_packages import require

HALF_CHEETAH_DIR = "HalfCheetahDir"
HALF_CHEETAH_VEL = "HalfCheetahVel"
ANT_DIR = "AntDir"

DEFAULT_MAX_EPISODE_STEPS = 200
GYM_MAX_EPISODE_STEPS = 1000  # gymnasium's horizon for both robots
HALF_CHEETAH_CTRL_COST_WEIGHT = 0.05  # MAML / ProMP / PEARL: 0.5 * 1e-1 * |a|^2
DEFAULT_TARGET_VELOCITIES = (0.5, 1.0, 1.5, 2.0)


class TaskReward(gym.Wrapper):
    """One task of a family: the inner env's reward replaced by ``reward_fn(info)``.

    The env's own reward stays in ``info["env_reward"]``; ``task_info`` (e.g. the
    target velocity) is added to every info, so episodes say which task made them.
    """

    def __init__(
        self,
        env: gym.Env,
        reward_fn: Callable[[Mapping[str, Any]], float],
        task_info: Mapping[str, Any],
    ) -> None:
        super().__init__(env)
        self._reward_fn = reward_fn
        self._task_info = dict(task_info)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return obs, {**info, **self._task_info}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = {**info, **self._task_info, "env_reward": float(reward)}
        return obs, float(self._reward_fn(info)), terminated, truncated, info


def make_gym_env(gym_id: str, env_name: str, max_episode_steps: int, **kwargs: Any) -> gym.Env:
    """gymnasium's ``gym_id`` (float32 observations) cut at ``max_episode_steps``; ``kwargs`` go
    to ``gym.make``. Raises ImportError naming ``env_name``'s extra where mujoco is missing."""
    require("mujoco", "mujoco", env_name)
    env = gym.make(gym_id, max_episode_steps=max_episode_steps, **kwargs)
    return Float32Observation(env)


def config_episode_steps(env_name: str, config: Mapping[str, Any]) -> int:
    """``config["max_episode_steps"]`` as an int in [1, 1000] (gymnasium's horizon), else ValueError."""
    return config_int(env_name, "max_episode_steps", config["max_episode_steps"], 1, GYM_MAX_EPISODE_STEPS)


# The names older checkpoints' pickled env runner states refer to (their envs were pickled live).
_make_gym_env = make_gym_env
_max_episode_steps = config_episode_steps


# --- HalfCheetah: run forward / backward ------------------------------------


def half_cheetah_direction_reward(direction: float) -> Callable[[Mapping[str, Any]], float]:
    """cheetah-dir: ``d * v_x + reward_ctrl`` (reward_ctrl = -0.05 |a|^2)."""

    def reward(info: Mapping[str, Any]) -> float:
        return direction * info["x_velocity"] + info["reward_ctrl"]

    return reward


def make_half_cheetah_dir(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """``rllib_embed/HalfCheetahDir-v0``: task 0 runs forward (+x), task 1 backward.

    env_config: ``max_episode_steps`` (int in [1, 1000], default 200).
    """
    name = f"rllib_embed/{HALF_CHEETAH_DIR}-v0"
    config = config_with_defaults(name, env_config, {"max_episode_steps": DEFAULT_MAX_EPISODE_STEPS})
    steps = config_episode_steps(name, config)

    def make_task_env(direction: float) -> gym.Env:
        env = make_gym_env("HalfCheetah-v5", name, steps, ctrl_cost_weight=HALF_CHEETAH_CTRL_COST_WEIGHT)
        return TaskReward(env, half_cheetah_direction_reward(direction), {"direction": direction})

    return MultiTaskEnv(make_task_env, (1.0, -1.0))


# --- HalfCheetah: K target velocities --------------------------------------


def half_cheetah_velocity_reward(target: float) -> Callable[[Mapping[str, Any]], float]:
    """cheetah-vel: ``-|v_x - v*| + reward_ctrl`` (reward_ctrl = -0.05 |a|^2)."""

    def reward(info: Mapping[str, Any]) -> float:
        return -abs(info["x_velocity"] - target) + info["reward_ctrl"]

    return reward


def _target_velocities(env_name: str, value: Any) -> tuple[float, ...]:
    ok = isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) > 0
    ok = ok and all(
        isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in value
    )
    ok = ok and len(set(value)) == len(value)
    if not ok:
        raise ValueError(
            f"{env_name} env_config: 'target_velocities' must be a non-empty list of distinct "
            f"finite numbers (forward speeds in m/s, negative = backward), got {value!r}"
        )
    return tuple(float(v) for v in value)


def make_half_cheetah_vel(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """``rllib_embed/HalfCheetahVel-v0``: task k runs at ``target_velocities[k]``.

    env_config: ``target_velocities`` (default [0.5, 1.0, 1.5, 2.0]; MAML samples
    them from U[0, 2], PEARL from U[0, 3]), ``max_episode_steps`` (default 200).
    """
    name = f"rllib_embed/{HALF_CHEETAH_VEL}-v0"
    config = config_with_defaults(
        name,
        env_config,
        {"target_velocities": DEFAULT_TARGET_VELOCITIES, "max_episode_steps": DEFAULT_MAX_EPISODE_STEPS},
    )
    targets = _target_velocities(name, config["target_velocities"])
    steps = config_episode_steps(name, config)

    def make_task_env(target: float) -> gym.Env:
        env = make_gym_env("HalfCheetah-v5", name, steps, ctrl_cost_weight=HALF_CHEETAH_CTRL_COST_WEIGHT)
        return TaskReward(env, half_cheetah_velocity_reward(target), {"target_velocity": target})

    return MultiTaskEnv(make_task_env, targets)


# --- Ant: K walking directions ---------------------------------------------


def ant_direction_reward(angle: float) -> Callable[[Mapping[str, Any]], float]:
    """ant-dir: velocity along ``(cos angle, sin angle)`` + alive bonus - control - contact cost."""
    dx, dy = math.cos(angle), math.sin(angle)

    def reward(info: Mapping[str, Any]) -> float:
        forward = dx * info["x_velocity"] + dy * info["y_velocity"]
        return forward + info["reward_survive"] + info["reward_ctrl"] + info["reward_contact"]

    return reward


def ant_directions(num_tasks: int) -> tuple[float, ...]:
    """K angles evenly spaced on the circle, starting at +x (K=2: forward / backward)."""
    return tuple(2.0 * math.pi * k / num_tasks for k in range(num_tasks))


def make_ant_dir(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """``rllib_embed/AntDir-v0``: task k walks in direction ``2 pi k / K`` in the plane.

    env_config: ``num_tasks`` (K, int in [1, 64], default 4), ``max_episode_steps``
    (default 200). Observations leave out the contact forces (27 numbers instead of
    105, as in gymnasium's ``include_cfrc_ext_in_observation=False``); the contact
    cost stays in the reward.
    """
    name = f"rllib_embed/{ANT_DIR}-v0"
    config = config_with_defaults(
        name, env_config, {"num_tasks": 4, "max_episode_steps": DEFAULT_MAX_EPISODE_STEPS}
    )
    num_tasks = config_int(name, "num_tasks", config["num_tasks"], 1, 64)
    steps = config_episode_steps(name, config)

    def make_task_env(angle: float) -> gym.Env:
        env = make_gym_env("Ant-v5", name, steps, include_cfrc_ext_in_observation=False)
        info = {"direction": (math.cos(angle), math.sin(angle))}
        return TaskReward(env, ant_direction_reward(angle), info)

    return MultiTaskEnv(make_task_env, ant_directions(num_tasks))
