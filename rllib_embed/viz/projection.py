"""A 2-D view of the latent space: PCA over the tasks' embedding means when latent_dim > 2."""

from __future__ import annotations

import numpy as np


class LatentProjection:
    """z -> 2-D. Identity for latent_dim 2, zero-padded for 1, else PCA fitted on ``points``."""

    def __init__(self, points: np.ndarray) -> None:
        points = np.asarray(points, dtype=np.float64)
        dim = points.shape[1]
        self.center = points.mean(axis=0) if dim > 2 else np.zeros(dim)
        if dim > 2:
            # Principal axes of the centred points (rows of vt); fewer points than 2
            # leave an axis undetermined, which SVD still returns orthonormal.
            _, _, vt = np.linalg.svd(points - self.center, full_matrices=True)
            self.axes = vt[:2]
            self.label = "PCA"
        elif dim == 2:
            self.axes = np.eye(2)
            self.label = "z"
        else:
            self.axes = np.array([[1.0], [0.0]])
            self.label = "z"

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, dtype=np.float64) - self.center) @ self.axes.T

    def covariance(self, std: np.ndarray) -> np.ndarray:
        """The 2x2 covariance of a diagonal Gaussian with ``std``, projected."""
        return self.axes @ np.diag(np.asarray(std, dtype=np.float64) ** 2) @ self.axes.T
