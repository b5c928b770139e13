"""Trajectories of a 2-D env under each task's skill, coloured by task."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from rllib_embed.transfer.interpolation import InterpolationSweep
from rllib_embed.transfer.rollout import Rollout
from rllib_embed.viz.style import new_figure, save, task_color


def _mark_goals(ax, goals: np.ndarray | None, num_tasks: int, colored: bool = True) -> None:
    """Stars at the tasks' goals: in the task's colour, or white and labelled (where colour means w)."""
    if goals is None:
        return
    for k, goal in enumerate(goals):
        ax.plot(*goal, marker="*", markersize=16, markeredgecolor="black",
                color=task_color(k, num_tasks) if colored else "white", zorder=4)
        if not colored:
            ax.annotate(f"task {k}", goal, textcoords="offset points", xytext=(8 if goal[0] <= 0 else -42, 8), fontsize=8)


def plot_trajectories(episodes: Mapping[int, list[Rollout]], path: str | os.PathLike,
                      goals: np.ndarray | None = None) -> str:
    """Positions over each episode (2-D observations), one colour per task; stars: the tasks' goals."""
    num_tasks = len(episodes)
    fig, ax = new_figure()
    for k, rollouts in episodes.items():
        color = task_color(k, num_tasks)
        for j, r in enumerate(rollouts):
            ax.plot(r.observations[:, 0], r.observations[:, 1], color=color, alpha=0.7, linewidth=1.2,
                    label=f"task {k}" if j == 0 else None)
            ax.plot(*r.observations[-1, :2], marker="o", color=color, markersize=4)
    _mark_goals(ax, goals, num_tasks)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("trajectories under each task's skill (z ~ p(z|t))")
    ax.legend(loc="best", fontsize=8)
    return save(fig, path)


def plot_interpolation(sweeps: list[InterpolationSweep], path: str | os.PathLike,
                       goals: np.ndarray | None = None, num_tasks: int | None = None) -> str:
    """Final positions (and first episode's path) under z = (1-w) mu_a + w mu_b, coloured by w."""
    import matplotlib.pyplot as plt

    fig, ax = new_figure()
    cmap = plt.get_cmap("viridis")
    for sweep in sweeps:
        for w, row in zip(sweep.weights, sweep.rollouts):
            first = row[0].observations
            ax.plot(first[:, 0], first[:, 1], color=cmap(w), alpha=0.35, linewidth=0.8)
        finals = sweep.final_observations()
        for w, ends in zip(sweep.weights, finals):
            ax.scatter(ends[:, 0], ends[:, 1], color=cmap(w), s=18, edgecolors="black", linewidths=0.3, zorder=3)
    _mark_goals(ax, goals, num_tasks or (0 if goals is None else len(goals)), colored=False)
    mappable = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0.0, 1.0))
    fig.colorbar(mappable, ax=ax, label="w  (z = (1-w) mu_a + w mu_b)")
    pairs = ", ".join(f"{s.task_a}->{s.task_b}" for s in sweeps)
    ax.set_title(f"skill interpolation, tasks {pairs}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return save(fig, path)
