"""A 2-D view of the latent space that keeps the tasks' skills apart.

With latent_dim > 2 the view is two principal axes of the tasks' embedding means (PCA), the
pair of axes among the first few that keeps the closest two tasks farthest apart in units
of their p(z|t) spread: the first two principal axes keep the most variance, but can put two
tasks that differ along the third axis on top of each other.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

CANDIDATE_AXES = 4  # principal axes among which the pair is chosen


def separation(points: np.ndarray, spread: np.ndarray | float = 1.0) -> np.ndarray:
    """[K, K]: |points_a - points_b| / spread, spread a scalar or [K] (pairs use the mean of theirs)."""
    points = np.asarray(points, dtype=np.float64)
    spread = np.broadcast_to(np.asarray(spread, dtype=np.float64), (len(points),))
    distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    return distances / ((spread[:, None] + spread[None, :]) / 2.0)


class LatentProjection:
    """z -> 2-D. Identity for latent_dim 2, zero-padded for 1, else two principal axes of
    ``points`` (the tasks' means, [K, latent_dim]): of the first CANDIDATE_AXES, the pair whose
    view keeps the smallest pairwise separation of the points (`separation` with ``spread``,
    [K] or a scalar: each task's sigma) largest; ties go to the wider axes. ``label`` names
    the axes drawn (e.g. "PC1" and "PC3")."""

    def __init__(self, points: np.ndarray, spread: np.ndarray | float = 1.0) -> None:
        points = np.asarray(points, dtype=np.float64)
        dim = points.shape[1]
        self.center = points.mean(axis=0) if dim > 2 else np.zeros(dim)
        if dim > 2:
            # Principal axes of the centred points (rows of vt); fewer points than axes
            # leave some undetermined, which SVD still returns orthonormal.
            _, _, vt = np.linalg.svd(points - self.center, full_matrices=True)
            pairs = list(combinations(range(min(CANDIDATE_AXES, dim)), 2))
            centred = points - self.center

            def smallest_separation(pair) -> float:
                view = separation(centred @ vt[list(pair)].T, spread)
                return float(view[~np.eye(len(points), dtype=bool)].min()) if len(points) > 1 else 0.0

            best = max(pairs, key=lambda pair: (round(smallest_separation(pair), 6), -pair[0], -pair[1]))
            self.axes = vt[list(best)]
            self.labels = (f"PC{best[0] + 1}", f"PC{best[1] + 1}")
        elif dim == 2:
            self.axes = np.eye(2)
            self.labels = ("z 1", "z 2")
        else:
            self.axes = np.array([[1.0], [0.0]])
            self.labels = ("z 1", "z 2")

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, dtype=np.float64) - self.center) @ self.axes.T

    def covariance(self, std: np.ndarray) -> np.ndarray:
        """The 2x2 covariance of a diagonal Gaussian with ``std``, projected."""
        return self.axes @ np.diag(np.asarray(std, dtype=np.float64) ** 2) @ self.axes.T
