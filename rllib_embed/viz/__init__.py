"""Pictures of a trained skill space (matplotlib, PNG, Agg backend).

``python -m rllib_embed.viz CHECKPOINT --out DIR`` or ``make_pictures(CHECKPOINT, DIR)``.
Sits on top of the algorithm and transfer/; nothing below imports it. matplotlib is the
optional extra ``rllib-embed[viz]``: without it, using these names raises ImportError
saying what to install.
"""

from rllib_embed.envs.optional_packages import require

__all__ = ["PICTURES", "find_results", "make_pictures", "require_matplotlib"]


def require_matplotlib():
    """``import matplotlib``, or ImportError naming ``pip install 'rllib-embed[viz]'``."""
    return require("matplotlib", "viz", "rllib_embed.viz (pictures)")


def __getattr__(name):  # PEP 562: the pictures (and matplotlib) are imported on first use
    if name in ("PICTURES", "find_results", "make_pictures"):
        require_matplotlib()
        from rllib_embed.viz import pictures
        return getattr(pictures, name)
    raise AttributeError(f"module 'rllib_embed.viz' has no attribute {name!r}")
