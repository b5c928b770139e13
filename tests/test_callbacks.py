"""EmbedPGCallbacks' worst-task metrics: one Tune stop criterion for "every task solved"."""

from types import SimpleNamespace

import pytest

from rllib_embed.embed_pg.callbacks import EmbedPGCallbacks, per_task_metrics


def _result(tasks):
    return {"env_runners": {"tasks": tasks}}


def _algo(num_tasks):
    return SimpleNamespace(config=SimpleNamespace(num_tasks=num_tasks))


def test_worst_task_return_and_success_are_added():
    tasks = {f"task_{k}": {"episode_return_mean": -float(k), "success_mean": 1.0 - 0.1 * k} for k in range(11)}
    result = _result(tasks)
    EmbedPGCallbacks().on_train_result(algorithm=_algo(11), result=result)
    assert result["env_runners"]["tasks"]["min_episode_return_mean"] == -10.0
    assert result["env_runners"]["tasks"]["min_success_mean"] == 1.0 - 0.1 * 10
    assert list(per_task_metrics(result["env_runners"]["tasks"])) == list(range(11))  # numeric order


def test_no_worst_task_value_while_a_task_has_no_episodes_yet():
    result = _result({"task_0": {"episode_return_mean": -1.0, "success_mean": 1.0}})
    EmbedPGCallbacks().on_train_result(algorithm=_algo(2), result=result)
    assert "min_success_mean" not in result["env_runners"]["tasks"]


def test_success_is_left_out_where_the_env_reports_none():
    result = _result({"task_0": {"episode_return_mean": -1.0}, "task_1": {"episode_return_mean": -3.0}})
    EmbedPGCallbacks().on_train_result(algorithm=_algo(2), result=result)
    assert result["env_runners"]["tasks"]["min_episode_return_mean"] == -3.0
    assert "min_success_mean" not in result["env_runners"]["tasks"]


# ---- smoothing over each task's last N finished episodes ----------------

def _round(**per_task):
    """A result as RLlib 2.60 reduces the env runners' per-episode items: a list, one number, or []."""
    return _result({f"task_{k}": {"episode_returns": r, "episode_successes": s} for k, (r, s) in per_task.items()})


def _windowed_algo(num_tasks, window):
    from rllib_embed.embed_pg.callbacks import TaskEpisodeWindows
    return SimpleNamespace(config=SimpleNamespace(num_tasks=num_tasks, metrics_num_episodes_for_smoothing=window),
                           task_episode_windows=TaskEpisodeWindows(window))


def test_per_task_means_are_over_the_last_n_episodes_and_never_nan_once_one_ended():
    import math
    algo, callbacks = _windowed_algo(2, window=3), EmbedPGCallbacks()
    rounds = [
        _round(**{"0": ([], []), "1": ([], [])}),                      # nothing ended yet
        _round(**{"0": (-4.0, 0.0), "1": ([-1.0, -3.0], [1.0, 0.0])}),  # one number = one episode
        _round(**{"0": ([], []), "1": ([], [])}),                      # an iteration without an end
        _round(**{"0": ([-2.0, -6.0, -8.0], [1.0, 1.0, 1.0]), "1": (float("nan"), float("nan"))}),
    ]
    seen = []
    for result in rounds:
        callbacks.on_train_result(algorithm=algo, result=result)
        seen.append(result["env_runners"]["tasks"])
    assert seen[0] == {}  # no task has an episode: no value at all (not NaN)
    assert seen[1]["task_0"] == {"episode_return_mean": -4.0, "success_mean": 0.0}
    assert seen[1]["task_1"] == {"episode_return_mean": -2.0, "success_mean": 0.5}
    assert seen[2] == seen[1]  # no episode ended: the same smoothed values, not NaN
    # Window N=3: task 0 keeps -2, -6, -8 (the -4 slid out); task 1's NaN round adds nothing.
    assert seen[3]["task_0"] == {"episode_return_mean": pytest.approx(-16.0 / 3), "success_mean": 1.0}
    assert seen[3]["task_1"] == {"episode_return_mean": -2.0, "success_mean": 0.5}
    assert seen[3]["min_episode_return_mean"] == pytest.approx(-16.0 / 3) and seen[3]["min_success_mean"] == 0.5
    for tasks in seen[1:]:
        assert all(math.isfinite(v) for t in per_task_metrics(tasks).values() for v in t.values())
        assert "episode_returns" not in str(tasks)  # the raw per-episode lists are not reported


