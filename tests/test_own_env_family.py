"""docs/multi_task_envs.md's own-family recipe, as written: the creator receives
env_config["num_tasks"], `with_flat_obs_option` offers PPO's flat view, and a remote env
runner finds a creator registered in the driver."""

import gymnasium as gym
import pytest
from ray.tune.registry import register_env

from rllib_embed import EmbedPGConfig
from rllib_embed.envs import MultiTaskEnv, with_flat_obs_option
from rllib_embed.envs.point_goals import PointGoalEnv

GOALS = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]


def make_my_reachers(env_config):
    config = dict(env_config or {})
    num_tasks = config.pop("num_tasks", len(GOALS))
    if config:
        raise ValueError(f"unknown env_config key {sorted(config)[0]!r}")
    return MultiTaskEnv(PointGoalEnv, GOALS[:num_tasks])


def _register():
    # In the test, not at import: Tune's registry lives in the running Ray instance, and other
    # test files restart Ray between this file's import and its tests.
    register_env("test/MyReachers-v0", with_flat_obs_option(make_my_reachers))


def test_the_flat_view_is_one_box_with_the_task_appended():
    creator = with_flat_obs_option(make_my_reachers)
    flat = creator({"num_tasks": 3, "flat_obs": True})
    assert isinstance(flat.observation_space, gym.spaces.Box) and flat.observation_space.shape == (2 + 3,)
    assert isinstance(creator({"num_tasks": 3}).observation_space, gym.spaces.Dict)


@pytest.mark.slow
def test_embed_pg_on_a_remote_env_runner_with_a_creator_registered_in_the_driver(ray_session):
    _register()
    algo = (EmbedPGConfig().environment("test/MyReachers-v0", env_config={"num_tasks": 3})
            .env_runners(num_env_runners=1, num_envs_per_env_runner=3, rollout_fragment_length=10,
                         num_cpus_per_env_runner=0.5)
            .training(policy_hiddens=[16], inference_hiddens=[16], value_hiddens=[16])).build_algo()
    try:
        result = algo.train()
        assert result["num_env_steps_sampled_lifetime"] >= 3 * 10
        remote = algo.env_runner_group.foreach_env_runner(lambda r: r.task_assignment, local_env_runner=False)
        assert remote == [[(0, 0), (1, 0), (2, 0)]]
        # The worker's creator got env_config["num_tasks"] and built that many tasks.
        assert algo.env_runner_group.foreach_env_runner(
            lambda r: [env.unwrapped.num_tasks for env in r.env.unwrapped.envs], local_env_runner=False) == [[3, 3, 3]]
    finally:
        algo.stop()


def test_the_docs_recipe_runs_as_written(tmp_path):
    """docs/multi_task_envs.md's "Your own env family" block, executed as it stands: the creator
    it registers builds K tasks from env_config, refuses an unknown key, and offers PPO's flat view."""
    import re
    from pathlib import Path

    import pytest

    doc = (Path(__file__).resolve().parents[1] / "docs" / "multi_task_envs.md").read_text()
    section = doc.split("## Your own env family, step by step", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {"__name__": "my_package_envs"}
    exec(compile(code, "docs/multi_task_envs.md", "exec"), namespace)
    env = namespace["make_my_reachers"]({"num_tasks": 3})
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"obs", "task"} and obs["task"].shape == (3,)
    env.set_task(2)
    env.reset(seed=1)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert reward < 0 and info["task_index"] == 2 and "success" in info
    with pytest.raises(ValueError, match="unknown env_config key 'speed'"):
        namespace["make_my_reachers"]({"speed": 1})
    flat = with_flat_obs_option(namespace["make_my_reachers"])({"num_tasks": 3, "flat_obs": True})
    assert flat.observation_space.shape == (2 + 3,)
