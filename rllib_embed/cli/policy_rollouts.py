"""Per-task evaluation of any RLlib algorithm's policy (PPO, SAC, ... on flat_obs envs).

RLlib's own `SingleAgentEnvRunner`, built in-process from the checkpoint's config, runs
the episodes, so the checkpoint's connectors (observation filters, action unsquashing
and clipping) apply exactly as in training. For a multi-task env each task is pinned in
turn with `set_task(k)` (the flat_obs wrapper's, which also stops its task cycling).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping

import numpy as np


def evaluate_policy(config, checkpoint: str, module, env_config: Mapping[str, Any], episodes: int,
                    seed: int, explore: bool = False) -> List[Dict[str, Any]]:
    """[{"task", "episode_return_mean", "success_mean" (where info has it), "episodes"}, ...];
    task None for a single-task env. Actions: deterministic, or sampled (`explore`)."""
    def restore(runner):
        runner.restore_from_path(os.path.join(checkpoint, "env_runner"))  # connector states
        runner.module.set_state(module.get_state(inference_only=runner.module.inference_only))
    return _evaluate(config, restore, env_config, episodes, seed, explore)


def evaluate_live_policy(algo, episodes: int, seed: int, explore: bool = False,
                         env_config: Mapping[str, Any] | None = None) -> List[Dict[str, Any]]:
    """`evaluate_policy` of a live algorithm with a local env runner (num_env_runners=0):
    its module weights and connector statistics (e.g. MeanStdFilter's) as they are now."""
    state = algo.env_runner.get_state()
    return _evaluate(algo.config, lambda runner: runner.set_state(state),
                     algo.config.env_config if env_config is None else env_config, episodes, seed, explore)


def _evaluate(config, restore, env_config: Mapping[str, Any], episodes: int, seed: int,
              explore: bool) -> List[Dict[str, Any]]:
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    config = config.copy(copy_frozen=False)
    config.environment(env_config=dict(env_config))
    config.env_runners(num_env_runners=0, num_envs_per_env_runner=1)
    config.debugging(seed=seed)
    runner = SingleAgentEnvRunner(config=config)
    try:
        restore(runner)
        env = runner.env.unwrapped.envs[0]
        num_tasks = _wrapper_attr(env, "num_tasks")
        tasks = list(range(num_tasks)) if num_tasks and _wrapper_attr(env, "set_task") else [None]
        rows = []
        for task in tasks:
            if task is not None:
                env.get_wrapper_attr("set_task")(task)
            done = runner.sample(num_episodes=episodes, explore=explore, force_reset=True)
            row = {"task": task, "episode_return_mean": float(np.mean([e.get_return() for e in done])),
                   "episodes": len(done)}
            successes = [float(e.get_infos(-1)["success"]) for e in done if "success" in e.get_infos(-1)]
            if successes:
                row["success_mean"] = float(np.mean(successes))
            rows.append(row)
        return rows
    finally:
        runner.stop()


def _wrapper_attr(env, name: str):
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None
