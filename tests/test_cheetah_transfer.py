"""Transfer on the cheetah: the new-task env, zero-shot skills, the search over z, and the
shipped HalfCheetahVel skills (examples/skills/halfcheetah_vel) reused on a held-out speed."""

import os

import gymnasium as gym
import numpy as np
import pytest
import torch

from rllib_embed.embed_pg.env_factory import make_env
from rllib_embed.envs.cheetah_speed_schedule import ENV_ID, TARGET_KEY, make_cheetah_speed_schedule, speed_error
from rllib_embed.transfer import (SKILL_SPACE_ENV_ID, cross_entropy_method, load_skills, rollout, search_skill,
                                  skill_box, skill_for_value, task_embeddings)

SKILLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "skills",
                      "halfcheetah_vel")
TRAINED_SPEEDS = [0.5, 1.0, 1.5, 2.0]
HELD_OUT = {"schedule": [[0, 1.25]]}


# --- the env -------------------------------------------------------------------------------------


def test_the_target_follows_the_schedule_and_the_reward_is_cheetah_vel():
    env = gym.make(ENV_ID, schedule=[[0, 0.5], [3, -1.0]], max_episode_steps=6)
    obs, info = env.reset(seed=0)
    assert env.observation_space["obs"].shape == (17,) and obs[TARGET_KEY].tolist() == [0.5]
    assert info[TARGET_KEY] == 0.5
    targets, truncated = [], False
    while not truncated:
        action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        targets.append(info[TARGET_KEY])
        ctrl = -0.05 * float(np.square(action).sum())
        assert reward == pytest.approx(-abs(info["x_velocity"] - info[TARGET_KEY]) + ctrl, rel=1e-5)
        assert not terminated
    assert targets == [0.5, 0.5, 0.5, -1.0, -1.0, -1.0]
    assert obs[TARGET_KEY].tolist() == [-1.0]


def test_flat_obs_appends_the_target_to_the_cheetahs_observation():
    env = make_cheetah_speed_schedule({**HELD_OUT, "flat_obs": True})
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == (18,) and obs.shape == (18,) and obs[-1] == pytest.approx(1.25)


@pytest.mark.parametrize("env_config, key", [
    ({"schedule": [[1, 1.0]]}, "schedule"),
    ({"schedule": [[0, 1.0], [0, 2.0]]}, "schedule"),
    ({"schedule": [[0, 1.0], [300, 2.0]]}, "schedule"),
    ({"schedule": [[0, float("nan")]]}, "schedule"),
    ({"schedule": [[0, 11.0]]}, "schedule"),
    ({"schedule": []}, "schedule"),
    ({"schedule": "fast"}, "schedule"),
    ({"max_episode_steps": 0}, "max_episode_steps"),
    ({"flat_obs": "yes"}, "flat_obs"),
    ({"speed": 1.0}, "speed"),
])
def test_a_bad_env_config_is_refused_naming_the_key(env_config, key):
    with pytest.raises(ValueError, match=f"'{key}'") as error:
        make_cheetah_speed_schedule(env_config)
    assert "\n" not in str(error.value) and ENV_ID in str(error.value)


def test_speed_error_is_the_mean_over_stretches_after_settling():
    velocities = [0.0] * 40 + [1.0] * 60 + [0.0] * 40 + [2.0] * 60
    assert speed_error(velocities, [1.0] * 100 + [1.5] * 100) == pytest.approx(0.25)
    assert speed_error([1.0, 3.0], [1.0, 1.0]) == pytest.approx(1.0)  # shorter than settling: all of it
    with pytest.raises(ValueError, match="x_velocities"):
        speed_error([1.0], [1.0, 1.0])


# --- zero-shot skills and the search -------------------------------------------------------------


MEANS = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])


def test_skill_for_value_blends_the_two_nearest_trained_tasks():
    values = [0.5, 1.0, 2.0]
    for k, v in enumerate(values):
        np.testing.assert_allclose(skill_for_value(MEANS, values, v), MEANS[k])
    np.testing.assert_allclose(skill_for_value(MEANS, values, 0.75), [0.5, 0.0])
    np.testing.assert_allclose(skill_for_value(MEANS, values, 1.5), [1.0, 1.0])
    np.testing.assert_allclose(skill_for_value(MEANS, values, 2.5), [1.0, 3.0])  # beyond: the outer line
    np.testing.assert_allclose(skill_for_value(MEANS, values, 0.0), [-1.0, 0.0])
    np.testing.assert_allclose(skill_for_value(MEANS[::-1], values[::-1], 0.75), [0.5, 0.0])  # any order
    np.testing.assert_allclose(skill_for_value(MEANS[:1], [3.0], 7.0), MEANS[0])


@pytest.mark.parametrize("values, value", [([0.5, 0.5, 1.0], 1.0), ([0.5, 1.0], 1.0), ([0.5, 1.0, 2.0], np.nan)])
def test_skill_for_value_refuses_bad_numbers(values, value):
    with pytest.raises(ValueError, match="skill_for_value"):
        skill_for_value(MEANS, values, value)


