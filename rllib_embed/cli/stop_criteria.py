"""`--stop` / a file's `stop`, as a Tune Stopper that also refuses a key no result has.

Tune's own dict criteria warn once about a key missing from the result and then run until
every other criterion is met, i.e. forever for `{"env_runners/episode_retrun_mean": -5}`.
Here each trial's first result is checked: a stop key that is neither in it nor a metric
RLlib or EmbedPGCallbacks report later (once episodes end, e.g. `episode_return_mean`,
`env_runners/tasks/min_success_mean`; or any `evaluation/...` of those) stops the whole
experiment, and the `rllib` command exits 2 with one line naming the key and the result's
nearest keys (difflib).
"""

from __future__ import annotations

import difflib
import re
from numbers import Real
from typing import Dict, List, Optional

from ray.tune.stopper import Stopper


ENV_RUNNERS = "env_runners/"
EVALUATION = "evaluation/"
# EmbedPGCallbacks' per-task keys (rllib_embed/embed_pg/callbacks.py), present once episodes end.
_TASK_KEY = re.compile(r"^tasks/(min_(episode_return_mean|success_mean)|task_\d+/(episode_return_mean|success_mean))$")


def _rllib_metric_names() -> frozenset:
    import ray.rllib.utils.metrics as metrics
    return frozenset(v for k, v in vars(metrics).items() if k.isupper() and isinstance(v, str))


def reported_later(key: str) -> bool:
    """Whether `key` is a metric RLlib or EmbedPGCallbacks report only once episodes have ended."""
    if key.startswith(EVALUATION):
        key = key[len(EVALUATION):]
    if not key.startswith(ENV_RUNNERS):
        return False
    rest = key[len(ENV_RUNNERS):]
    return bool(_TASK_KEY.match(rest)) or rest.split("/", 1)[0] in _rllib_metric_names()


def unknown_key_message(key: str, flat_result: Dict) -> str:
    """One line: the key, and the nearest keys of the result."""
    close = difflib.get_close_matches(key, list(flat_result), n=3, cutoff=0.5)
    near = f"nearest keys in the result: {', '.join(close)}" if close else \
        "the result's keys are those in the trial's result.json (e.g. env_runners/episode_return_mean)"
    return f"stop key {key!r} is in no result, so the run would never stop on it; {near}"


class StopCriteria(Stopper):
    """Stops a trial when any metric reaches its value (`result[key] >= value`, as Tune's dict
    criteria; NaN never does); stops every trial when a key is unknown (see the module)."""

    def __init__(self, stop: Dict[str, float]) -> None:
        self.stop = dict(stop)
        self.unknown: Optional[str] = None  # the one-line message, once a key is found unknown
        self._checked: set = set()

    def __call__(self, trial_id: str, result: Dict) -> bool:
        from ray.tune.utils import flatten_dict

        flat = flatten_dict(result, delimiter="/")
        if trial_id not in self._checked:
            self._checked.add(trial_id)
            missing: List[str] = [k for k in self.stop if k not in flat and not reported_later(k)]
            if missing and self.unknown is None:
                self.unknown = unknown_key_message(missing[0], flat)
        if self.unknown is not None:
            return True
        return any(isinstance(flat.get(k), Real) and flat[k] >= v for k, v in self.stop.items())

    def stop_all(self) -> bool:
        return self.unknown is not None
