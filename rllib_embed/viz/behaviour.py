"""What each task's skill does, for bodies whose observation is not a 2-D position."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from rllib_embed.transfer.rollout import Rollout
from rllib_embed.viz.style import new_figure, save, task_color


def behaviour_view(episodes: Mapping[int, list[Rollout]]) -> str:
    """What the rollouts' infos allow drawing: "plane" (``x_position`` and ``y_position``, e.g. Ant's
    torso), "x_velocity" (e.g. the cheetah), else "observation" (its first principal component)."""
    infos = [info for rollouts in episodes.values() for r in rollouts for info in r.infos[:1]]
    if infos and all("x_position" in i and "y_position" in i for i in infos):
        return "plane"
    if infos and all("x_velocity" in i for i in infos):
        return "x_velocity"
    return "observation"


def plot_behaviour(episodes: Mapping[int, list[Rollout]], path: str | os.PathLike) -> str:
    """Each task's rollouts, coloured by task, in the view `behaviour_view` picks: the body's path
    in the plane, its forward velocity (m/s) over time, or the first principal component of the
    observations over time."""
    view = behaviour_view(episodes)
    num_tasks = len(episodes)
    fig, ax = new_figure(7.0, 4.5)
    if view == "observation":
        stacked = np.concatenate([r.observations for rollouts in episodes.values() for r in rollouts])
        center = stacked.mean(axis=0)
        _, _, vt = np.linalg.svd(stacked - center, full_matrices=False)
    for k, rollouts in episodes.items():
        color = task_color(k, num_tasks)
        for j, r in enumerate(rollouts):
            label = f"task {k}" if j == 0 else None
            if view == "plane":
                ax.plot(r.info_values("x_position"), r.info_values("y_position"), color=color, alpha=0.7, label=label)
            elif view == "x_velocity":
                ax.plot(r.info_values("x_velocity"), color=color, alpha=0.7, linewidth=1.0, label=label)
            else:
                ax.plot((r.observations - center) @ vt[0], color=color, alpha=0.7, linewidth=1.0, label=label)
    titles = {"plane": ("x position", "y position", "the body's path under each task's skill (z ~ p(z|t))"),
              "x_velocity": ("env step", "forward velocity, m/s", "forward velocity under each task's skill"),
              "observation": ("env step", "observation, principal component 1",
                              "the observation under each task's skill")}
    xlabel, ylabel, title = titles[view]
    if view == "plane":
        ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return save(fig, path)
