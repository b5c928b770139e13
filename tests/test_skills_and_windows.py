"""The policy never sees the task id; z is per episode; s^H windows respect episode bounds."""

import numpy as np
import pytest
import torch

import gymnasium as gym

from ray.rllib.core.columns import Columns

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.connectors.skill_windows import observation_windows
from tests.helpers import make_module


def test_policy_output_does_not_depend_on_the_task_id():
    module = make_module(num_tasks=3)
    obs, z = torch.randn(5, 2), torch.randn(5, 2)
    # The policy's inputs are (obs, z): its first layer is exactly obs_dim + latent_dim wide.
    assert module.policy_net[0].in_features == 2 + 2
    batch = lambda task: {Columns.OBS: {"obs": obs, "task": torch.nn.functional.one_hot(torch.tensor([task] * 5), 3).float()},
                          C.SKILL: z}
    outs = [module.forward_inference(batch(k))[Columns.ACTION_DIST_INPUTS] for k in range(3)]
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], outs[2])
    # ... while the task does change the skill drawn through p(z|t).
    noise = torch.zeros(1, 2)
    zs = [module.skill(torch.nn.functional.one_hot(torch.tensor([k]), 3).float(), noise) for k in range(3)]
    assert not torch.allclose(zs[0], zs[1])


def test_observation_windows_pad_with_the_first_observation_and_look_back():
    obs = np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)  # s_0..s_4
    w = observation_windows(obs, num_prior=0, history_len=3)
    assert w.shape == (5, 3, 2)
    np.testing.assert_array_equal(w[0, :, 0], [0, 0, 0])  # padded with s_0 at the episode start
    np.testing.assert_array_equal(w[1, :, 0], [0, 0, 1])
    np.testing.assert_array_equal(w[4, :, 0], [2, 3, 4])
    # A later chunk of the same episode: two earlier observations from the lookback buffer.
    w = observation_windows(obs, num_prior=2, history_len=3)
    assert w.shape == (3, 3, 2)
    np.testing.assert_array_equal(w[0, :, 0], [0, 1, 2])


@pytest.fixture(scope="module")
def sampled(ray_session):
    """Episodes sampled on the local env runner with I=7 (segments cut mid-episode)."""
    config = (EmbedPGConfig()
              .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2, "episode_len": 10})
              .env_runners(num_env_runners=0, rollout_fragment_length=7)
              .training(history_len=3)
              .debugging(seed=1))
    algo = config.build_algo()
    chunks = [algo.env_runner.sample() for _ in range(5)]
    learner = algo.learner_group._learner
    batches = [learner._learner_connector(rl_module=learner.module, batch={}, episodes=eps, shared_data={},
                                          metrics=None)["default_policy"] for eps in chunks]
    yield chunks, batches, learner.module["default_policy"].unwrapped()
    algo.stop()


def test_z_noise_is_constant_within_an_episode_and_differs_across_episodes(sampled):
    chunks, _, _ = sampled
    algo_latent_dim = 4  # latent_dim's default at K=2: max(4, K)
    noise_by_episode = {}
    for eps in chunks:
        for ep in eps:
            noise = np.asarray(ep.get_extra_model_outputs(C.Z_NOISE))
            assert noise.shape == (len(ep), algo_latent_dim)
            assert np.all(noise == noise[:1]), "z changed within an episode"
            # (The learner connector suffixes chunk ids with "_<index>"; the episode id is the prefix.)
            noise_by_episode.setdefault(ep.id_.split("_")[0], []).append(noise[0])
    # Chunks of one episode (across segment boundaries) share z; episodes differ.
    for chunks_noise in noise_by_episode.values():
        assert all(np.array_equal(chunks_noise[0], n) for n in chunks_noise)
    firsts = np.array([v[0] for v in noise_by_episode.values()])
    assert len(firsts) >= 4 and len(np.unique(firsts, axis=0)) == len(firsts)


def test_windows_never_cross_episodes_and_continue_across_segments(sampled):
    chunks, batches, _ = sampled
    # Every observation of every episode, by (episode, time in episode), from the chunks themselves.
    observed = {}
    for eps in chunks:
        for ep in eps:
            for i, o in enumerate(np.asarray(ep.get_observations(indices=slice(0, len(ep)))["obs"])):
                observed[(ep.id_.split("_")[0], ep.t_started + i)] = o
    for eps, b in zip(chunks, batches):
        window, obs = b[C.OBS_WINDOW].numpy(), b[Columns.OBS]["obs"].numpy()
        np.testing.assert_array_equal(window[:, -1], obs)  # the window ends at s_i
        row = 0
        for ep in eps:
            episode = ep.id_.split("_")[0]
            for i in range(len(ep)):
                t = ep.t_started + i
                # (s_{t-2}, s_{t-1}, s_t) of the same episode, s_0 repeated before its start.
                expected = [observed[(episode, max(k, 0))] for k in (t - 2, t - 1, t)]
                np.testing.assert_array_equal(window[row + i], np.stack(expected))
            row += len(ep)
        assert row == len(obs)
    # Segments were really cut mid-episode, so the lookback path was exercised.
    assert any(ep.t_started > 0 for eps in chunks for ep in eps)


def test_the_entropy_bonus_is_that_of_the_policy_the_actions_were_drawn_from(sampled):
    # H[pi(.|s_i, z)] is read off the sampling pass's distribution inputs; on-policy those are
    # the learner's own pi at (s_i, z), value for value, and r_hat adds alpha3 times it.
    _, batches, module = sampled
    config = EmbedPGConfig()
    for b in batches:
        z = module.skill(b[Columns.OBS]["task"].float(), b[C.Z_NOISE].float())
        with torch.no_grad():
            dist = module.get_train_action_dist_cls().from_logits(module.policy_dist_inputs(b[Columns.OBS]["obs"], z))
        torch.testing.assert_close(b[C.INTRINSIC_ENTROPY], dist.entropy(), rtol=0, atol=1e-6)
        torch.testing.assert_close(b[C.AUGMENTED_REWARD], b[Columns.REWARDS].float() + config.alpha2
                                   * b[C.INTRINSIC_LOG_Q] + config.alpha3 * b[C.INTRINSIC_ENTROPY])
