"""Registers EmbedPG by name with Ray Tune and with RLlib's algorithm registry."""

from ray.rllib.algorithms import registry as rllib_registry
from ray.util import log_once
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
    # RLlib says once per algorithm "You are running X on the new API stack! ... set
    # config.api_stack(...False...)": EmbedPG has no old stack to go back to, so that advice
    # cannot be taken. Taking RLlib's one-time key here holds it back.
    log_once("EmbedPG_on_new_api_stack")
