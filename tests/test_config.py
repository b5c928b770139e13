"""EmbedPGConfig: defaults, and bad values refused with the field's name and what is allowed."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import EmbedPGTorchRLModule

_OBS_SPACE = gym.spaces.Dict({"obs": gym.spaces.Box(-np.inf, np.inf, (2,), np.float32),
                              "task": gym.spaces.Box(0.0, 1.0, (4,), np.float32)})
_ACTION_SPACE = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)


def _config(**training):
    return (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 4})
            .env_runners(num_env_runners=0).training(**training))


def test_defaults_are_the_seed_estimator_with_expectation_keeping_variance_reduction():
    config = _config()
    config.validate()
    assert (config.estimator, config.returns, config.baseline, config.embedding_baseline) == \
        ("seed", "reward_to_go", "value", "task_mean")
    assert config.resolved_num_epochs == 1 and config.minibatch_size is None  # the derivation's one step
    assert config.num_envs_per_env_runner == 4  # K*D on the local runner
    assert config.model_config["latent_dim"] == config.resolved_latent_dim == 4  # K = 4


@pytest.mark.parametrize("copies_per_task, I, expected", [(2, 100, 200), (1, 50, 50), (3, 30, 90)])
def test_clipped_update_defaults_to_ppos_epochs_and_quarter_batch_minibatches(copies_per_task, I, expected):
    """update="clipped" alone gets PPO's 10 epochs and minibatches of a quarter of the batch's
    K*D*I rows (K = 4 here), shuffled anew each epoch; explicit values are kept and reach
    `LearnerGroup.update`. The literal update steps on the whole batch."""
    config = _config(update="clipped", copies_per_task=copies_per_task)
    config.env_runners(rollout_fragment_length=I)
    config.validate()
    assert config.resolved_num_epochs == 10
    assert config.resolved_minibatch_size == expected
    assert config.minibatch_settings == {"minibatch_size": expected, "shuffle_batch_per_epoch": True}
    config.training(num_epochs=3, minibatch_size=7, shuffle_batch_per_epoch=False)
    assert (config.resolved_num_epochs, config.resolved_minibatch_size) == (3, 7)
    assert config.minibatch_settings == {"minibatch_size": 7, "shuffle_batch_per_epoch": False}
    literal = _config()
    literal.validate()
    assert literal.resolved_minibatch_size is None and literal.minibatch_settings == {}


@pytest.mark.parametrize("update, default_widths, skill_log_std", [("literal", [64, 64], -1.0),
                                                                   ("clipped", [256, 256], -2.0)])
def test_network_defaults_follow_the_update_and_reach_the_module(update, default_widths, skill_log_std):
    """policy_hiddens / value_hiddens None: [64, 64] (literal), [256, 256] (clipped, RLlib's
    fcnet_hiddens); embedding_init_log_std None: -1 / -2; the module is built with them; given
    values win; q's widths stay [64, 64]."""
    config = _config(update=update)
    config.validate()
    module = EmbedPGTorchRLModule(observation_space=_OBS_SPACE, action_space=_ACTION_SPACE,
                                  model_config=config.model_config)
    assert [m.out_features for m in module.policy_net if isinstance(m, torch.nn.Linear)][:-1] == default_widths
    assert [m.out_features for m in module.value_net if isinstance(m, torch.nn.Linear)][:-1] == default_widths
    assert config.model_config["inference_hiddens"] == [64, 64]
    _, log_std = module.embedding_params(torch.eye(4))
    torch.testing.assert_close(log_std, torch.full_like(log_std, skill_log_std))
    config = _config(update=update, policy_hiddens=[8], value_hiddens=[16, 4], embedding_init_log_std=-3)
    assert (config.model_config["policy_hiddens"], config.model_config["value_hiddens"]) == ([8], [16, 4])
    assert config.model_config["embedding_init_log_std"] == -3.0


@pytest.mark.parametrize("given, expected", [(None, -0.5), (0.0, 0.0), (-1.5, -1.5), (1.0, 0.0)])
def test_the_policys_initial_log_std_reaches_the_module(given, expected):
    """policy_init_log_std: the log-std of pi's actions before any update (None: -0.5), capped at
    the action range's bound (log 1 = 0 for [-1, 1] actions), where its gradient would vanish."""
    config = _config(update="clipped", policy_init_log_std=given)
    config.validate()
    module = EmbedPGTorchRLModule(observation_space=_OBS_SPACE, action_space=_ACTION_SPACE,
                                  model_config=config.model_config)
    _, log_std = module.policy_dist_inputs(torch.zeros(5, *_OBS_SPACE["obs"].shape), torch.zeros(5, 4)).chunk(2, -1)
    torch.testing.assert_close(log_std, torch.full_like(log_std, expected))


def test_history_len_sizes_the_episode_lookback():
    assert _config(history_len=9).episode_lookback_horizon >= 8


@pytest.mark.parametrize("field, value, allowed", [
    ("estimator", "literal", r"\['seed', 'unbiased', 'score'\]"),
    ("returns", "gae", r"\['reward_to_go', 'segment'\]"),
    ("baseline", "critic", r"\[None, 'value'\]"),
    ("embedding_baseline", "zero", r"\[None, 'task_mean'\]"),
    ("activation", "gelu", r"\['tanh', 'relu', 'elu', 'linear'\]"),
    ("normalize_observations", "yes", r"\[False, True\]"),
    ("latent_dim", 0, "int >= 1"),
    ("history_len", 1.5, "int >= 1"),
    ("alpha2", -0.1, "number >= 0"),
    ("alpha1", "big", "number >= 0"),
    ("copies_per_task", 0, "int >= 1"),
    ("embedding_init_log_std", 3.0, r"number in \[-5, 2\] or None"),
    ("policy_init_log_std", -6.0, r"number in \[-5, 2\] or None"),
    ("kl_coeff", -0.1, "number >= 0"),
    ("kl_target", 0.0, "number > 0"),
    ("policy_hiddens", [64, -1], "list of positive ints"),
    ("inference_lr", 0.0, "number > 0"),
    ("num_epochs", 0, "int >= 1 or None"),
])
def test_bad_values_name_the_field_and_the_allowed_values(field, value, allowed):
    with pytest.raises(ValueError, match=rf"EmbedPGConfig\.{field} must be .*{allowed}"):
        _config(**{field: value}).validate()


