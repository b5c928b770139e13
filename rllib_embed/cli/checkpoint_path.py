"""Finds the RLlib algorithm checkpoint a path means: the checkpoint folder itself, or a
Tune trial folder (its latest `checkpoint_*`). Plain file-system reads, no RLlib."""

from __future__ import annotations

import os
import re

from rllib_embed.cli.errors import CLIError

MARKER = "rllib_checkpoint.json"  # written by RLlib into every algorithm checkpoint
_TUNE_CHECKPOINT = re.compile(r"^checkpoint_(\d+)$")


def resolve_checkpoint(path: str) -> str:
    """The algorithm checkpoint folder at or under `path`; anything else raises CLIError."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(path):
        raise CLIError(f"checkpoint path does not exist: {path}")
    if not os.path.isdir(path):
        raise CLIError(f"not a checkpoint: {path} is a file; pass a checkpoint folder (with {MARKER}) "
                       f"or a Tune trial folder")
    if os.path.isfile(os.path.join(path, MARKER)):
        return path
    latest = _latest_tune_checkpoint(path)
    if latest:
        return latest
    trials = sorted(d for d in os.listdir(path) if _latest_tune_checkpoint(os.path.join(path, d)))
    if len(trials) == 1:
        return _latest_tune_checkpoint(os.path.join(path, trials[0]))
    if trials:
        raise CLIError(f"{path} is an experiment folder with {len(trials)} trials that have checkpoints; "
                       f"pass one trial folder, e.g. {os.path.join(path, trials[0])}")
    raise CLIError(f"not a checkpoint: {path} has no {MARKER} and no checkpoint_* folder holding one")


def _latest_tune_checkpoint(folder: str):
    if not os.path.isdir(folder):
        return None
    found = []
    for name in os.listdir(folder):
        match = _TUNE_CHECKPOINT.match(name)
        if match and os.path.isfile(os.path.join(folder, name, MARKER)):
            found.append((int(match.group(1)), name))
    return os.path.join(folder, max(found)[1]) if found else None
