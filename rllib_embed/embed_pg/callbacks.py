"""Per-task episode metrics, logged on the env runners."""

from ray.rllib.callbacks.callbacks import RLlibCallback

TASKS_KEY = "tasks"
TASK_PREFIX = "task_"


def per_task_metrics(tasks: dict) -> dict:
    """{k: metrics of task k} from a result's `env_runners/tasks` (leaves out the min_* keys)."""
    found = {int(key[len(TASK_PREFIX):]): value for key, value in tasks.items()
             if key.startswith(TASK_PREFIX) and isinstance(value, dict)}
    return dict(sorted(found.items()))


class EmbedPGCallbacks(RLlibCallback):
    """Logs `env_runners/tasks/task_<k>/{episode_return_mean, success_mean}`.

    Each result also gets `env_runners/tasks/min_episode_return_mean` and
    `env_runners/tasks/min_success_mean`: the worst task's value, so that "every task is
    solved" is one Tune stop criterion (e.g. `{"env_runners/tasks/min_success_mean": 0.9}`).

    Success is the env's `info["success"]` at the episode's last step, where the env
    reports it. Subclass this (and call super) to add your own callbacks.
    """

    def on_episode_end(self, *, episode, env_runner=None, metrics_logger=None, **kwargs) -> None:
        if metrics_logger is None:
            return
        info = episode.get_infos(-1)
        if "task_index" not in info:
            return
        window = env_runner.config.metrics_num_episodes_for_smoothing if env_runner is not None else 100
        key = (TASKS_KEY, f"{TASK_PREFIX}{int(info['task_index'])}")
        metrics_logger.log_value(key + ("episode_return_mean",), episode.get_return(), window=window)
        if "success" in info:
            metrics_logger.log_value(key + ("success_mean",), float(info["success"]), window=window)

    def on_train_result(self, *, algorithm=None, metrics_logger=None, result=None, **kwargs) -> None:
        tasks = (result or {}).get("env_runners", {}).get(TASKS_KEY)
        if not tasks:
            return
        per_task = list(per_task_metrics(tasks).values())
        num_tasks = getattr(getattr(algorithm, "config", None), "num_tasks", None)
        if num_tasks and len(per_task) < num_tasks:
            return  # a task without finished episodes yet: no worst-task value to report
        for name in ("episode_return_mean", "success_mean"):
            values = [float(v[name]) for v in per_task if name in v]
            if len(values) == len(per_task):
                tasks[f"min_{name}"] = min(values)
