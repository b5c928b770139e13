"""What EmbedPG relies on of RLlib beyond its documented API, pinned so that an RLlib upgrade
that changes it fails here first."""

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

from rllib_embed.embed_pg.config_checks import RLLIB_UNSET


def test_rllibs_not_set_marker_is_minus_one_and_get_state_drops_it():
    """config_checks.RLLIB_UNSET: AlgorithmConfig.get_state drops every field equal to RLlib's
    DEPRECATED_VALUE, which EmbedPGConfig.get_state puts back for validate() to judge."""
    from ray._common.deprecation import DEPRECATED_VALUE
    assert RLLIB_UNSET == DEPRECATED_VALUE
    config = AlgorithmConfig()
    config.lr = RLLIB_UNSET
    assert "lr" not in config.get_state()
