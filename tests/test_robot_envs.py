"""The robot task suites: gymnasium MuJoCo families and Meta-World MT1 / MT10.

Each family is built, reset and stepped through the K x D mapping with remote env
runners, and EmbedPG trains on it with the task id kept from the policy. The
simulators are the extras rllib-embed[mujoco] and rllib-embed[metaworld], which
install.sh installs (these tests are not skipped without them).
"""

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.evaluation import observation_normalizer
from rllib_embed.envs.metaworld_tasks import EpisodeSuccess, make_metaworld_mt1, make_metaworld_mt10
from rllib_embed.envs.mujoco_tasks import make_ant_dir, make_half_cheetah_dir, make_half_cheetah_vel

LATENT_DIM = 3
ROOT = Path(__file__).resolve().parents[1]  # this checkout's rllib_embed comes first on sys.path


# --- the task definitions ----------------------------------------------------


@pytest.mark.parametrize("module, extra, creator", [
    ("mujoco", "mujoco", make_half_cheetah_dir),
    ("mujoco", "mujoco", make_ant_dir),
    ("metaworld", "metaworld", make_metaworld_mt1),
    ("metaworld", "metaworld", make_metaworld_mt10),
])
def test_a_missing_simulator_names_the_extra_to_install(monkeypatch, module, extra, creator):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match=rf"pip install 'rllib-embed\[{extra}\]'"):
        creator({})


def test_the_package_and_its_other_envs_work_without_the_extras():
    code = ("import sys; sys.modules['mujoco'] = sys.modules['metaworld'] = None; "
            "import gymnasium as gym, rllib_embed; "
            "gym.make('rllib_embed/PointGoals-v0').reset(seed=0); "
            "assert 'rllib_embed/HalfCheetahDir-v0' in gym.registry")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("creator, env_config, field", [
    (make_half_cheetah_dir, {"max_episode_steps": 0}, "max_episode_steps"),
    (make_half_cheetah_dir, {"num_goals": 2}, "num_goals"),
    (make_half_cheetah_vel, {"target_velocities": []}, "target_velocities"),
    (make_half_cheetah_vel, {"target_velocities": [1.0, 1.0]}, "target_velocities"),
    (make_ant_dir, {"num_tasks": 0}, "num_tasks"),
    (make_metaworld_mt1, {"task": "reach-v2"}, "task"),
    (make_metaworld_mt1, {"num_tasks": 51}, "num_tasks"),
    (make_metaworld_mt1, {"max_episode_steps": 501}, "max_episode_steps"),
    (make_metaworld_mt10, {"goal_observable": "yes"}, "goal_observable"),
])
def test_bad_env_config_is_refused_naming_the_field(creator, env_config, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        creator(env_config)


def _step_with(env, task, action, steps=5):
    env.set_task(task)
    env.reset(seed=0)
    for _ in range(steps):
        _, reward, _, _, info = env.step(action)
    return reward, info


def test_cheetah_rewards_are_reshaped_from_the_env_info():
    env = make_half_cheetah_dir({"max_episode_steps": 10})
    action = np.full(6, 0.5, np.float32)
    for task, direction in [(0, 1.0), (1, -1.0)]:
        reward, info = _step_with(env, task, action)
        assert reward == pytest.approx(direction * info["x_velocity"] - 0.05 * np.sum(action**2), rel=1e-5)
    env = make_half_cheetah_vel({"target_velocities": [0.5, 2.0]})
    reward, info = _step_with(env, 1, action)
    assert reward == pytest.approx(-abs(info["x_velocity"] - 2.0) + info["reward_ctrl"])


def test_ant_direction_reward_keeps_gymnasiums_costs_and_projects_the_velocity():
    env = make_ant_dir({"num_tasks": 4})
    action = np.linspace(-0.5, 0.5, 8).astype(np.float32)
    reward, info = _step_with(env, 1, action)  # task 1 of 4: walk along +y
    costs = info["reward_survive"] + info["reward_ctrl"] + info["reward_contact"]
    assert info["env_reward"] == pytest.approx(info["reward_forward"] + costs)  # gymnasium's own sum
    assert reward == pytest.approx(info["y_velocity"] + costs, abs=1e-9)
    assert env.observation_space["obs"].shape == (27,)


class _SucceedsOnceEnv(gym.Env):
    """Reports Meta-World-style per-step success only at step 2."""

    observation_space = gym.spaces.Box(-1, 1, (1,), np.float32)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(1, np.float32), 0.0, False, self.t == 4, {"success": float(self.t == 2)}


def test_metaworld_success_is_the_episodes_success_at_any_step():
    env = EpisodeSuccess(_SucceedsOnceEnv())
    env.reset()
    seen = [(info["success_now"], info["success"]) for info in (env.step(np.zeros(1))[-1] for _ in range(4))]
    assert seen == [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 1.0)]
    assert env.reset()[1]["success"] == 0.0  # a new episode starts unsuccessful