def test_the_cross_entropy_method_finds_a_maximum_inside_the_box_within_its_budget():
    optimum = np.array([0.6, -0.3, 0.2])
    calls = []

    def objective(z):
        calls.append(z)
        return -float(np.square(z - optimum).sum())

    low, high = -np.ones(3), np.array([1.0, 1.0, 0.125])  # the optimum's last coordinate is outside
    result = cross_entropy_method(objective, np.zeros(3), np.full(3, 0.5), low, high, evaluations=60,
                                  population=10, elites=3, seed=0)
    assert len(calls) == 60 and result.episodes == 60 and len(result.evaluations) == 60
    assert all(np.all(z >= low) and np.all(z <= high) for z in calls)
    np.testing.assert_allclose(result.skill, [0.6, -0.3, 0.125], atol=0.1)
    assert result.episode_return == max(score for _, score in result.evaluations)
    assert result.evaluations[result.index][1] == result.episode_return
    np.testing.assert_array_equal(calls[0], np.zeros(3, np.float32))  # starts at the given mean


def test_the_cross_entropy_method_refuses_a_bad_budget():
    with pytest.raises(ValueError, match="elites"):
        cross_entropy_method(lambda z: 0.0, np.zeros(1), np.ones(1), -np.ones(1), np.ones(1), population=2, elites=3)


# --- the shipped skills --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def skills():
    torch.set_num_threads(1)
    return load_skills(SKILLS)


def held_out_return(module, z, seed=0):
    env = make_env(ENV_ID, HELD_OUT)
    try:
        return rollout(module, env, z, seed=seed)
    finally:
        env.close()


def test_the_shipped_skills_load_from_plain_files_and_run_their_trained_speeds(skills):
    assert sorted(os.listdir(SKILLS)) == ["README.md", "embed_pg_module.json", "embed_pg_weights.pt"]
    means, _ = task_embeddings(skills)
    assert means.shape == (4, skills.latent_dim)
    for k, speed in enumerate(TRAINED_SPEEDS):
        env = make_env(ENV_ID, {"schedule": [[0, speed]]})
        run = rollout(skills, env, means[k], seed=0)
        env.close()
        error = speed_error(run.info_values("x_velocity"), run.info_values(TARGET_KEY))
        assert error < 0.35, (speed, error)


def test_the_zero_shot_skill_for_a_held_out_speed_beats_the_worst_trained_skill(skills):
    means, _ = task_embeddings(skills)
    low, high = skill_box(skills)
    z = skill_for_value(means, TRAINED_SPEEDS, 1.25)
    assert np.all(z >= low) and np.all(z <= high)
    zero_shot = held_out_return(skills, z).episode_return
    trained = [held_out_return(skills, mu).episode_return for mu in means]
    assert zero_shot > min(trained), (zero_shot, trained)
    run = held_out_return(skills, z)
    assert speed_error(run.info_values("x_velocity"), run.info_values(TARGET_KEY)) < 0.35


def test_the_search_returns_a_skill_in_the_box_at_least_as_good_as_its_start(skills):
    means, _ = task_embeddings(skills)
    start = skill_for_value(means, TRAINED_SPEEDS, 1.25)
    result = search_skill(skills, ENV_ID, HELD_OUT, episodes=12, start=start, seed=0)
    low, high = skill_box(skills)
    assert result.episodes == 12 and np.all(result.skill >= low) and np.all(result.skill <= high)
    assert result.episode_return >= held_out_return(skills, start).episode_return - 1e-6
    again = held_out_return(skills, result.skill, seed=result.env_seed)
    assert result.episode_return == pytest.approx(again.episode_return, rel=1e-6)


def test_the_search_scores_episodes_as_asked(skills):
    def error(run):
        return speed_error(run.info_values("x_velocity"), run.info_values(TARGET_KEY))

    means, _ = task_embeddings(skills)
    start = skill_for_value(means, TRAINED_SPEEDS, 1.25)
    result = search_skill(skills, ENV_ID, HELD_OUT, episodes=12, start=start, seed=0, score=lambda run: -error(run))
    assert -result.episode_return <= error(held_out_return(skills, start)) + 1e-9
    again = held_out_return(skills, result.skill, seed=result.env_seed)
    assert -result.episode_return == pytest.approx(error(again), rel=1e-6)


def test_skill_space_env_drives_the_shipped_skills_on_the_new_task():
    env = gym.make(SKILL_SPACE_ENV_ID, checkpoint=SKILLS, env=ENV_ID, env_config=HELD_OUT, hold_steps=10)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (18,) and obs[-1] == pytest.approx(1.25)  # obs ++ target: the high level's view
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert info["low_level_steps"] == 10 and reward < 0


@pytest.mark.slow
def test_the_example_measures_zero_shot_and_search_and_writes_its_table(tmp_path):
    import json
    import subprocess
    import sys

    example = os.path.join(os.path.dirname(SKILLS), os.pardir, "transfer_cheetah.py")
    for step in (["skills", "--speeds", "1.25", "--episodes", "6"], ["table"]):
        done = subprocess.run([sys.executable, example, *step, "--out", str(tmp_path)], capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "skills.json") as f:
        results = json.load(f)
    (row,) = results["speeds"]
    assert row["search_episodes"] == 6 and row["search"]["speed_error"] <= row["zero_shot"]["speed_error"] + 0.05
    assert len(results["sweep"]["targets"]) == len(results["sweep"]["speeds"]) == 21
    assert "| 1.25 |" in (tmp_path / "transfer_cheetah.md").read_text()
    assert (tmp_path / "transfer_cheetah.png").stat().st_size > 0
