"""Meta-World MT1 and MT10 (Yu et al. 2019/2020) as K-task ``MultiTaskEnv``s.

Built from Meta-World's own benchmark pieces (its env classes, the goal
variations its ``MT1`` benchmark samples, its ``RandomTaskSelectWrapper``):

- ``rllib_embed/MetaWorldMT1-v0``: one manipulation task (env_config ``task``,
  e.g. ``reach-v3``); its first K goal variations are the K tasks, each with a
  fixed goal.
- ``rllib_embed/MetaWorldMT10-v0``: the ten MT10 tasks, in Meta-World's MT10
  order; as in Meta-World's MT10, every reset samples one of the task's 50 goal
  variations.

The task id: Meta-World's MT benchmarks append a one-hot task id to the 39
observation numbers (its ``OneHotWrapper``). Here that one-hot is
``MultiTaskEnv``'s ``task`` key, which reaches only the embedding ``p(z|t)``;
the policy's ``obs`` is the 39 numbers without any id.

Success: Meta-World's benchmark evaluation counts an episode as successful when
``info["success"]`` was 1 at any step (it runs with terminate-on-success and reads
the final step). ``info["success"]`` here is that episode-level value, latched
from the first successful step on, so its value at the last step is "the episode
succeeded"; Meta-World's per-step value is kept in ``info["success_now"]``.
Episodes are never terminated on success (Meta-World's training setting).

``metaworld`` is imported only when an env is built (extra ``rllib-embed[metaworld]``).
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from rllib_embed.envs.float32_observation import Float32Observation
from rllib_embed.envs.multi_task import MultiTaskEnv, config_int, config_with_defaults
from rllib_embed.envs.optional_packages import require

METAWORLD_MT1 = "rllib_embed/MetaWorldMT1-v0"
METAWORLD_MT10 = "rllib_embed/MetaWorldMT10-v0"

METAWORLD_MAX_EPISODE_STEPS = 500  # Meta-World's max_path_length
METAWORLD_GOALS_PER_TASK = 50  # goal variations Meta-World samples per task

_COMMON_DEFAULTS = {
    "max_episode_steps": METAWORLD_MAX_EPISODE_STEPS,
    "benchmark_seed": 0,
    "goal_observable": True,
}


class EpisodeSuccess(gym.Wrapper):
    """``info["success"]``: whether Meta-World's success was reached at any step so far."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._succeeded = False
        return obs, {**info, "success": 0.0}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        success_now = float(info.get("success", 0.0))
        self._succeeded = self._succeeded or success_now > 0.0
        info = {**info, "success_now": success_now, "success": float(self._succeeded)}
        return obs, float(reward), terminated, truncated, info


class SeededMetaWorldEnv(gym.Wrapper):
    """Passes ``reset(seed=...)`` to Meta-World's ``env.seed`` (its reset ignores the seed)."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self.env.unwrapped.seed(seed)
        return self.env.reset(seed=seed, options=options)


def _goal_variations(env_name: str, task: str, seed: int, goal_observable: bool) -> tuple[Any, ...]:
    """Meta-World's 50 goal variations of ``task`` (its ``MT1`` benchmark, seeded)."""
    require("metaworld", "metaworld", env_name)
    return _cached_goal_variations(task, seed, goal_observable)


@functools.lru_cache(maxsize=None)
def _cached_goal_variations(task: str, seed: int, goal_observable: bool) -> tuple[Any, ...]:
    # Sampling them builds the env and resets it 50 times (~2 s): once per process,
    # not once per env of the K x D (a runner may host many envs of one task).
    import metaworld

    variations = metaworld.MT1(task, seed=seed).train_tasks
    # Meta-World's MT benchmarks show the goal; its ML ones hide it (partially observable).
    return tuple(_with_observability(metaworld, v, goal_observable) for v in variations)


def _with_observability(metaworld: Any, variation: Any, goal_observable: bool) -> Any:
    data = pickle.loads(variation.data)
    data["partially_observable"] = not goal_observable
    return metaworld.Task(env_name=variation.env_name, data=pickle.dumps(data))


