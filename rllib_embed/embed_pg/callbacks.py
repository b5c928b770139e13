"""Per-task episode metrics: logged per episode on the env runners, smoothed on the algorithm."""

import math
from collections import deque
from numbers import Real
from typing import Dict, Iterable, Optional

from ray.rllib.callbacks.callbacks import RLlibCallback

TASKS_KEY = "tasks"
TASK_PREFIX = "task_"
METRICS = ("episode_return_mean", "success_mean")
# Per finished episode, what the env runners send (RLlib's "item_series": every value, cleared each iteration).
_EPISODE_VALUES = {"episode_return_mean": "episode_returns", "success_mean": "episode_successes"}


def per_task_metrics(tasks: dict) -> dict:
    """{k: metrics of task k} from a result's `env_runners/tasks` (leaves out the min_* keys)."""
    found = {int(key[len(TASK_PREFIX):]): value for key, value in tasks.items()
             if key.startswith(TASK_PREFIX) and isinstance(value, dict)}
    return dict(sorted(found.items()))


class TaskEpisodeWindows:
    """The last N finished episodes' values of each task, kept across iterations.

    RLlib 2.60 clears its metric windows on every reduce, so a mean over
    `metrics_num_episodes_for_smoothing` episodes is NaN in any iteration in which no
    episode ended (an episode longer than I steps ends in 1 iteration of ceil(len/I)).
    These windows keep the last N values per task and metric; `EmbedPG` saves them in
    its checkpoints (`get_state` / `set_state`).
    """

    def __init__(self, window: int) -> None:
        self.window = int(window)
        self._values: Dict[str, Dict[str, deque]] = {}

    def add(self, task: str, metric: str, values: Iterable[float]) -> None:
        by_metric = self._values.setdefault(task, {})
        by_metric.setdefault(metric, deque(maxlen=self.window)).extend(float(v) for v in values)

    def means(self) -> Dict[str, Dict[str, float]]:
        """{task_key: {metric: mean over its last N episodes}} for every task with an episode."""
        means = {task: {m: sum(v) / len(v) for m, v in by_metric.items() if v}
                 for task, by_metric in self._values.items()}
        return {task: m for task, m in means.items() if m}

    def get_state(self) -> dict:
        return {"window": self.window,
                "values": {t: {m: list(v) for m, v in bm.items()} for t, bm in self._values.items()}}

    def set_state(self, state: dict) -> None:
        self.__init__(state["window"])
        for task, by_metric in state["values"].items():
            for metric, values in by_metric.items():
                self.add(task, metric, values)


class EmbedPGCallbacks(RLlibCallback):
    """Logs `env_runners/tasks/task_<k>/{episode_return_mean, success_mean}`.

    Each is the mean over task k's last N = `metrics_num_episodes_for_smoothing` finished
    episodes, however many iterations ago they ended (as RLlib describes its own
    `episode_return_mean`), so it is never NaN once task k has finished one episode.
    Each result also gets `env_runners/tasks/min_episode_return_mean` and
    `env_runners/tasks/min_success_mean`: the worst task's value, so that "every task is
    solved" is one Tune stop criterion (e.g. `{"env_runners/tasks/min_success_mean": 0.9}`);
    absent until every task has finished an episode. Evaluation results
    (`evaluation/env_runners/tasks/...`) are the means over that evaluation's episodes.

    Success is the env's `info["success"]` at the episode's last step, where the env
    reports it. Subclass this (and call super) to add your own callbacks.
    """

    def __init__(self):
        super().__init__()
        self._fallback_windows: Optional[TaskEpisodeWindows] = None

    def on_episode_end(self, *, episode, env_runner=None, metrics_logger=None, prev_episode_chunks=None,
                       **kwargs) -> None:
        if metrics_logger is None:
            return
        info = episode.get_infos(-1)
        if "task_index" not in info:
            return
        key = (TASKS_KEY, f"{TASK_PREFIX}{int(info['task_index'])}")
        # An episode longer than I steps arrives in chunks; its return is theirs summed (as RLlib's own).
        episode_return = episode.get_return() + sum(c.get_return() for c in prev_episode_chunks or ())
        metrics_logger.log_value(key + (_EPISODE_VALUES["episode_return_mean"],), float(episode_return),
                                 reduce="item_series")
        if "success" in info:
            metrics_logger.log_value(key + (_EPISODE_VALUES["success_mean"],), float(info["success"]),
                                     reduce="item_series")

    def on_train_result(self, *, algorithm=None, metrics_logger=None, result=None, **kwargs) -> None:
        result = result or {}
        num_tasks = getattr(getattr(algorithm, "config", None), "num_tasks", None)
        tasks = result.get("env_runners", {}).get(TASKS_KEY)
        if tasks is not None:
            _smooth(tasks, self._windows(algorithm))
            _add_worst_task(tasks, num_tasks)
        eval_tasks = result.get("evaluation", {}).get("env_runners", {}).get(TASKS_KEY)
        if eval_tasks is not None:
            _smooth(eval_tasks, None)
            _add_worst_task(eval_tasks, num_tasks)

    def _windows(self, algorithm) -> TaskEpisodeWindows:
        windows = getattr(algorithm, "task_episode_windows", None)
        if windows is None:  # another algorithm using these callbacks: windows live here, not checkpointed
            if self._fallback_windows is None:
                window = getattr(getattr(algorithm, "config", None), "metrics_num_episodes_for_smoothing", 100)
                self._fallback_windows = TaskEpisodeWindows(window)
            windows = self._fallback_windows
        return windows


def _smooth(tasks: dict, windows: Optional[TaskEpisodeWindows]) -> None:
    """Replaces the per-episode lists in `tasks` by means (over the last N, or this round's episodes)."""
    this_round = {}
    for task, values in list(tasks.items()):
        if not (task.startswith(TASK_PREFIX) and isinstance(values, dict)):
            continue
        for metric, raw_key in _EPISODE_VALUES.items():
            episodes = _finite(values.pop(raw_key, ()))
            if windows is not None:
                windows.add(task, metric, episodes)
            elif episodes:
                this_round.setdefault(task, {})[metric] = sum(episodes) / len(episodes)
        if not values:
            del tasks[task]
    for task, means in (windows.means() if windows is not None else this_round).items():
        tasks.setdefault(task, {}).update(means)


def _finite(values) -> list:
    """The finite values RLlib's item_series gave: a list, one number (a single episode), or none."""
    if isinstance(values, Real):
        values = [values]
    elif not isinstance(values, (list, tuple, deque)):
        return []
    return [float(v) for v in values if isinstance(v, Real) and math.isfinite(v)]


def _add_worst_task(tasks: dict, num_tasks: Optional[int]) -> None:
    per_task = list(per_task_metrics(tasks).values())
    if not per_task or (num_tasks and len(per_task) < num_tasks):
        return  # a task without finished episodes yet: no worst-task value to report
    for name in METRICS:
        values = [float(v[name]) for v in per_task if name in v]
        if len(values) == len(per_task):
            tasks[f"min_{name}"] = min(values)
