"""normalize_observations: running mean/std of the env's `obs`, the task one-hot left as it is,
the statistics kept in checkpoints and used wherever the module runs outside RLlib's env runners."""

import gymnasium as gym
import numpy as np
import pytest
from ray.rllib.env.single_agent_episode import SingleAgentEpisode

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.connectors import NormalizeObservations
from rllib_embed.embed_pg.evaluation import evaluate_algorithm_per_task, evaluate_per_task, observation_normalizer
from rllib_embed.embed_pg.module_checkpoint import load_observation_normalizer

SPACE = gym.spaces.Dict({"obs": gym.spaces.Box(-100, 100, (3,), np.float32),
                         "task": gym.spaces.Box(0, 1, (2,), np.float32)})


def test_obs_is_standardised_with_running_statistics_and_the_task_one_hot_is_not_touched():
    connector = NormalizeObservations(input_observation_space=SPACE, input_action_space=gym.spaces.Discrete(2))
    assert connector.observation_space["task"] == SPACE["task"]
    assert connector.observation_space["obs"] == gym.spaces.Box(-10, 10, (3,), np.float32)
    rng = np.random.default_rng(0)
    raw = rng.normal([5.0, -20.0, 0.0], [1.0, 10.0, 0.1], size=(200, 3)).astype(np.float32)
    seen = []
    for x in raw:  # one new observation per call, as the env runner makes them
        episode = SingleAgentEpisode(observations=[{"obs": x, "task": np.array([0.0, 1.0], np.float32)}],
                                     observation_space=SPACE, action_space=gym.spaces.Discrete(2))
        connector(rl_module=None, batch={}, episodes=[episode])
        obs = episode.get_observations(-1)
        assert obs["task"].tolist() == [0.0, 1.0]  # exactly the one-hot p(z|t) is evaluated at
        seen.append(obs["obs"])
    # The last observation is standardised with the statistics of all 200.
    expected = (raw[-1] - raw.mean(0)) / raw.std(0, ddof=1)
    np.testing.assert_allclose(seen[-1], expected, rtol=1e-3, atol=1e-3)
    normalised = np.stack(seen[100:])
    assert np.all(np.abs(normalised.mean(0)) < 0.3) and np.all(np.abs(normalised.std(0) - 1.0) < 0.3)
    frozen = connector.frozen()
    np.testing.assert_allclose(frozen(raw[-1]), seen[-1], rtol=1e-5, atol=1e-5)


def _algo(normalize: bool):
    config = (EmbedPGConfig()
              .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(copies_per_task=1, normalize_observations=normalize, policy_hiddens=[16],
                        inference_hiddens=[16], value_hiddens=[16])
              .debugging(seed=0))
    return config.build_algo()


def test_statistics_are_checkpointed_and_used_by_every_evaluation_path(ray_session, tmp_path):
    algo = _algo(normalize=True)
    try:
        for _ in range(3):
            algo.train()
        live = observation_normalizer(algo)
        assert live is not None and np.all(live.std > 0)
        algo.save_to_path(str(tmp_path / "ckpt"))
        loaded = load_observation_normalizer(str(tmp_path / "ckpt"))
        np.testing.assert_array_equal(loaded.mean, live.mean)
        np.testing.assert_array_equal(loaded.std, live.std)
        module = algo.get_module()
        kwargs = dict(episodes_per_task=2, skill="mean")
        with_stats = evaluate_algorithm_per_task(algo, **kwargs)
        assert with_stats == evaluate_per_task(module, "rllib_embed/PointGoals-v0", {"num_tasks": 2},
                                               normalize_obs=loaded, **kwargs)
        # The module carries its statistics: evaluation applies them without being told.
        assert with_stats == evaluate_per_task(module, "rllib_embed/PointGoals-v0", {"num_tasks": 2}, **kwargs)
        # Without the statistics the policy sees other inputs and acts otherwise.
        raw = evaluate_per_task(module, "rllib_embed/PointGoals-v0", {"num_tasks": 2},
                                normalize_obs=lambda x: x, **kwargs)
        assert raw != with_stats
    finally:
        algo.stop()


def test_without_the_option_there_are_no_statistics(ray_session, tmp_path):
    algo = _algo(normalize=False)
    try:
        algo.train()
        assert observation_normalizer(algo) is None
        algo.save_to_path(str(tmp_path / "ckpt"))
        assert load_observation_normalizer(str(tmp_path / "ckpt")) is None
    finally:
        algo.stop()


@pytest.mark.parametrize("bad", [1, "true", None])
def test_a_non_boolean_is_refused_before_anything_is_built(bad):
    config = EmbedPGConfig().environment("rllib_embed/PointGoals-v0").training(normalize_observations=bad)
    with pytest.raises(ValueError, match=r"normalize_observations must be one of \[False, True\]; got"):
        config.validate()
