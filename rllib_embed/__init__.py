"""rllib-embed: EmbedPG, skill-embedding policy gradients for Ray RLlib.

Importing this package registers the algorithm "EmbedPG" with Ray Tune and
RLlib's algorithm registry, and the environments `rllib_embed/*` and
`rllib_embed/SkillSpace-v0` with gymnasium and Tune (`register()`).

One exception: the `rllib` command imports this package before it parses its
arguments, so that `rllib --help` and argument errors answer before RLlib and
torch load; it calls `register()` itself once they parse.
"""

import os as _os
import sys as _sys

__version__ = "0.1.0"
__all__ = ["EmbedPG", "EmbedPGConfig", "envs", "register"]


def register() -> None:
    """Registers EmbedPG and the environments (idempotent)."""
    from rllib_embed import envs  # noqa: F401  (registers the environments)
    from rllib_embed.registration import register_algorithm
    from rllib_embed.transfer.registration import register_skill_space_env

    register_algorithm()
    register_skill_space_env()


def _launched_by_rllib_command() -> bool:
    """True inside the `rllib` console script (its file is named `rllib`), before it parses."""
    main = _sys.modules.get("__main__")
    return _os.path.basename(getattr(main, "__file__", None) or "") == "rllib"


def __getattr__(name):
    # Under the `rllib` command, before register(): EmbedPG and EmbedPGConfig on first use.
    if name in ("EmbedPG", "EmbedPGConfig"):
        register()
        from rllib_embed import embed_pg
        return getattr(embed_pg, name)
    raise AttributeError(f"module 'rllib_embed' has no attribute {name!r}")


if not _launched_by_rllib_command():
    register()
    from rllib_embed import envs  # noqa: E402,F401
    from rllib_embed.embed_pg import EmbedPG, EmbedPGConfig  # noqa: E402,F401
