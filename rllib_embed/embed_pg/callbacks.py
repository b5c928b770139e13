"""Per-task episode metrics, logged on the env runners."""

from ray.rllib.callbacks.callbacks import RLlibCallback

TASKS_KEY = "tasks"


class EmbedPGCallbacks(RLlibCallback):
    """Logs `env_runners/tasks/task_<k>/{episode_return_mean, success_mean}`.

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
        key = (TASKS_KEY, f"task_{int(info['task_index'])}")
        metrics_logger.log_value(key + ("episode_return_mean",), episode.get_return(), window=window)
        if "success" in info:
            metrics_logger.log_value(key + ("success_mean",), float(info["success"]), window=window)