def test_num_tasks_must_agree_with_the_env_config():
    with pytest.raises(ValueError, match=r"num_tasks=3 differs from the 4 tasks rllib_embed/PointGoals-v0 has "
                                         r"with env_config {'num_tasks': 4}"):
        _config(num_tasks=3).validate()


def test_minibatching_is_refused():
    with pytest.raises(ValueError, match=r"minibatch_size must be None"):
        _config(minibatch_size=32).validate()


def test_num_tasks_is_read_off_the_env_when_not_given():
    config = EmbedPGConfig().environment("rllib_embed/GridGoals-v0").env_runners(num_env_runners=0)
    config.validate()
    assert config.num_tasks == 4 and config.num_envs_per_env_runner == 4


def test_a_single_task_env_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match=r"needs a multi-task env .*CartPoleEnv"):
        EmbedPGConfig().environment("CartPole-v1").validate()


def test_the_baselines_flat_observation_is_refused():
    config = EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 4, "flat_obs": True})
    with pytest.raises(ValueError, match=r"env_config\['flat_obs'\]"):
        config.validate()


def test_history_len_from_a_dict_raises_the_lookback_too():
    # Tune's param spaces, the rllib command and YAML files set attributes by dict.
    config = _config().update_from_dict({"history_len": 9})
    config.validate()
    assert config.episode_lookback_horizon >= 8


@pytest.mark.parametrize("estimator, needed, unneeded", [("seed", "REPARAM", "SAMPLED"), ("unbiased", "SAMPLED", "REPARAM"),
                                                            ("score", "SAMPLED", "REPARAM")])
def test_the_module_runs_only_the_q_pass_its_estimator_needs(estimator, needed, unneeded):
    """model_config["inference_passes"] follows the estimator: forward_train gives log q's inputs
    for it (the same values as a module that runs both passes) and not the other pass's."""
    from rllib_embed.embed_pg import columns as C
    from tests.helpers import sample_batch
    config = _config(estimator=estimator, history_len=2)
    config.validate()
    spec = dict(observation_space=_OBS_SPACE, action_space=_ACTION_SPACE)
    torch.manual_seed(0)
    module = EmbedPGTorchRLModule(**spec, model_config=config.model_config)
    both = EmbedPGTorchRLModule(**spec, model_config={k: v for k, v in config.model_config.items()
                                                      if k != "inference_passes"})
    both.load_state_dict(module.state_dict())
    batch = sample_batch(module, tasks=[0, 0, 3, 3], obs=torch.randn(4, 2), windows=torch.randn(4, 2, 2),
                         steps=[0, 1, 0, 1])
    out, out_both = module.forward_train(batch), both.forward_train(batch)
    for key in (f"Q_MEAN_{needed}_ACTION", f"Q_LOG_STD_{needed}_ACTION"):
        torch.testing.assert_close(out[getattr(C, key)], out_both[getattr(C, key)], rtol=0, atol=0)
    for key in (f"Q_MEAN_{unneeded}_ACTION", f"Q_LOG_STD_{unneeded}_ACTION"):
        assert getattr(C, key) not in out and getattr(C, key) in out_both


@pytest.mark.parametrize("num_tasks, expected", [(2, 4), (4, 4), (8, 8), (16, 16)])
def test_latent_dim_defaults_to_at_least_the_number_of_tasks(num_tasks, expected):
    """latent_dim=None resolves to max(4, K) once K is known (the K skills start orthogonal);
    a given latent_dim is kept, even below K."""
    config = EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": num_tasks})
    config.validate()
    assert config.latent_dim is None  # the field stays as given: a reused config re-resolves
    assert config.resolved_latent_dim == config.model_config["latent_dim"] == expected
    given = EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 8}).training(latent_dim=3)
    given.validate()
    assert given.resolved_latent_dim == given.model_config["latent_dim"] == 3
    # K from the env itself (MT10 has 10 tasks; env_config does not say)
    mt10 = EmbedPGConfig().environment("rllib_embed/MetaWorldMT10-v0")
    mt10.validate()
    assert mt10.resolved_latent_dim == 10


@pytest.mark.slow
def test_the_local_learner_runs_on_one_torch_thread_unless_told_otherwise(ray_session):
    """A script that builds the algorithm in its own process (local learner and env runner) gets
    one torch thread, as Ray's workers do; local_torch_threads=None leaves torch's setting."""
    import torch
    before = torch.get_num_threads()
    try:
        for threads, expected in ((None, 2), (1, 1), (3, 3)):
            torch.set_num_threads(2)
            algo = _config(local_torch_threads=threads).env_runners(num_env_runners=0).build_algo()
            algo.stop()
            assert torch.get_num_threads() == expected, threads
        with pytest.raises(ValueError, match=r"local_torch_threads must be an int >= 1 or None; got 0"):
            _config(local_torch_threads=0).validate()
    finally:
        torch.set_num_threads(before)
