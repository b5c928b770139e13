"""The complete RLlib algorithm checkpoint a command-line path means (the folder itself, or a
Tune trial folder's newest complete `checkpoint_*`), as `rllib_embed.embed_pg.checkpoint_files`
finds it; its CheckpointError becomes the command's one-line CLIError."""

from __future__ import annotations

from typing import Callable, Optional

from rllib_embed.cli.errors import CLIError


def resolve_checkpoint(path: str, say: Optional[Callable[[str], None]] = None) -> str:
    """The complete algorithm checkpoint at or under `path` (says which, and why newer ones were
    skipped, through ``say``: default stderr); else CLIError."""
    from rllib_embed.embed_pg.checkpoint_files import CheckpointError, resolve_checkpoint as resolve

    try:
        return resolve(path, say=say)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
