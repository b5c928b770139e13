"""EmbedPGTorchLearner.build() is idempotent, as RLlib's Learner.build."""

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.connectors import AddSkillWindowsAndSegments, AugmentedRewardAndWeights
from rllib_embed.embed_pg.env_factory import make_env


def _piece_counts(learner):
    pieces = learner._learner_connector.connectors
    return (sum(isinstance(p, AddSkillWindowsAndSegments) for p in pieces),
            sum(isinstance(p, AugmentedRewardAndWeights) for p in pieces), len(pieces))


def test_a_second_build_leaves_the_learner_connector_as_it_was():
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0))
    learner = config.build_learner(env=make_env("rllib_embed/PointGoals-v0", {"num_tasks": 2}))  # built once
    before = _piece_counts(learner)
    assert before[:2] == (1, 1)
    learner.build()
    learner.build()
    assert _piece_counts(learner) == before