def test_worst_task_values_wait_for_every_task_to_finish_an_episode():
    algo, callbacks = _windowed_algo(2, window=5), EmbedPGCallbacks()
    result = _round(**{"0": ([-1.0], [1.0]), "1": ([], [])})
    callbacks.on_train_result(algorithm=algo, result=result)
    assert set(result["env_runners"]["tasks"]) == {"task_0"}  # no min_*: task 1 has no episode yet


def test_evaluation_results_are_this_rounds_means_not_windowed():
    algo, callbacks = _windowed_algo(1, window=5), EmbedPGCallbacks()
    for returns, expected in (([-1.0, -3.0], -2.0), ([-10.0], -10.0)):
        result = {"evaluation": {"env_runners": {"tasks": {"task_0": {"episode_returns": returns}}}}}
        callbacks.on_train_result(algorithm=algo, result=result)
        assert result["evaluation"]["env_runners"]["tasks"] == {
            "task_0": {"episode_return_mean": expected}, "min_episode_return_mean": expected}
    assert algo.task_episode_windows.means() == {}  # evaluation episodes are not training episodes


def test_windows_survive_get_state_and_set_state():
    from rllib_embed.embed_pg.callbacks import TaskEpisodeWindows
    windows = TaskEpisodeWindows(2)
    windows.add("task_0", "episode_return_mean", [1.0, 2.0, 3.0])
    restored = TaskEpisodeWindows(100)
    restored.set_state(windows.get_state())
    restored.add("task_0", "episode_return_mean", [5.0])
    assert restored.means() == {"task_0": {"episode_return_mean": 4.0}}  # window 2: [3, 5]


@pytest.mark.usefixtures("ray_session")
def test_200_step_episodes_sampled_50_at_a_time_never_report_nan_per_task_metrics(tmp_path):
    """The issue's instance: RLlib's own episode_return_mean is NaN 3 iterations in 4; ours are not,
    and a restored algorithm keeps the windows."""
    import math

    from rllib_embed import EmbedPG, EmbedPGConfig

    config = (EmbedPGConfig()
              .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2, "episode_len": 200})
              .env_runners(num_env_runners=0, rollout_fragment_length=50)
              .training(policy_hiddens=[8], inference_hiddens=[8], value_hiddens=[8], value_epochs=1)
              .reporting(metrics_num_episodes_for_smoothing=3)
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        results = [algo.train()["env_runners"] for _ in range(6)]
        algo.save_to_path(tmp_path / "ckpt")
        saved = algo.task_episode_windows.get_state()
    finally:
        algo.stop()
    # RLlib's own mean: absent before the first end, NaN where no episode ended (iterations 5, 6).
    assert "episode_return_mean" not in results[2] and math.isnan(results[4]["episode_return_mean"])
    for i, runners in enumerate(results[3:], start=4):
        tasks = runners["tasks"]
        for k in range(2):
            assert math.isfinite(tasks[f"task_{k}"]["episode_return_mean"]), (i, tasks)
            assert 0.0 <= tasks[f"task_{k}"]["success_mean"] <= 1.0, (i, tasks)
        assert tasks == results[3]["tasks"]  # iterations 5, 6 ended no episode: iteration 4's values
    # Iteration 4 ended one episode per task; their mean is RLlib's own value of that iteration.
    per_task = [results[3]["tasks"][f"task_{k}"]["episode_return_mean"] for k in range(2)]
    assert sum(per_task) / 2 == pytest.approx(results[3]["episode_return_mean"])
    restored = EmbedPG.from_checkpoint(tmp_path / "ckpt")
    try:
        assert restored.task_episode_windows.get_state() == saved
        tasks = restored.train()["env_runners"]["tasks"]  # iteration 7 ends no episode either
        assert tasks["task_0"]["episode_return_mean"] == per_task[0]
    finally:
        restored.stop()
