"""save_to_path / from_checkpoint round trips, and the RLModule alone restored for inference."""

import os

import numpy as np
import pytest
import torch

from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.core import COMPONENT_LEARNER, COMPONENT_LEARNER_GROUP, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModule

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.module_checkpoint import load_module

ENVS = {"continuous": "rllib_embed/PointGoals-v0", "discrete": "rllib_embed/GridGoals-v0"}


def _probe_batch(module, n=6):
    g = torch.Generator().manual_seed(0)
    obs_dim = module.obs_dim
    return {Columns.OBS: {"obs": torch.rand(n, obs_dim, generator=g),
                          "task": torch.nn.functional.one_hot(torch.arange(n) % module.num_tasks, module.num_tasks).float()},
            C.Z_NOISE: torch.randn(n, module.latent_dim, generator=g)}


def _state(algo):
    return algo.learner_group.get_state()[COMPONENT_LEARNER][COMPONENT_RL_MODULE][DEFAULT_MODULE_ID]


@pytest.mark.parametrize("kind", sorted(ENVS))
def test_algorithm_and_module_round_trip(kind, tmp_path, ray_session):
    config = (EmbedPGConfig().environment(ENVS[kind], env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=20).debugging(seed=0))
    algo = config.build_algo()
    for _ in range(2):
        algo.train()
    path = str(tmp_path / "ckpt")
    algo.save_to_path(path)
    before = _state(algo)
    module = algo.get_module()
    probe = _probe_batch(module)
    expected = module.forward_inference(probe)[Columns.ACTION_DIST_INPUTS]
    algo.stop()

    restored = Algorithm.from_checkpoint(path)
    try:
        after = _state(restored)
        assert before.keys() == after.keys()
        for key in before:
            np.testing.assert_array_equal(before[key], after[key], err_msg=key)
        assert restored.training_iteration == 2
        result = restored.train()  # training goes on from the checkpoint
        assert result["training_iteration"] == 3
    finally:
        restored.stop()

    # The RLModule alone, for inference: same deterministic outputs.
    module_path = os.path.join(path, COMPONENT_LEARNER_GROUP, COMPONENT_LEARNER, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID)
    alone = RLModule.from_checkpoint(module_path)
    got = alone.forward_inference(_probe_batch(alone))[Columns.ACTION_DIST_INPUTS]
    torch.testing.assert_close(got, expected)

    # The same module from EmbedPG's plain files (JSON and tensors, nothing unpickled): equal weights and spaces.
    plain = load_module(path)
    assert plain.observation_space == alone.observation_space and plain.action_space == alone.action_space
    assert plain.model_config == alone.model_config
    expected_weights = alone.state_dict()
    assert plain.state_dict().keys() == expected_weights.keys()
    for key, value in plain.state_dict().items():
        assert torch.equal(value, expected_weights[key]), key
