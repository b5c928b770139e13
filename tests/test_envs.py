"""Tests for rllib_embed.envs: spaces, dynamics, validation and registration."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from ray.tune.registry import ENV_CREATOR, _global_registry

from rllib_embed.envs import (
    ENV_IDS,
    OBS_KEY,
    TASK_KEY,
    GridGoalEnv,
    MultiTaskEnv,
    PointGoalEnv,
    goals_on_circle,
    grid_corner_goals,
    make_grid_goals,
    make_point_goals,
    register_envs,
)

UP, DOWN, LEFT, RIGHT = range(4)


# --- spaces -------------------------------------------------------------------


def test_point_goal_env_spaces():
    env = PointGoalEnv((1.0, 0.0))
    assert env.observation_space == gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32)


def test_grid_goal_env_spaces():
    env = GridGoalEnv((0, 0))
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (2,), np.float32)
    assert env.action_space == gym.spaces.Discrete(4)


@pytest.mark.parametrize("creator", [make_point_goals, make_grid_goals])
def test_multi_task_spaces(creator):
    env = creator({"num_tasks": 3})
    space = env.observation_space
    assert isinstance(space, gym.spaces.Dict)
    assert list(space.keys()) == [OBS_KEY, TASK_KEY] == ["obs", "task"]
    assert space[OBS_KEY] == env.task_env.observation_space
    assert space[TASK_KEY] == gym.spaces.Box(0.0, 1.0, (3,), np.float32)
    assert env.action_space == env.task_env.action_space
    assert env.num_tasks == 3 and len(env.tasks) == 3 and isinstance(env.tasks, tuple)
    obs, _ = env.reset(seed=0)
    assert space.contains(obs)


# --- MultiTaskEnv ---------------------------------------------------------------


def test_one_hot_per_task_and_fresh_arrays():
    env = make_point_goals({"num_tasks": 4})
    seen = []
    for k in range(4):
        env.set_task(k)
        assert env.task_index == k
        assert tuple(env.task_env.goal) == pytest.approx(env.tasks[k])
        obs, info = env.reset(seed=k)
        assert info["task_index"] == k
        assert obs[TASK_KEY].dtype == np.float32
        np.testing.assert_array_equal(obs[TASK_KEY], np.eye(4, dtype=np.float32)[k])
        obs2, _, _, _, step_info = env.step(np.zeros(2, np.float32))
        assert step_info["task_index"] == k
        assert obs2[TASK_KEY] is not obs[TASK_KEY]
        seen.append(obs[TASK_KEY])
    # Mutating one returned one-hot must not leak into the next.
    seen[0][:] = 7.0
    obs, _ = env.reset()
    np.testing.assert_array_equal(obs[TASK_KEY], np.eye(4, dtype=np.float32)[3])


def test_initial_task_index():
    env = make_grid_goals({"task_index": 2})
    assert env.task_index == 2
    assert env.task_env.goal == (4, 0)
    obs, _ = env.reset()
    assert obs[TASK_KEY].argmax() == 2


@pytest.mark.parametrize("bad", [-1, 4, 1.0, True])
def test_set_task_range_error_names_field(bad):
    env = make_point_goals()
    with pytest.raises(ValueError, match=r"task_index.*\[0, 3\]"):
        env.set_task(bad)
    assert env.task_index == 0


def test_set_task_closes_old_env_and_checks_spaces():
    closed = []

    class Inner(GridGoalEnv):
        def close(self):
            closed.append(self.goal)

    def make(task):
        if task == "bad":
            return PointGoalEnv((0.0, 0.0))
        return Inner(task)

    env = MultiTaskEnv(make, [(0, 0), (0, 4), "bad"])
    env.set_task(1)
    assert closed == [(0, 0)]
    with pytest.raises(ValueError, match=r"task 2 \('bad'\)"):
        env.set_task(2)
    assert env.task_index == 1 and env.task_env.goal == (0, 4)
    env.close()
    assert closed == [(0, 0), (0, 4)]


def test_empty_tasks_rejected():
    with pytest.raises(ValueError, match="non-empty"):
        MultiTaskEnv(PointGoalEnv, [])


def _rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    trace = [obs[OBS_KEY]]
    for action in actions:
        obs, reward, *_ = env.step(action)
        trace += [obs[OBS_KEY], reward]
    return trace


def test_seeded_reset_and_step_are_deterministic():
    actions = np.random.default_rng(0).uniform(-1, 1, (10, 2)).astype(np.float32)
    a = _rollout(make_point_goals(), 3, actions)
    b = _rollout(make_point_goals(), 3, actions)
    c = _rollout(make_point_goals(), 4, actions)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_switched_task_env_is_seeded_from_wrapper():
    starts = []
    for _ in range(2):
        env = make_point_goals()
        env.reset(seed=11)
        env.set_task(2)
        obs, _ = env.reset()  # no seed: derived from the wrapper's seeded rng
        starts.append(obs[OBS_KEY])
    np.testing.assert_array_equal(starts[0], starts[1])


@pytest.mark.parametrize("creator", [make_point_goals, make_grid_goals])
def test_check_env(creator):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Unbounded PointGoals positions are intended; no spec without gym.make.
        warnings.filterwarnings("ignore", message=".*infinity")
        warnings.filterwarnings("ignore", message=".*not having a spec")
        check_env(creator({"num_tasks": 3}))


# --- PointGoals -------------------------------------------------------------------


def test_goals_on_circle():
    goals = goals_on_circle(4, radius=2.0)
    expected = [(2, 0), (0, 2), (-2, 0), (0, -2)]
    for goal, exp in zip(goals, expected, strict=True):
        assert goal == pytest.approx(exp, abs=1e-12)


@pytest.mark.parametrize("k", range(4))
def test_point_straight_to_goal_succeeds(k):
    env = make_point_goals({"task_index": k})
    obs, info = env.reset(seed=0)
    assert not info["success"]
    goal = np.asarray(env.tasks[k])
    rewards, successes = [], []
    for _ in range(50):
        direction = goal - obs[OBS_KEY]
        # Unit steps while far (to the max_step speed), then land on the goal.
        action = direction / max(np.linalg.norm(direction), 0.1) * min(
            1.0, np.linalg.norm(direction) / 0.1
        )
        obs, reward, terminated, truncated, info = env.step(action.astype(np.float32))
        assert not terminated
        assert reward == pytest.approx(-info["distance"])
        assert info["distance"] == pytest.approx(np.linalg.norm(obs[OBS_KEY] - goal), abs=1e-6)
        rewards.append(reward)
        successes.append(info["success"])
        if info["success"]:
            break
    assert successes[-1], "never reached the goal within episode_len"
    assert len(successes) < 50
    assert all(b > a for a, b in zip(rewards, rewards[1:]))


def test_point_truncates_at_episode_len():
    env = make_point_goals({"episode_len": 5})
    env.reset(seed=0)
    for t in range(1, 6):
        _, _, terminated, truncated, _ = env.step(np.zeros(2, np.float32))
        assert not terminated
        assert truncated == (t == 5)


def test_point_action_is_clipped():
    env = PointGoalEnv((1.0, 0.0), start_noise=0.0, max_step=0.1)
    env.reset(seed=0)
    obs, reward, *_ = env.step(np.array([5.0, -3.0], np.float32))
    np.testing.assert_allclose(obs, [0.1, -0.1], atol=1e-7)
    assert reward == pytest.approx(-math.hypot(0.9, 0.1))


def test_point_start_noise():
    env = PointGoalEnv((1.0, 0.0), start_noise=0.05)
    starts = np.array([env.reset(seed=s)[0] for s in range(20)])
    assert np.all(np.abs(starts) <= 0.05)
    assert np.ptp(starts[:, 0]) > 0
    quiet = PointGoalEnv((1.0, 0.0), start_noise=0.0)
    np.testing.assert_array_equal(quiet.reset(seed=1)[0], [0.0, 0.0])


def test_point_sparse_reward_pays_only_within_tolerance():
    # Goal 0.35 away along x, tolerance 0.2, steps of 0.1: distance 0.25, 0.15, 0.05,
    # 0.05 (past it), 0.05 (back), then sideways 0.11 and 0.21 and 0.30.
    env = make_point_goals({"goals": [[0.35, 0.0]], "max_step": 0.1, "start_noise": 0.0,
                            "goal_tolerance": 0.2, "reward": "sparse"})
    env.reset(seed=0)
    rewards, successes = [], []
    for action in ([1, 0], [1, 0], [1, 0], [1, 0], [-1, 0], [0, 1], [0, 1], [0, 1]):
        _, reward, terminated, truncated, info = env.step(np.array(action, np.float32))
        assert not terminated and not truncated
        rewards.append(reward)
        successes.append(info["success"])
    assert rewards == [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert rewards == [float(s) for s in successes]  # sparse reward = success of the step
    dense = make_point_goals({"goals": [[0.3, 0.0]], "start_noise": 0.0})  # the default stays dense
    dense.reset(seed=0)
    assert dense.step(np.zeros(2, np.float32))[1] == pytest.approx(-0.3)


def test_point_explicit_goals():
    env = make_point_goals({"goals": [[0.5, 0.5], [-1, 2]], "task_index": 1})
    assert env.num_tasks == 2 and env.tasks == ((0.5, 0.5), (-1.0, 2.0))
    np.testing.assert_array_equal(env.task_env.goal, [-1.0, 2.0])


# --- GridGoals ----------------------------------------------------------------------


def test_grid_corner_goals():
    assert grid_corner_goals(4, 5) == [(0, 0), (0, 4), (4, 0), (4, 4)]
    assert grid_corner_goals(8, 5)[4:] == [(0, 2), (2, 0), (2, 4), (4, 2)]
    all_cells = grid_corner_goals(8, 3)
    assert len(set(all_cells)) == 8 and (1, 1) not in all_cells
    assert len(set(grid_corner_goals(24, 5))) == 24
    with pytest.raises(ValueError, match="num_tasks"):
        grid_corner_goals(9, 3)


def _path_to(goal, size):
    centre = size // 2
    d_row, d_col = goal[0] - centre, goal[1] - centre
    return [DOWN if d_row > 0 else UP] * abs(d_row) + [RIGHT if d_col > 0 else LEFT] * abs(d_col)


@pytest.mark.parametrize("k", range(4))
def test_grid_scripted_path_reaches_each_corner(k):
    env = make_grid_goals({"task_index": k})
    obs, info = env.reset(seed=0)
    np.testing.assert_array_equal(obs[OBS_KEY], [0.5, 0.5])
    assert not info["success"]
    path = _path_to(env.tasks[k], 5)
    for i, action in enumerate(path):
        obs, reward, terminated, truncated, info = env.step(action)
        last = i == len(path) - 1
        assert terminated == last and info["success"] == last
        assert reward == (1.0 if last else -0.05)
        assert not truncated
    np.testing.assert_array_equal(obs[OBS_KEY], np.asarray(env.tasks[k], np.float32) / 4)


def test_grid_walls_and_truncation():
    env = GridGoalEnv((0, 0), size=3, episode_len=4)
    env.reset()
    obs, *_ = env.step(RIGHT)
    np.testing.assert_array_equal(obs, [0.5, 1.0])
    obs, reward, terminated, truncated, info = env.step(RIGHT)  # into the wall
    np.testing.assert_array_equal(obs, [0.5, 1.0])
    assert (reward, terminated, truncated, info["success"]) == (-0.05, False, False, False)
    env.step(DOWN)
    obs, _, terminated, truncated, _ = env.step(DOWN)  # bottom wall, 4th step
    np.testing.assert_array_equal(obs, [1.0, 1.0])
    assert truncated and not terminated


# --- env_config validation -------------------------------------------------------------


@pytest.mark.parametrize(
    "creator, name, allowed",
    [
        (make_point_goals, "PointGoals", "episode_len, goal_tolerance, goals, max_step"),
        (make_grid_goals, "GridGoals", "episode_len, goals, num_tasks, size, task_index"),
    ],
)
def test_unknown_key_rejected(creator, name, allowed):
    message = rf"{name} env_config: unknown key 'foo'; allowed keys: {allowed}"
    with pytest.raises(ValueError, match=message):
        creator({"foo": 1})


@pytest.mark.parametrize(
    "config, key",
    [
        ({"num_tasks": 0}, "num_tasks"),
        ({"num_tasks": 2.0}, "num_tasks"),
        ({"radius": 0.0}, "radius"),
        ({"radius": "big"}, "radius"),
        ({"episode_len": 0}, "episode_len"),
        ({"max_step": -0.1}, "max_step"),
        ({"goal_tolerance": math.inf}, "goal_tolerance"),
        ({"start_noise": -1}, "start_noise"),
        ({"goals": []}, "goals"),
        ({"goals": [[1.0, 2.0, 3.0]]}, "goals"),
        ({"goals": [[1.0, "x"]]}, "goals"),
        ({"goals": [[1, 0], [0, 1]], "num_tasks": 3}, "num_tasks"),
        ({"task_index": 4}, "task_index"),
        ({"task_index": -1}, "task_index"),
        ({"reward": "shaped"}, "reward"),
        ({"reward": None}, "reward"),
    ],
)
def test_point_bad_values_rejected(config, key):
    with pytest.raises(ValueError, match=rf"PointGoals env_config: '{key}'"):
        make_point_goals(config)


@pytest.mark.parametrize(
    "config, key",
    [
        ({"size": 2}, "size"),
        ({"num_tasks": 0}, "num_tasks"),
        ({"num_tasks": 25}, "num_tasks"),
        ({"episode_len": 0}, "episode_len"),
        ({"goals": [[0, 5]]}, "goals"),
        ({"goals": [[2, 2]]}, "goals"),
        ({"goals": [[0.0, 1.0]]}, "goals"),
        ({"goals": [[0, 0]], "num_tasks": 2}, "num_tasks"),
        ({"task_index": 4}, "task_index"),
    ],
)
def test_grid_bad_values_rejected(config, key):
    with pytest.raises(ValueError, match=rf"GridGoals env_config: '{key}'"):
        make_grid_goals(config)


class _EnvContext(dict):
    """Stands in for RLlib's EnvContext (a dict with extra attributes) without
    importing RLlib, which would take most of this file's time budget."""

    worker_index = 1
    num_workers = 2
    vector_index = 0