def test_metaworld_mt1_goals_are_distinct_tasks_and_the_observation_has_no_task_id():
    env = make_metaworld_mt1({"task": "reach-v3", "num_tasks": 3, "max_episode_steps": 5})
    goals = []
    for task in range(3):
        env.set_task(task)
        obs, info = env.reset(seed=0)
        # Meta-World's 39 numbers, without the one-hot its MT benchmarks append.
        assert obs["obs"].shape == (39,) and obs["obs"].dtype == np.float32
        assert obs["task"].tolist() == np.eye(3)[task].tolist()
        goals.append(obs["obs"][-3:].copy())  # the goal position (goal_observable, as in MT1)
    assert len({tuple(np.round(g, 4)) for g in goals}) == 3
    hidden = make_metaworld_mt1({"num_tasks": 2, "goal_observable": False})
    assert np.all(hidden.reset(seed=0)[0]["obs"][-3:] == 0.0)


# --- through EmbedPG: the K x D mapping on remote env runners -------------


FAMILIES = [
    # env id, env_config, K, D, runners, envs per runner, policy observation size
    ("rllib_embed/HalfCheetahDir-v0", {"max_episode_steps": 20}, 2, 1, 2, 1, 17),
    ("rllib_embed/HalfCheetahVel-v0", {"target_velocities": [1.0, 2.0], "max_episode_steps": 20}, 2, 1, 2, 1, 17),
    ("rllib_embed/AntDir-v0", {"num_tasks": 2, "max_episode_steps": 20}, 2, 1, 2, 1, 27),
    ("rllib_embed/MetaWorldMT1-v0", {"task": "reach-v3", "num_tasks": 2, "max_episode_steps": 20}, 2, 1, 2, 1, 39),
    ("rllib_embed/MetaWorldMT10-v0", {"max_episode_steps": 20}, 10, 1, 2, 5, 39),
]


@pytest.mark.parametrize("env, env_config, K, D, runners, envs_per_runner, obs_dim", FAMILIES,
                         ids=[f[0].split("/")[1] for f in FAMILIES])
@pytest.mark.slow
def test_family_trains_through_the_task_mapping_with_the_id_kept_from_the_policy(
        ray_session, env, env_config, K, D, runners, envs_per_runner, obs_dim):
    I = 10
    config = (EmbedPGConfig()
              .environment(env, env_config=env_config)
              .env_runners(num_env_runners=runners, num_envs_per_env_runner=envs_per_runner,
                           num_cpus_per_env_runner=0.25, rollout_fragment_length=I)
              .training(copies_per_task=D, latent_dim=LATENT_DIM, policy_hiddens=[16], inference_hiddens=[16],
                        value_hiddens=[16], value_epochs=1, normalize_observations=True)
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        # Each remote runner hosts its tasks of the K x D mapping (task k = g // D).
        hosted = dict(algo.env_runner_group.foreach_env_runner(
            lambda r: (r.worker_index, [e.unwrapped.task_index for e in r.env.unwrapped.envs]),
            local_env_runner=False))
        expected = {w: [((w - 1) * envs_per_runner + v) // D for v in range(envs_per_runner)]
                    for w in range(1, runners + 1)}
        assert hosted == expected
        for _ in range(2):  # 20-step episodes: the second iteration ends every env's first episode
            result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled"] == K * D * I
        tasks = result["env_runners"]["tasks"]
        assert {f"task_{k}" for k in range(K)} <= set(tasks)
        # One 20-step episode per env, sampled in two I=10 chunks: the per-task returns are
        # whole-episode returns, averaging to RLlib's own episode_return_mean.
        per_task = [tasks[f"task_{k}"]["episode_return_mean"] for k in range(K)]
        assert np.mean(per_task) == pytest.approx(result["env_runners"]["episode_return_mean"], rel=1e-4)
        if "MetaWorld" in env:  # Meta-World's success, per task
            assert all(0.0 <= tasks[f"task_{k}"]["success_mean"] <= 1.0 for k in range(K))

        # The policy sees the env's own observation and z only: the task id goes to p(z|t).
        module = algo.get_module()
        assert module.obs_dim == obs_dim and module.num_tasks == K
        assert module.policy_net[0].in_features == obs_dim + LATENT_DIM
        assert module.embedding_net[0].in_features == K
        # The robots' observations are normalised (the tuned configs' setting), the one-hot is not;
        # the runners' statistics are merged into one.
        stats = observation_normalizer(algo)
        assert stats.mean.shape == (obs_dim,) and np.all(np.isfinite(stats.std))
        episodes = algo.env_runner_group.foreach_env_runner(lambda r: r.sample(), local_env_runner=False)
        for episode in (e for batch in episodes for e in batch):
            obs = episode.get_observations(-1)
            task = episode.get_infos(-1)["task_index"]
            assert obs["obs"].shape == (obs_dim,) and np.all(np.abs(obs["obs"]) <= 10.0)
            assert obs["task"].tolist() == np.eye(K)[task].tolist()
    finally:
        algo.stop()

