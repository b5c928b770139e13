"""Summaries and `rllib regress` never compare against NaN."""

import math
from types import SimpleNamespace

import pandas as pd

from rllib_embed.cli.finite_metrics import last_finite
from rllib_embed.cli.regression import judge as judge_with_ends
from rllib_embed.cli.run_state import TrialEnd

KEY = "env_runners/episode_return_mean"
NAN = float("nan")


def judge(results, criteria):
    """`regression.judge` on trials that all ended as Tune finishes them."""
    return judge_with_ends(results, criteria, [TrialEnd("TERMINATED", None, None) for _ in results])


def _result(returns, error=None):
    """A Tune Result whose history has `returns` per iteration (NaN: no episode ended)."""
    frame = pd.DataFrame({"training_iteration": range(1, len(returns) + 1), KEY: returns})
    last = {"training_iteration": len(returns), "env_runners": {"episode_return_mean": returns[-1]}}
    return SimpleNamespace(metrics=last, metrics_dataframe=frame, error=error)


def test_a_nan_last_value_is_judged_by_the_last_finite_one_and_says_so():
    result = _result([-50.0, -20.0, NAN, NAN])
    assert judge([result], {KEY: -1000.0}) == []  # the issue's `= nan < -1000` failure
    value, note = last_finite(result, {KEY: NAN, "training_iteration": 4}, KEY)
    assert value == -20.0 and "from iteration 2" in note and "iteration 4 reported nan" in note
    (failure,) = judge([result], {KEY: -10.0})  # the last finite value misses: a failure naming it
    assert "= -20.0 < -10.0 (last finite value, from iteration 2" in failure and "nan <" not in failure


def test_no_finite_value_at_all_fails_without_comparing():
    for returns in ([NAN, NAN], [math.inf], [-math.inf]):
        (failure,) = judge([_result(returns)], {KEY: -1000.0})
        assert "no value to judge" in failure and " < -1000" not in failure


def test_a_key_the_result_lacks_fails_by_name():
    (failure,) = judge([_result([-1.0])], {"env_runners/tasks/min_success_mean": 0.5})
    assert "env_runners/tasks/min_success_mean: no value to judge (not in the last result)" in failure


def test_a_finite_last_value_is_used_as_it_is():
    result = _result([NAN, -3.0])
    assert last_finite(result, {KEY: -3.0}, KEY) == (-3.0, "")
    assert judge([result], {KEY: -2.0}) == [f"trial 0: {KEY} = -3.0 < -2.0 (stopped at training_iteration=2)"]
