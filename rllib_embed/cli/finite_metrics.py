"""A trial's metric as summaries and criteria read it: its last finite value, never NaN.

RLlib 2.60 reports `env_runners/episode_return_mean` (and any mean over episodes) as NaN
in an iteration in which no episode ended (e.g. 200-step episodes sampled I=50 steps at
a time: 3 iterations in 4). Comparing NaN decides nothing (`nan < x` and `nan >= x` are
both False), so readers take the trial's last finite value from its history (Tune's
`Result.metrics_dataframe`, i.e. progress.csv) and say which iteration it is from.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Dict, Optional, Tuple

ITERATION = "training_iteration"


def is_finite(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def last_finite(result, metrics: Dict[str, Any], key: str) -> Tuple[Optional[float], str]:
    """(value, note) of `key` for a Tune `Result` whose flattened last metrics are `metrics`.

    value is the last result's value when finite, else the last finite one in the trial's
    history, else None. note is "" for the last result's own value, otherwise one phrase
    saying where the value came from (for the summary and the verdict).
    """
    value = metrics.get(key)
    if is_finite(value):
        return float(value), ""
    if key not in metrics:
        return None, "(not in the last result)"
    last_iteration = metrics.get(ITERATION)
    frame = getattr(result, "metrics_dataframe", None)
    if frame is not None and key in frame:
        for i in range(len(frame) - 1, -1, -1):
            earlier = frame[key].iloc[i]
            if is_finite(earlier):
                iteration = frame[ITERATION].iloc[i] if ITERATION in frame else "?"
                return float(earlier), (f"(last finite value, from iteration {iteration}; iteration "
                                        f"{last_iteration} reported {value}: no episode ended in it)")
    return None, f"(no finite value in any iteration; the last reported {value}: no episode ended?)"
