"""PointGoalSequence: goals visited in order, the distance-to-go reward, config checks, registration."""

import gymnasium as gym
import numpy as np
import pytest

from rllib_embed.envs import MultiTaskEnv, PointGoalSequenceEnv, make_point_goal_sequence


def _drive(env, targets_for_stage, steps):
    obs, info = env.reset(seed=0)
    rewards = []
    for _ in range(steps):
        position = obs["obs"] if isinstance(obs, dict) else obs
        target = np.asarray(targets_for_stage(info["stage"]))
        obs, reward, terminated, truncated, info = env.step(np.clip((target - position) / 0.2, -1, 1))
        rewards.append(reward)
    return info, rewards, truncated


def test_visiting_both_goals_in_order_succeeds():
    env = PointGoalSequenceEnv([(1.0, 0.0), (0.0, 1.0)], episode_len=25)
    info, rewards, truncated = _drive(env, lambda stage: [(1.0, 0.0), (0.0, 1.0)][stage], 25)
    assert truncated and info["success"] and info["stage"] == 1
    assert all(r <= 0 for r in rewards) and rewards[-1] > -0.2


def test_going_straight_to_the_second_goal_does_not_succeed():
    env = PointGoalSequenceEnv([(1.0, 0.0), (0.0, 1.0)], episode_len=25)
    info, rewards, _ = _drive(env, lambda stage: (0.0, 1.0), 25)
    assert not info["success"] and info["stage"] == 0
    # Distance still to go: back to goal 1 (sqrt 2) plus the leg to goal 2 (sqrt 2).
    assert rewards[-1] == pytest.approx(-2 * np.sqrt(2), abs=0.05)


def test_creator_defaults_circle_tasks_and_checks():
    env = make_point_goal_sequence()
    assert isinstance(env, MultiTaskEnv) and env.num_tasks == 1
    np.testing.assert_allclose(env.tasks[0], [(1, 0), (0, 1)], atol=1e-12)
    assert env.observation_space["obs"] == gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    three = make_point_goal_sequence({"num_tasks": 3, "circle_goals": 4})
    np.testing.assert_allclose(three.tasks[2], [(-1, 0), (0, -1)], atol=1e-12)
    with pytest.raises(ValueError, match="'goals' must list at least 2 goals"):
        make_point_goal_sequence({"goals": [[1, 0]]})
    with pytest.raises(ValueError, match=r"'num_tasks' must be an int in \[1, 4\]"):
        make_point_goal_sequence({"num_tasks": 5})
    with pytest.raises(ValueError, match="unknown key 'goal'"):
        make_point_goal_sequence({"goal": [[1, 0], [0, 1]]})


def test_registered_with_the_baselines_view():
    env = gym.make("rllib_embed/PointGoalSequence-v0", flat_obs=True)
    assert env.observation_space.shape == (3,)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info["stage"] == 0
