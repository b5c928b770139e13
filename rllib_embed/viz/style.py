"""Shared matplotlib setup: the non-interactive Agg backend, task colours, figure saving."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only: no display needed (CI, clusters)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DPI = 100


def task_color(k: int, num_tasks: int):
    """One colour per task, spread over a qualitative colormap."""
    cmap = plt.get_cmap("tab10" if num_tasks <= 10 else "tab20")
    return cmap(k % cmap.N)


def new_figure(width: float = 6.0, height: float = 5.0, columns: int = 1):
    """(figure, axes): one axes, or a row of ``columns``."""
    return plt.subplots(1, columns, figsize=(width, height), dpi=DPI)


def save(fig, path: str | os.PathLike) -> str:
    """Writes ``fig`` as PNG to ``path`` (parents created) and closes it."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=DPI)
    plt.close(fig)
    return path


def point_tasks(tasks) -> np.ndarray | None:
    """Task descriptions as [K, 2] points where they are 2-D positions (PointGoals' goals), else None."""
    try:
        points = np.asarray(tasks, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return points if points.ndim == 2 and points.shape[1] == 2 else None
