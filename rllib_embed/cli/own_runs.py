"""The experiment folders `rllib train` started on this machine, for this user.

Resuming an experiment (`--resume`) and reading another algorithm's checkpoint
(`rllib evaluate` of a PPO run) unpickle their files, which can run any code placed in
them. A folder this user's own `rllib train` started is trusted as the user's own work; any
other needs `--trust-checkpoint`. The record is one absolute path per line in
``$XDG_STATE_HOME/rllib_embed/experiments`` (default ``~/.local/state/...``), outside
every experiment folder, so a folder received from someone else cannot vouch for itself.
"""

from __future__ import annotations

import os
from typing import Optional


def record_path() -> str:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "rllib_embed", "experiments")


def remember(experiment_path: str) -> None:
    """Adds ``experiment_path`` to the record (a no-op where the record cannot be written)."""
    path = os.path.realpath(experiment_path)
    if path in _recorded():
        return
    try:
        os.makedirs(os.path.dirname(record_path()), exist_ok=True)
        with open(record_path(), "a", encoding="utf-8") as f:
            f.write(path + "\n")
    except OSError:
        pass


def started_here(path: str) -> Optional[str]:
    """The recorded experiment folder that holds ``path`` (a trial folder or a checkpoint in
    it, or the folder itself); None where no recorded one does."""
    path = os.path.realpath(path)
    for experiment in _recorded():
        if path == experiment or path.startswith(experiment + os.sep):
            return experiment
    return None


def _recorded() -> set:
    try:
        with open(record_path(), encoding="utf-8") as f:
            return {line.rstrip("\n") for line in f if line.strip()}
    except OSError:
        return set()
