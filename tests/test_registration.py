"""Importing rllib_embed registers "EmbedPG" with Tune and RLlib, and the envs with gymnasium."""

import gymnasium as gym
import pytest

from ray import tune
from ray.rllib.algorithms.registry import _get_algorithm_class
from ray.tune.registry import get_trainable_cls

from rllib_embed import EmbedPG, EmbedPGConfig


def test_algorithm_is_found_by_name():
    assert get_trainable_cls("EmbedPG") is EmbedPG
    assert _get_algorithm_class("EmbedPG") is EmbedPG
    assert isinstance(EmbedPG.get_default_config(), EmbedPGConfig)


def test_envs_are_registered_with_gymnasium():
    env = gym.make("rllib_embed/GridGoals-v0", num_tasks=2)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"obs", "task"} and obs["task"].shape == (2,)


@pytest.mark.slow
def test_tuner_runs_embedpg_by_name(ray_session, tmp_path):
    config = (EmbedPGConfig()
              .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10))
    tuner = tune.Tuner("EmbedPG", param_space=config,
                       run_config=tune.RunConfig(stop={"training_iteration": 2}, storage_path=str(tmp_path),
                                                 verbose=0))
    results = tuner.fit()
    assert not results.errors
    best = results.get_best_result(metric="env_runners/num_env_steps_sampled_lifetime", mode="max")
    assert best.metrics["training_iteration"] == 2
    assert best.metrics["env_runners"]["num_env_steps_sampled_lifetime"] == 2 * 2 * 10


def test_building_embed_pg_in_python_does_not_advise_the_old_api_stack(caplog):
    """RLlib's "You are running EmbedPG on the new API stack! ... set config.api_stack(... False)"
    names an option EmbedPG does not have: held back (RLlib's other notices: docs/cli.md)."""
    import logging

    from rllib_embed import EmbedPGConfig

    caplog.set_level(logging.WARNING, logger="ray.rllib.algorithms.algorithm_config")
    EmbedPGConfig().environment("rllib_embed/PointGoals-v0").validate()
    assert not any("on the new API stack" in r.getMessage() for r in caplog.records)