def test_creators_accept_rllib_env_context():
    env = make_point_goals(_EnvContext({"num_tasks": 2, "radius": 0.5}))
    assert env.num_tasks == 2 and env.tasks[0] == pytest.approx((0.5, 0.0))
    assert make_grid_goals(None).num_tasks == 4


# --- registration -------------------------------------------------------------------------


def test_gym_make_after_import():
    env = gym.make("rllib_embed/PointGoals-v0", num_tasks=3)
    assert env.observation_space[TASK_KEY].shape == (3,)
    assert isinstance(env.unwrapped, MultiTaskEnv)
    grid = gym.make("rllib_embed/GridGoals-v0", size=7)
    assert grid.unwrapped.task_env.size == 7


def test_registered_with_ray_tune_and_idempotent():
    register_envs()  # a second call must not raise
    for env_id, creator in ENV_IDS.items():
        assert env_id in gym.registry
        assert _global_registry.contains(ENV_CREATOR, env_id)
        registered = _global_registry.get(ENV_CREATOR, env_id)({})
        direct = creator({})
        assert isinstance(registered, MultiTaskEnv) and registered.observation_space == direct.observation_space
        registered.close()
        direct.close()


# --- the baselines' view: flat_obs ------------------------------------------


def test_flat_obs_appends_the_task_and_cycles_tasks_per_reset():
    import gymnasium as gym
    env = gym.make("rllib_embed/PointGoals-v0", num_tasks=3, flat_obs=True)
    assert env.observation_space.shape == (2 + 3,)
    seen = []
    for _ in range(6):
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert obs[2:].sum() == 1.0 and obs[2 + info["task_index"]] == 1.0
        seen.append(info["task_index"])
    assert seen == [0, 1, 2, 0, 1, 2]
    env.unwrapped  # the MultiTaskEnv is still reachable
    env.get_wrapper_attr("set_task")(2)
    assert {env.reset()[1]["task_index"] for _ in range(3)} == {2}


def test_flat_obs_copies_start_at_different_tasks():
    from ray.rllib.env.env_context import EnvContext
    from ray.tune.registry import ENV_CREATOR, _global_registry
    creator = _global_registry.get(ENV_CREATOR, "rllib_embed/PointGoals-v0")
    starts = {creator(EnvContext({"num_tasks": 4, "flat_obs": True}, worker_index=0, vector_index=v)).reset()[1]["task_index"]
              for v in range(4)}
    assert starts == {0, 1, 2, 3}


def test_flat_obs_must_be_a_bool():
    import gymnasium as gym
    with pytest.raises(ValueError, match="flat_obs"):
        gym.make("rllib_embed/PointGoals-v0", flat_obs="yes")
