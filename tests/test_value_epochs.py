"""value_epochs: the extra passes fit V only, leaving the estimator's step as it was."""

import torch

from rllib_embed import EmbedPGConfig

NETS = ("policy_net", "embedding_net", "inference_net", "value_net")


def _weights_after_one_update(value_epochs):
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(value_epochs=value_epochs).debugging(seed=3))
    algo = config.build_algo()
    try:
        algo.train()
        module = algo.learner_group._learner.module["default_policy"]
        return {net: torch.cat([p.detach().reshape(-1).clone() for p in getattr(module, net).parameters()])
                for net in NETS}
    finally:
        algo.stop()


def test_extra_value_passes_change_only_the_value_net(ray_session):
    one, three = _weights_after_one_update(1), _weights_after_one_update(3)
    for net in ("policy_net", "embedding_net", "inference_net"):
        torch.testing.assert_close(one[net], three[net], msg=net)
    assert not torch.allclose(one["value_net"], three["value_net"])
