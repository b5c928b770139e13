"""Registers EmbedPG by name with Ray Tune and with RLlib's algorithm registry."""

from ray.rllib.algorithms import registry as rllib_registry
from ray.tune.registry import register_trainable


def _import_embed_pg():
    from rllib_embed.embed_pg import EmbedPG
    return EmbedPG, EmbedPG.get_default_config()


def register_algorithm() -> None:
    """Idempotent: `tune.Tuner("EmbedPG", ...)` and `get_trainable_cls("EmbedPG")` find it."""
    from rllib_embed.embed_pg import EmbedPG
    rllib_registry.ALGORITHMS["EmbedPG"] = _import_embed_pg
    rllib_registry.ALGORITHMS_CLASS_TO_NAME["EmbedPG"] = "EmbedPG"
    register_trainable("EmbedPG", EmbedPG)