def _make_metaworld_env(variations: Sequence[Any], steps: int, resample_goal: bool) -> gym.Env:
    env_cls = pickle.loads(variations[0].data)["env_cls"]
    env: gym.Env = env_cls()
    env.unwrapped.set_task(variations[0])
    if resample_goal:
        from metaworld.wrappers import RandomTaskSelectWrapper

        env = RandomTaskSelectWrapper(env, list(variations))
    env = SeededMetaWorldEnv(env)
    env = gym.wrappers.TimeLimit(env, steps)
    # Meta-World's declared space keeps the bounds of the class's construction-time
    # observability (a shown goal falls outside them) and its goal bounds differ by
    # task; the K tasks share one unbounded space instead.
    return EpisodeSuccess(Float32Observation(env, bounded=False))


def _common_settings(env_name: str, config: Mapping[str, Any]) -> tuple[int, int, bool]:
    steps = config_int(env_name, "max_episode_steps", config["max_episode_steps"], 1, METAWORLD_MAX_EPISODE_STEPS)
    seed = config_int(env_name, "benchmark_seed", config["benchmark_seed"], 0)
    goal_observable = config["goal_observable"]
    if not isinstance(goal_observable, bool):
        raise ValueError(f"{env_name} env_config: 'goal_observable' must be true or false, got {goal_observable!r}")
    return steps, seed, goal_observable


def _check_task_name(env_name: str, task: Any) -> str:
    names = list(require("metaworld", "metaworld", env_name).env_dict.ALL_V3_ENVIRONMENTS)
    if task not in names:
        raise ValueError(f"{env_name} env_config: 'task' must be one of {', '.join(names)}; got {task!r}")
    return task


def make_metaworld_mt1(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """``rllib_embed/MetaWorldMT1-v0``: K fixed goals of one Meta-World task.

    env_config: ``task`` (a Meta-World v3 name, default ``reach-v3``), ``num_tasks``
    (K, int in [1, 50], default 4), ``max_episode_steps`` (int in [1, 500], default
    500), ``benchmark_seed`` (seeds Meta-World's goal sampling, default 0),
    ``goal_observable`` (default true, as in Meta-World's MT1; false hides the goal
    from the policy, so only the skill z can tell the goals apart).
    """
    config = config_with_defaults(METAWORLD_MT1, env_config, {"task": "reach-v3", "num_tasks": 4, **_COMMON_DEFAULTS})
    task = _check_task_name(METAWORLD_MT1, config["task"])
    num_tasks = config_int(METAWORLD_MT1, "num_tasks", config["num_tasks"], 1, METAWORLD_GOALS_PER_TASK)
    steps, seed, goal_observable = _common_settings(METAWORLD_MT1, config)
    goals = _goal_variations(METAWORLD_MT1, task, seed, goal_observable)[:num_tasks]

    def make_task_env(goal: Any) -> gym.Env:
        return _make_metaworld_env([goal], steps, resample_goal=False)

    return MultiTaskEnv(make_task_env, goals)


def make_metaworld_mt10(env_config: Mapping[str, Any] | None = None) -> MultiTaskEnv:
    """``rllib_embed/MetaWorldMT10-v0``: Meta-World's ten MT10 tasks (K = 10).

    env_config: ``max_episode_steps``, ``benchmark_seed``, ``goal_observable``, as
    for MT1. A task's 50 goal variations are sampled the first time this process
    builds that task (about 2 s each) and kept for the process.
    """
    config = config_with_defaults(METAWORLD_MT10, env_config, _COMMON_DEFAULTS)
    steps, seed, goal_observable = _common_settings(METAWORLD_MT10, config)
    metaworld = require("metaworld", "metaworld", METAWORLD_MT10)
    task_names = list(metaworld.env_dict.MT10_V3)

    def make_task_env(task: str) -> gym.Env:
        variations = _goal_variations(METAWORLD_MT10, task, seed, goal_observable)
        return _make_metaworld_env(variations, steps, resample_goal=True)

    return MultiTaskEnv(make_task_env, task_names)
