"""Issue 12 section 7: one bad env step neither stops nor silently skews training.

An env that raises is recreated with its task (EmbedPG's default
restart_failed_sub_environments=True), counted in env_runners/num_env_step_failures; an env
that always raises stops with one error; NaN/inf observations and rewards are refused
where they enter, naming the env and the task."""

import gymnasium as gym
import numpy as np
import pytest
from ray.tune.registry import register_env

from rllib_embed import EmbedPGConfig
from rllib_embed.envs import MultiTaskEnv
from rllib_embed.envs.point_goals import PointGoalEnv

GOALS = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]
_FAULTS = {"raised": 0}


class _FaultyGoal(gym.Wrapper):
    """PointGoalEnv that, for one task, does `fault` at step `at` of its first episode(s)."""

    def __init__(self, env, fault, at, always):
        super().__init__(env)
        self.fault, self.at, self.always, self.t = fault, at, always, 0

    def reset(self, **kwargs):
        self.t = 0
        obs, info = self.env.reset(**kwargs)
        if self.fault == "nan_reset_obs":
            obs = np.full_like(obs, np.nan)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.t == self.at:
            if self.fault == "raise" and (self.always or _FAULTS["raised"] == 0):
                _FAULTS["raised"] += 1
                raise RuntimeError("simulated env crash")
            if self.fault == "nan_obs":
                obs = obs.copy()
                obs[0] = np.nan
            if self.fault == "nan_reward":
                reward = float("nan")
            if self.fault == "inf_reward":
                reward = float("-inf")
        return obs, reward, terminated, truncated, info


def _creator(fault, faulty_task, at=7, always=False):
    """A registered env id (RLlib takes creators by name) whose task `faulty_task` has `fault`."""
    def create(env_config):
        return MultiTaskEnv(lambda goal: _FaultyGoal(PointGoalEnv(goal), fault if goal == GOALS[faulty_task] else None,
                                                     at, always), GOALS)
    name = f"test/Faulty-{fault}-{faulty_task}-{at}-{always}"
    register_env(name, create)
    return name


def _algo(creator, copies=1):
    return (EmbedPGConfig().environment(creator)
            .env_runners(num_env_runners=0, rollout_fragment_length=10)
            .training(copies_per_task=copies, policy_hiddens=[16], inference_hiddens=[16], value_hiddens=[16])
            .debugging(seed=0)).build_algo()


def test_an_env_that_raises_once_is_recreated_with_its_task_and_counted(ray_session):
    _FAULTS["raised"] = 0
    algo = _algo(_creator("raise", faulty_task=1), copies=2)
    try:
        runner = algo.env_runner
        assignment = list(runner.task_assignment)
        results = [algo.train() for _ in range(3)]
        assert _FAULTS["raised"] == 1
        assert results[-1]["env_runners"]["num_env_step_failures"] == 1
        assert results[-1]["num_env_steps_sampled_lifetime"] >= 3 * 6 * 10  # every round whole
        # The recreated envs host the same K x D mapping as before.
        assert runner.task_assignment == assignment == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
        assert [env.unwrapped.task_index for env in runner.env.unwrapped.envs] == [0, 0, 1, 1, 2, 2]
    finally:
        algo.stop()


def test_an_env_that_always_raises_stops_with_one_error_naming_it(ray_session):
    algo = (EmbedPGConfig().environment(_creator("raise", faulty_task=2, at=3, always=True))
            .env_runners(num_env_runners=0, rollout_fragment_length=10)
            .fault_tolerance(num_consecutive_env_runner_failures_tolerance=3)
            .training(policy_hiddens=[16], inference_hiddens=[16], value_hiddens=[16])).build_algo()
    try:
        with pytest.raises(Exception, match=r"step\(\) raised 4 times in one sample\(\) call, more than "
                                            r"num_consecutive_env_runner_failures_tolerance=3"):
            algo.train()
    finally:
        algo.stop()


@pytest.mark.parametrize("fault, what, where", [
    ("nan_obs", "observation", "step"),
    ("nan_reward", "reward", "step"),
    ("inf_reward", "reward", "step"),
    ("nan_reset_obs", "observation", "reset"),
])
def test_non_finite_env_data_is_refused_naming_env_and_task(ray_session, fault, what, where):
    algo = _algo(_creator(fault, faulty_task=2))
    try:
        with pytest.raises(Exception, match=rf"task 2 \(copy 0; env runner 0, vector index 2\) returned a "
                                            rf"non-finite {what} from {where}\(\)"):
            for _ in range(2):
                algo.train()
    finally:
        algo.stop()
