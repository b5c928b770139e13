"""Pictures of the skill space: p(z|t) per task, and q's inferred z for rollouts over it."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch
from matplotlib.patches import Ellipse

from rllib_embed.embed_pg.connectors.skill_windows import observation_windows
from rllib_embed.transfer.checkpoint import task_embeddings
from rllib_embed.transfer.rollout import ObservationFilter, Rollout
from rllib_embed.viz.projection import LatentProjection, separation
from rllib_embed.viz.style import new_figure, save, task_color

ELLIPSE_STDS = 2.0  # ellipses mark 2 standard deviations of p(z|t)


def inferred_skills(module, episode: Rollout, normalize_obs: ObservationFilter = None) -> np.ndarray:
    """q's mean z at every step i of an episode, from (a_i, s_i^H): [steps, latent_dim].

    The windows are the ones the learner builds (padded with s_0 at the episode start), of
    observations normalised as in training: by `normalize_obs`, else by the statistics the
    module carries (`module.observation_normalizer`), if any.
    """
    observations = episode.observations[:-1]
    normalize_obs = normalize_obs or getattr(module, "observation_normalizer", None)
    if normalize_obs is not None:
        observations = normalize_obs(observations)
    windows = observation_windows(observations, 0, module.history_len)
    with torch.no_grad():
        actions = module.action_features(torch.as_tensor(episode.actions))
        mean, _ = module.inference_params(actions, torch.as_tensor(windows, dtype=torch.float32))
    return mean.numpy()


def _draw_embedding(ax, module, projection: LatentProjection) -> None:
    means, stds = task_embeddings(module)
    for k, (mean, std) in enumerate(zip(means, stds)):
        color = task_color(k, len(means))
        center = projection(mean)
        eigenvalues, eigenvectors = np.linalg.eigh(projection.covariance(std))
        width, height = 2 * ELLIPSE_STDS * np.sqrt(np.maximum(eigenvalues[::-1], 0.0))
        angle = np.degrees(np.arctan2(eigenvectors[1, -1], eigenvectors[0, -1]))
        ax.add_patch(Ellipse(center, width, height, angle=angle, facecolor=(*color[:3], 0.15),
                             edgecolor=color, linewidth=1.5))
        ax.plot(*center, marker="o", color=color, markersize=7, label=f"task {k}")
    ax.set_xlabel(projection.labels[0])
    ax.set_ylabel(projection.labels[1])
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()


def task_projection(module) -> LatentProjection:
    """The 2-D view of the tasks' p(z|t) that keeps them apart (`LatentProjection`, each task's
    spread its mean sigma)."""
    means, stds = task_embeddings(module)
    return LatentProjection(means, stds.mean(axis=1))


def plot_embedding_space(module, path: str | os.PathLike) -> str:
    """Left: each task's p(z|t), its mean and a 2-sigma covariance ellipse, in the 2-D view that
    keeps the tasks apart (`task_projection`). Right: every pair's distance between means in the
    full latent space, in units of the two tasks' mean sigma (a 2-D view can only shrink them)."""
    means, stds = task_embeddings(module)
    fig, (ax, table) = new_figure(11.0, 5.0, columns=2)
    _draw_embedding(ax, module, task_projection(module))
    ax.set_title(f"skill embedding p(z|t), latent_dim={module.latent_dim} (ellipses: {ELLIPSE_STDS:g} std)")
    ax.legend(loc="best", fontsize=8)
    distances = separation(means, stds.mean(axis=1))
    image = table.imshow(distances, cmap="viridis")
    for (a, b), value in np.ndenumerate(distances):
        table.text(b, a, f"{value:.0f}" if value >= 10 else f"{value:.1f}", ha="center", va="center", fontsize=8,
                   color="white" if value < distances.max() / 2 else "black")
    ticks = range(len(means))
    table.set_xticks(ticks, [f"task {k}" for k in ticks], fontsize=8)
    table.set_yticks(ticks, [f"task {k}" for k in ticks], fontsize=8)
    table.set_title("|mu_a - mu_b| / sigma, all latent dimensions")
    fig.colorbar(image, ax=table)
    return save(fig, path)


def plot_inferred_skills(module, episodes: Mapping[int, list[Rollout]], path: str | os.PathLike,
                         normalize_obs: ObservationFilter = None) -> str:
    """q(z|a, s^H)'s mean at every step of each task's rollouts, over the tasks' p(z|t)."""
    means, _ = task_embeddings(module)
    projection = task_projection(module)
    fig, ax = new_figure()
    for k, rollouts in episodes.items():
        points = np.concatenate([projection(inferred_skills(module, r, normalize_obs)) for r in rollouts])
        ax.scatter(points[:, 0], points[:, 1], s=6, alpha=0.35, color=task_color(k, len(means)))
    _draw_embedding(ax, module, projection)
    ax.set_title("q's inferred z per step (dots) over p(z|t) (ellipses)")
    ax.legend(loc="best", fontsize=8)
    return save(fig, path)
