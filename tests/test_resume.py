"""Exact resumption: save after N iterations, `Algorithm.from_checkpoint`,
M more iterations == N + M straight iterations: same weights (within 1e-6), same per-iteration
returns. The checkpoint is taken mid-episode (the fragment does not divide the episode length)."""

import numpy as np
import pytest

from ray.rllib.algorithms.algorithm import Algorithm

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.env_runner_state import STREAMS


def _config(env, num_tasks, *, normalize, runners=0, episode_len=None, fragment=7):
    env_config = {"num_tasks": num_tasks, **({"episode_len": episode_len} if episode_len else {})}
    envs = num_tasks  # copies_per_task=1: one env per task
    return (EmbedPGConfig().environment(env, env_config=env_config)
            .env_runners(num_env_runners=runners, num_envs_per_env_runner=envs // max(runners, 1),
                         rollout_fragment_length=fragment)
            .training(normalize_observations=normalize).debugging(seed=0))


def _weights(algo):
    return {k: v.detach().cpu().numpy().copy() for k, v in algo.get_module().state_dict().items()}


def _returns(result):
    """The iteration's episode_return_mean; NaN where no episode ended (compared as equal)."""
    value = result["env_runners"].get("episode_return_mean")
    return np.nan if value is None else float(value)


def _compare(config, path, before=3, after=3):
    algo = config.build_algo()
    try:
        straight = [_returns(algo.train()) for _ in range(before + after)]
        expected = _weights(algo)
    finally:
        algo.stop()
    algo = config.build_algo()
    try:
        first = [_returns(algo.train()) for _ in range(before)]
        if algo.env_runner is not None and algo.env_runner.env is not None:
            assert any(e.t > 0 for e in algo.env_runner._ongoing_episodes), "the checkpoint must fall mid-episode"
        algo.save_to_path(path)
    finally:
        algo.stop()
    restored = Algorithm.from_checkpoint(path)
    try:
        second = [_returns(restored.train()) for _ in range(after)]
        got = _weights(restored)
    finally:
        restored.stop()
    largest = max(float(np.abs(got[k] - expected[k]).max()) for k in expected)
    return straight, first + second, largest


@pytest.mark.parametrize("normalize", [True, False])
def test_resume_equals_the_uninterrupted_run_pointgoals_k4(tmp_path, ray_session, normalize):
    """The issue's instance: PointGoals K=4, seed 0, local env runner (5 + 5 against 10)."""
    straight, resumed, largest = _compare(_config("rllib_embed/PointGoals-v0", 4, normalize=normalize, fragment=12),
                                          str(tmp_path / "ckpt"), before=5, after=5)
    assert largest <= 1e-6
    np.testing.assert_array_equal(resumed, straight)


def test_resume_is_exact_with_the_clipped_update(tmp_path, ray_session):
    """Its minibatch shuffle is seeded by the seed and the env steps sampled so far, both restored."""
    config = _config("rllib_embed/PointGoals-v0", 4, normalize=True, fragment=12).training(
        update="clipped", num_epochs=3, minibatch_size=24)
    straight, resumed, largest = _compare(config, str(tmp_path / "ckpt"), before=3, after=3)
    assert largest <= 1e-6
    np.testing.assert_array_equal(resumed, straight)


def test_resume_is_exact_on_grids(tmp_path, ray_session):
    straight, resumed, largest = _compare(_config("rllib_embed/GridGoals-v0", 2, normalize=False, fragment=5),
                                          str(tmp_path / "ckpt"))
    assert largest <= 1e-6
    np.testing.assert_array_equal(resumed, straight)


@pytest.mark.slow
def test_resume_restores_each_remote_runners_streams(tmp_path, ray_session):
    """Two remote env runners: each runner's envs, episodes and generators come back as they were."""
    config = _config("rllib_embed/PointGoals-v0", 2, normalize=True, runners=2, episode_len=10)
    straight, resumed, largest = _compare(config, str(tmp_path / "ckpt"), before=2, after=2)
    assert largest <= 1e-6
    np.testing.assert_array_equal(resumed, straight)


def test_streams_are_kept_only_in_checkpoints_not_in_per_iteration_syncs(ray_session):
    algo = _config("rllib_embed/PointGoals-v0", 2, normalize=True, episode_len=10).build_algo()
    try:
        algo.train()
        assert STREAMS in algo.env_runner.get_state()
        assert STREAMS not in algo.env_runner.get_state(components=["env_to_module_connector"])
        skill_noise = algo.env_runner.get_state()["env_to_module_connector"]["SampleSkillNoise"]
        assert "bit_generator" in skill_noise  # RLlib's connector state carries the skill draws' generator
    finally:
        algo.stop()


def _unpicklable_point_goals(env_config):
    """PointGoals holding a lock, as MuJoCo's envs hold unpicklable handles."""
    import threading

    from rllib_embed.embed_pg.env_factory import make_env

    env = make_env("rllib_embed/PointGoals-v0", env_config)
    env.unwrapped.handle = threading.Lock()
    return env


@pytest.mark.slow
def test_an_env_that_cannot_be_pickled_resumes_reproducibly_with_new_episodes(tmp_path, ray_session, caplog):
    """Fallback: the env's generators are kept, the episodes in progress are not; the restored run
    starts new episodes, the same ones on every restore from that checkpoint."""
    from ray.tune.registry import register_env

    register_env("test/UnpicklablePointGoals", _unpicklable_point_goals)
    config = _config("test/UnpicklablePointGoals", 2, normalize=True, episode_len=10)
    path = str(tmp_path / "ckpt")
    straight, _, largest = _compare(config, path, before=2, after=2)
    assert "the env cannot be pickled" in caplog.text
    runs = []
    for _ in range(2):
        restored = Algorithm.from_checkpoint(path)
        try:
            runs.append(([_returns(restored.train()) for _ in range(2)], _weights(restored)))
        finally:
            restored.stop()
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for key, value in runs[0][1].items():
        np.testing.assert_array_equal(value, runs[1][1][key])
    print(f"unpicklable env: largest weight difference to the uninterrupted run {largest:.3g}")
