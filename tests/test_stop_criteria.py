"""`--stop` keys: Tune's dict semantics, and a key no result has stops the run."""

import pytest

from rllib_embed.cli.stop_criteria import StopCriteria, reported_later

FIRST = {"training_iteration": 1, "num_env_steps_sampled_lifetime": 40,
         "env_runners": {"num_env_steps_sampled": 40, "num_episodes": 0}}


@pytest.mark.parametrize("typo, nearest", [
    ("env_runners/episode_retrun_mean", "env_runners/episode_return_mean"),  # an RLlib episode metric
    ("env_runners/tasks/min_sucess_mean", "env_runners/tasks/min_success_mean"),  # EmbedPGCallbacks'
    ("training_iteraton", "training_iteration"),
    ("num_env_steps_sampled_lifetme", "num_env_steps_sampled_lifetime"),
    ("evaluation/env_runners/episode_retrun_mean", "env_runners/episode_return_mean"),
])
def test_a_key_no_result_has_stops_everything_after_the_first_result(typo, nearest):
    stopper = StopCriteria({typo: 1.0, "training_iteration": 100})
    result = {**FIRST, "env_runners": {**FIRST["env_runners"], "episode_return_mean": -3.0,
                                       "tasks": {"min_success_mean": 0.0}}}
    assert stopper("trial_a", result) is True and stopper.stop_all()
    assert stopper.unknown.startswith(f"stop key {typo!r} is in no result, so the run would never stop on it; "
                                      "nearest keys in the result: ")
    assert nearest in stopper.unknown and "\n" not in stopper.unknown


@pytest.mark.parametrize("key", ["env_runners/episode_return_mean", "env_runners/tasks/min_success_mean",
                                 "env_runners/tasks/task_3/episode_return_mean", "env_runners/episode_len_mean",
                                 "evaluation/env_runners/episode_return_mean",
                                 "env_runners/module_episode_returns_mean/default_policy"])
def test_metrics_that_appear_once_episodes_end_are_not_refused_before(key):
    assert reported_later(key)
    stopper = StopCriteria({key: 0.5, "training_iteration": 3})
    assert stopper("t", FIRST) is False and not stopper.stop_all()  # no episode ended yet: key absent
    assert stopper("t", {**FIRST, "training_iteration": 3}) is True  # the budget still stops it
    assert stopper.unknown is None


def test_dict_semantics_and_nan_never_stops():
    stopper = StopCriteria({"env_runners/episode_return_mean": -5.0})
    nested = lambda v: {**FIRST, "env_runners": {"episode_return_mean": v}}  # noqa: E731
    assert stopper("t", nested(float("nan"))) is False
    assert stopper("t", nested(-6.0)) is False
    assert stopper("t", nested(-5.0)) is True
