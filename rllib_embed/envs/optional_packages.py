"""Imports of the optional simulators, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, extra: str, env_name: str) -> ModuleType:
    """``import module``, or ImportError saying ``pip install 'rllib-embed[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{env_name} needs the optional package {module!r}: "
            f"pip install 'rllib-embed[{extra}]' (from a checkout: pip install -e '.[{extra}]')"
        ) from error
