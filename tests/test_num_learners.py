"""num_learners=2: data-parallel learners (DDP on CPU) that take the same step as one learner.

Each learner gets whole tasks (a segment and every segment of its embedding baseline stay
on one learner) and scales its share of the sum over segments by L/(KD), so DDP's average
of the two gradients is the one-learner gradient of the whole batch.
"""

import copy

import pytest
import torch

from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME
from ray.rllib.utils.metrics.metrics_logger import MetricsLogger

from rllib_embed.embed_pg import EmbedPGConfig
from rllib_embed.embed_pg.columns import ENV_ID
from rllib_embed.embed_pg.task_assignment import shard_episodes_by_task

NETS = ("policy", "embedding", "inference", "value")


def _config(num_learners):
    # D=2: every task has a segment from another env on the same learner, so the embedding
    # baseline is the same on either side (with D=1 its fallback, the mean over all other
    # envs, is taken over the learner's own shard).
    return (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 4})
            .env_runners(num_env_runners=0, rollout_fragment_length=10)
            .training(copies_per_task=2)
            .learners(num_learners=num_learners, num_cpus_per_learner=0.5)
            .training(value_epochs=3)  # value-only passes must stay in step under DDP too
            .debugging(seed=3))


def _weights(learner_group):
    """Each learner's module weights, as plain tensors."""
    def read(learner):
        return {k: v.detach().clone() for k, v in learner.module["default_policy"].unwrapped().state_dict().items()}
    return [r.get() for r in learner_group.foreach_learner(read)] if not learner_group.is_local \
        else [read(learner_group._learner)]


def _update(algo, episodes):
    results = algo.learner_group.update(**algo._training_data(episodes), timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 0},
                                        num_epochs=algo.config.learner_passes)
    logger = MetricsLogger(root=True)
    logger.aggregate(results)
    return {net: logger.peek(("default_policy", f"gradients_{net}_global_norm")) for net in NETS}


def test_whole_tasks_go_to_one_learner():
    episodes = list(range(8))  # stand-ins: env g hosts task g // 2 (K=4, D=2)
    shards = shard_episodes_by_task(episodes, env_ids=episodes, num_tasks=4, copies_per_task=2, num_learners=2)
    assert shards == [[0, 1, 4, 5], [2, 3, 6, 7]]


def test_num_learners_above_num_tasks_is_refused():
    with pytest.raises(ValueError, match=r"num_learners must be <= num_tasks \(4\)"):
        _config(5).validate()


@pytest.mark.slow
def test_two_learners_stay_in_sync_and_step_as_one_learner(ray_session):
    two = _config(2).build_algo()
    one = _config(0).build_algo()
    try:
        one.learner_group.set_weights(two.learner_group.get_weights())
        episodes = two.env_runner.sample(random_actions=False)
        assert {e.custom_data[ENV_ID] for e in episodes} == set(range(8))
        before = _weights(one.learner_group)[0]

        norms_two = _update(two, episodes)
        norms_one = _update(one, copy.deepcopy(episodes))

        learner_a, learner_b = _weights(two.learner_group)
        after_one = _weights(one.learner_group)[0]
        assert all(torch.equal(learner_a[k], learner_b[k]) for k in learner_a), "the two learners diverged"
        assert any(not torch.equal(before[k], after_one[k]) for k in before), "the update changed nothing"
        for k in learner_a:
            torch.testing.assert_close(learner_a[k], after_one[k], atol=1e-5, rtol=1e-4, msg=k)
        for net in NETS:
            assert norms_two[net] == pytest.approx(norms_one[net], rel=1e-4), net

        # And it trains: a few full iterations on the two learners keep them identical.
        for _ in range(3):
            result = two.train()
        learner_a, learner_b = _weights(two.learner_group)
        assert all(torch.equal(learner_a[k], learner_b[k]) for k in learner_a)
        assert result["num_env_steps_sampled_lifetime"] == (1 + 3) * 8 * 10  # the manual round counts too
    finally:
        two.stop()
        one.stop()
