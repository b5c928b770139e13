"""EmbedPGConfig.from_ppo: EmbedPG's clipped update at a PPO config's settings for the same body."""

import pytest

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module.mean_std_filter import MeanStdFilter

from rllib_embed import EmbedPGConfig

ENV = "rllib_embed/PointGoals-v0"


def _ppo(**training):
    return (PPOConfig()
            .environment(ENV, env_config={"num_tasks": 4, "flat_obs": True})
            .env_runners(num_env_runners=0, num_envs_per_env_runner=8)
            .training(**{"train_batch_size_per_learner": 1024, "minibatch_size": 128, "lr": 2e-4, "gamma": 0.95,
                         "lambda_": 0.5, **training})
            .rl_module(model_config={"fcnet_hiddens": [32, 16], "fcnet_activation": "relu"})
            .debugging(seed=7))


def test_the_shared_settings_carry_over():
    ppo = _ppo(num_epochs=7, clip_param=0.25, grad_clip=0.5, vf_loss_coeff=0.6, vf_clip_param=4.0, kl_coeff=0.3,
               kl_target=0.02, shuffle_batch_per_epoch=False, entropy_coeff=0.003)
    config = EmbedPGConfig.from_ppo(ppo)
    config.validate()
    assert config.update == "clipped" and config.env == ENV and config.env_config == {"num_tasks": 4}
    # K*D = PPO's 8 envs, I = 1024 / 8: PPO's batch.
    assert (config.num_tasks, config.copies_per_task, config.num_env_runners, config.num_envs_per_env_runner,
            config.rollout_fragment_length) == (4, 2, 0, 8, 128)
    assert (config.gamma, config.lambda_, config.lr, config.num_epochs, config.minibatch_size,
            config.shuffle_batch_per_epoch) == (0.95, 0.5, 2e-4, 7, 128, False)
    assert (config.clip_param, config.grad_clip, config.vf_loss_coeff, config.vf_clip_param, config.kl_coeff,
            config.kl_target) == (0.25, 0.5, 0.6, 4.0, 0.3, 0.02)
    assert (config.policy_hiddens, config.value_hiddens, config.activation) == ([32, 16], [32, 16], "relu")
    assert config.policy_init_log_std == 0.0 and config.seed == 7 and not config.normalize_observations
    assert config.estimator == "score"  # the recipe's estimator
    assert config.alpha3 == 0.003  # PPO's entropy bonus weighs EmbedPG's H[pi]; alpha1, alpha2 are the method's
    assert (config.alpha1, config.alpha2) == (EmbedPGConfig().alpha1, EmbedPGConfig().alpha2)
    assert config.minibatch_settings == {"minibatch_size": 128, "shuffle_batch_per_epoch": False}


def test_rllibs_ppo_defaults_and_the_options_that_turn_parts_off():
    ppo = _ppo(use_kl_loss=False, use_gae=False, vf_clip_param=float("inf"))
    config = EmbedPGConfig.from_ppo(ppo)
    assert config.kl_coeff == 0.0 and config.lambda_ == 1.0 and config.vf_clip_param is None
    assert config.alpha3 == 0.0  # RLlib's PPO default entropy_coeff: no entropy bonus
    defaults = EmbedPGConfig.from_ppo(PPOConfig().environment(ENV, env_config={"num_tasks": 4, "flat_obs": True}))
    # RLlib's PPO: 2 env runners x 1 env -> D = 1 on 4 envs over the 2 runners; its 4000-step batch.
    assert (defaults.copies_per_task, defaults.num_env_runners, defaults.num_envs_per_env_runner,
            defaults.rollout_fragment_length) == (1, 2, 2, 1000)
    assert (defaults.lr, defaults.num_epochs, defaults.minibatch_size, defaults.clip_param, defaults.kl_coeff,
            defaults.vf_clip_param, defaults.grad_clip) == (5e-5, 30, 128, 0.3, 0.2, 10.0, None)
    assert EmbedPGConfig.from_ppo(ppo, copies_per_task=3).copies_per_task == 3


def test_rllibs_mean_std_filter_becomes_normalize_observations():
    ppo = _ppo().env_runners(env_to_module_connector=lambda env, spaces=None, device=None: MeanStdFilter(
        multi_agent=False))
    assert EmbedPGConfig.from_ppo(ppo).normalize_observations


@pytest.mark.parametrize("make, words", [
    (lambda: EmbedPGConfig(), "from_ppo takes a PPOConfig; got EmbedPGConfig"),
    (lambda: PPOConfig(), "the PPO config has no env"),
    (lambda: _ppo(use_critic=False), "use_critic must be True"),
    (lambda: _ppo(entropy_coeff=[[0, 0.01], [1000, 0.0]]), r"entropy_coeff must be one number \(it becomes alpha3\)"),
    (lambda: _ppo().rl_module(model_config={"fcnet_activation": "swish"}), "fcnet_activation must be one of"),
    (lambda: _ppo().env_runners(num_env_runners=3, num_envs_per_env_runner=1), "cannot be spread evenly over "
                                                                                 "num_env_runners=3"),
    (lambda: PPOConfig().environment("CartPole-v1"), "EmbedPG needs a multi-task env"),
])
def test_configs_that_cannot_carry_over_get_one_line(make, words):
    with pytest.raises(ValueError, match=words) as e:
        EmbedPGConfig.from_ppo(make())
    assert "\n" not in str(e.value)


def test_the_carried_config_trains(ray_session):
    algo = EmbedPGConfig.from_ppo(_ppo(num_epochs=2)).build_algo()
    try:
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] == 1024
        stats = result["learners"]["default_policy"]
        assert stats["module_train_batch_size_mean"] == 128
        # The alpha terms' advantage beside the standardised task advantage (std 1): present, finite.
        assert 0.0 < stats["intrinsic_advantage_std"] < 100.0
    finally:
        algo.stop()
