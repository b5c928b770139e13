"""Learning curves per task from a run's result folder (Tune's result.json or progress.csv)."""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from rllib_embed.viz.style import new_figure, save, task_color

TASK_METRIC = re.compile(r"^env_runners/tasks/task_(\d+)/(episode_return_mean|success_mean)$")
STEPS_KEYS = ("env_runners/num_env_steps_sampled_lifetime", "num_env_steps_sampled_lifetime")


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "/"))
        else:
            flat[name] = value
    return flat


def read_results(result_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """One flat dict ("a/b/c" keys) per training iteration, from result.json, else progress.csv."""
    result_dir = os.fspath(result_dir)
    json_path, csv_path = os.path.join(result_dir, "result.json"), os.path.join(result_dir, "progress.csv")
    if os.path.isfile(json_path):
        with open(json_path, encoding="utf-8") as f:
            return [_flatten(json.loads(line)) for line in f if line.strip()]
    if os.path.isfile(csv_path):
        with open(csv_path, encoding="utf-8", newline="") as f:
            return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]
    raise ValueError(f"results: {result_dir!r} has neither result.json nor progress.csv (a Tune trial folder has both)")


def _number(text: str) -> Any:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def task_curves(rows: list[dict[str, Any]]) -> dict[str, dict[int, tuple[list[float], list[float]]]]:
    """{metric: {task: (env steps, values)}} for each per-task metric present in ``rows``."""
    curves: dict[str, dict[int, tuple[list[float], list[float]]]] = {}
    for row in rows:
        steps = next((row[k] for k in STEPS_KEYS if isinstance(row.get(k), (int, float))), None)
        if steps is None:
            continue
        for key, value in row.items():
            match = TASK_METRIC.match(key)
            if match and isinstance(value, (int, float)) and math.isfinite(value):
                xs, ys = curves.setdefault(match.group(2), {}).setdefault(int(match.group(1)), ([], []))
                xs.append(float(steps))
                ys.append(float(value))
    return curves


def moving_average(values: list[float], window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` points (per-iteration values are noisy: few episodes each)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def plot_learning_curves(result_dir: str | os.PathLike, path: str | os.PathLike) -> str:
    """Per-task mean episode return and success rate against env steps sampled (faint: per
    iteration; solid: trailing mean over 1/25 of the run)."""
    curves = task_curves(read_results(result_dir))
    if not curves:
        raise ValueError(f"results: {os.fspath(result_dir)!r} has no per-task metrics "
                         f"(env_runners/tasks/task_<k>/...; logged by EmbedPGCallbacks)")
    metrics = [m for m in ("episode_return_mean", "success_mean") if m in curves]
    fig, axes = new_figure(5.0 * len(metrics), 4.0)
    fig.clear()
    for i, metric in enumerate(metrics, start=1):
        ax = fig.add_subplot(1, len(metrics), i)
        tasks = curves[metric]
        for k in sorted(tasks):
            xs, ys = tasks[k]
            color = task_color(k, len(tasks))
            ax.plot(xs, ys, color=color, alpha=0.2, linewidth=0.8)
            ax.plot(xs, moving_average(ys, max(1, len(ys) // 25)), color=color, label=f"task {k}")
        ax.set_xlabel("env steps sampled")
        ax.set_ylabel(metric)
        ax.set_title(metric.replace("_", " "))
        ax.legend(loc="best", fontsize=8)
    return save(fig, path)
