"""Ray Tune search spaces written as data (YAML or JSON), e.g. `lr: {loguniform: [1e-4, 1e-2]}`.

A mapping with exactly one key from `SPACES` is a search space anywhere in `config`;
everything else is an ordinary value. The spaces become Tune's own objects
(`tune.grid_search`, `tune.uniform`, ...), so Tune samples and expands them as usual.
`variants` gives concrete configs that cover every value a space can take at its edges,
so the algorithm's config can be validated before Tune starts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from numbers import Real
from typing import Any, Dict, List, Tuple

from rllib_embed.cli.errors import CLIError

# kind -> (ray.tune's function of that name, argument counts, the form shown in errors); Tune is
# imported only when a space is built, so parsing the command line stays fast.
SPACES: Dict[str, Tuple[str, Tuple[int, ...], str]] = {
    "grid_search": ("grid_search", (), "[v1, v2, ...]"),
    "choice": ("choice", (), "[v1, v2, ...]"),
    "uniform": ("uniform", (2,), "[low, high]"),
    "quniform": ("quniform", (3,), "[low, high, q]"),
    "loguniform": ("loguniform", (2, 3), "[low, high] or [low, high, base]"),
    "qloguniform": ("qloguniform", (3, 4), "[low, high, q] or [low, high, q, base]"),
    "randn": ("randn", (2,), "[mean, sd]"),
    "qrandn": ("qrandn", (3,), "[mean, sd, q]"),
    "randint": ("randint", (2,), "[low, high) (high excluded)"),
    "qrandint": ("qrandint", (3,), "[low, high, q] (high included)"),
    "lograndint": ("lograndint", (2, 3), "[low, high) or [low, high, base]"),
    "qlograndint": ("qlograndint", (3, 4), "[low, high, q] or [low, high, q, base]"),
}
_LISTS = ("grid_search", "choice")


@dataclass(frozen=True, eq=False)  # hashed by identity: args may hold lists
class Space:
    """One search space found at `path` (e.g. "config.lr")."""

    kind: str
    args: Tuple[Any, ...]
    path: str

    def to_tune(self) -> Any:
        from ray import tune
        make = getattr(tune, SPACES[self.kind][0])
        return make(list(self.args)) if self.kind in _LISTS else make(*self.args)

    def edge_values(self) -> List[Any]:
        """Values to validate: every listed one, or the low and high ends of a range."""
        if self.kind in _LISTS:
            return list(self.args)
        if self.kind in ("randn", "qrandn"):
            return [self.args[0]]
        low, high = self.args[0], self.args[1]
        if self.kind in ("randint", "lograndint"):
            high = high - 1  # high is excluded
        return [low, high]


def parse_spaces(value: Any, path: str) -> Any:
    """`value` with every search-space mapping replaced by a `Space`; bad ones raise CLIError."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in SPACES:
            kind, args = next(iter(value.items()))
            return _space(kind, args, path)
        return {key: parse_spaces(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [parse_spaces(item, f"{path}[{i}]") for i, item in enumerate(value)]
    return value


def _space(kind: str, args: Any, path: str) -> Space:
    _, counts, form = SPACES[kind]
    where = f"{path}: {{{kind}: ...}}"
    if not isinstance(args, list) or not args:
        raise CLIError(f"{where} takes a non-empty list {form}; got {args!r}")
    if kind not in _LISTS:
        if len(args) not in counts or not all(isinstance(a, Real) and not isinstance(a, bool) for a in args):
            raise CLIError(f"{where} takes numbers {form}; got {args!r}")
    space = Space(kind, tuple(args), path)
    try:
        space.to_tune()  # Tune's own checks (e.g. loguniform needs low > 0)
    except Exception as e:  # noqa: BLE001 - reported as one line, naming the field
        raise CLIError(f"{where} {args!r} is not a valid search space: {e}") from None
    return space


def contains_spaces(value: Any) -> bool:
    if isinstance(value, Space):
        return True
    if isinstance(value, dict):
        return any(contains_spaces(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_spaces(v) for v in value)
    return False


def to_tune(value: Any) -> Any:
    """The same structure with Tune's search-space objects in place of each `Space`."""
    if isinstance(value, Space):
        return value.to_tune()
    if isinstance(value, dict):
        return {k: to_tune(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_tune(v) for v in value]
    return value


def variants(value: Any) -> List[Any]:
    """Concrete versions of `value` that together take every space's edge values once.

    One space varies at a time (the others at their first value), so the count grows
    with the number of values, not with their product.
    """
    spaces = _find_spaces(value)
    first = {space: space.edge_values()[0] for space in spaces}
    out = [_substitute(value, first)]
    for space in spaces:
        for v in space.edge_values()[1:]:
            out.append(_substitute(value, {**first, space: v}))
    return out


def _find_spaces(value: Any) -> List[Space]:
    if isinstance(value, Space):
        return [value]
    if isinstance(value, dict):
        return list(itertools.chain.from_iterable(_find_spaces(v) for v in value.values()))
    if isinstance(value, list):
        return list(itertools.chain.from_iterable(_find_spaces(v) for v in value))
    return []


def _substitute(value: Any, chosen: Dict[Space, Any]) -> Any:
    if isinstance(value, Space):
        return chosen[value]
    if isinstance(value, dict):
        return {k: _substitute(v, chosen) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, chosen) for v in value]
    return value
