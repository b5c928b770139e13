"""EmbedPGCallbacks' worst-task metrics: one Tune stop criterion for "every task solved"."""

from types import SimpleNamespace

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
