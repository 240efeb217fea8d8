"""Density segmenters (HDBSCAN, DBSCAN); noise users go to the nearest segment, flagged."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from segrec.diagnostics import DataQualityWarning, require
from segrec.segment._base import BaseSegmenter, SegmenterConfig, centers_of, nearest_centers

__all__ = ["DBSCANConfig", "DBSCANSegmenter", "HDBSCANConfig", "HDBSCANSegmenter"]

_log = logging.getLogger(__name__)


class _DensityConfig(SegmenterConfig):
    pca_components: int | None = Field(
        20, ge=2, description="reduce to this many PCA dimensions first (density needs low dims)"
    )


class HDBSCANConfig(_DensityConfig):
    min_cluster_size: int = Field(15, ge=2)
    min_samples: int | None = Field(None, ge=1)
    cluster_selection_epsilon: float = Field(0.0, ge=0.0)


class DBSCANConfig(_DensityConfig):
    eps: float | None = Field(None, gt=0, description="None: the 90th pct of k-NN distances")
    min_samples: int = Field(10, ge=1)


class _DensitySegmenter(BaseSegmenter):
    supports_k: ClassVar[bool] = False
    config: _DensityConfig

    def _reduce(self, x: np.ndarray, fit: bool) -> np.ndarray:
        n_comp = self.config.pca_components
        if fit:
            self.pca_ = None
            if n_comp is not None and x.shape[1] > n_comp and len(x) > n_comp:
                from sklearn.decomposition import PCA

                self.pca_ = PCA(n_comp, random_state=self.config.random_state).fit(x)
        return self.pca_.transform(x).astype(np.float32) if self.pca_ is not None else x

    def _raw_labels(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _fit_matrix(
        self, x: np.ndarray, features: Any, dataset: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
        z = self._reduce(x, fit=True)
        raw, prob = self._raw_labels(z)
        noise = raw < 0
        if noise.all():
            import warnings

            warnings.warn(
                f"{self.name} found no dense segment in {len(x)} users; everyone is one segment "
                "(lower min_cluster_size/min_samples or use kmeans)",
                DataQualityWarning,
                stacklevel=3,
            )
            raw = np.zeros(len(x), dtype=np.int64)
            noise = np.zeros(len(x), bool)
        # relabel found clusters 0..k-1, then send noise users to the nearest centre
        found = np.unique(raw[~noise])
        remap = {int(c): i for i, c in enumerate(found)}
        labels = np.array([remap.get(int(r), -1) for r in raw], dtype=np.int64)
        k = len(found)
        centers_z = centers_of(z[~noise], labels[~noise], k)
        near, margin = nearest_centers(z, centers_z)
        labels[noise] = near[noise]
        strength = np.where(noise, 0.5 * margin, np.clip(prob, 0.0, 1.0))
        self.centers_z_ = centers_z
        centers = centers_of(x, labels, k)
        if noise.any():
            _log.info(
                "%s: %d noise users assigned to their nearest segment", self.name, noise.sum()
            )
        return labels, strength, centers, {"noise": noise, "noise_share": float(noise.mean())}

    def _predict_matrix(self, x: np.ndarray) -> np.ndarray:
        return nearest_centers(self._reduce(x, fit=False), self.centers_z_)[0]


class HDBSCANSegmenter(_DensitySegmenter):
    """HDBSCAN (``hdbscan`` package); finds its own number of segments."""

    name: ClassVar[str] = "hdbscan"
    config_class: ClassVar[type[SegmenterConfig]] = HDBSCANConfig
    config: HDBSCANConfig

    def _raw_labels(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hdbscan = require("hdbscan", "fast", "HDBSCAN segmentation")
        cl = hdbscan.HDBSCAN(
            min_cluster_size=self.config.min_cluster_size,
            min_samples=self.config.min_samples,
            cluster_selection_epsilon=self.config.cluster_selection_epsilon,
            core_dist_n_jobs=1,
        ).fit(z.astype(np.float64))
        return cl.labels_.astype(np.int64), np.asarray(cl.probabilities_, float)


class DBSCANSegmenter(_DensitySegmenter):
    """DBSCAN (scikit-learn); ``eps`` defaults to the 90th percentile of k-NN distances."""

    name: ClassVar[str] = "dbscan"
    config_class: ClassVar[type[SegmenterConfig]] = DBSCANConfig
    config: DBSCANConfig

    def _raw_labels(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.cluster import DBSCAN
        from sklearn.neighbors import NearestNeighbors

        eps = self.config.eps
        m = min(self.config.min_samples, len(z) - 1)
        if eps is None:
            d, _ = NearestNeighbors(n_neighbors=m + 1).fit(z).kneighbors(z)
            eps = float(np.percentile(d[:, -1], 90)) or 1e-6
        self.eps_ = eps
        cl = DBSCAN(eps=eps, min_samples=m).fit(z)
        core = np.zeros(len(z))
        core[cl.core_sample_indices_] = 1.0
        prob = np.where(cl.labels_ >= 0, 0.5 + 0.5 * core, 0.0)
        return cl.labels_.astype(np.int64), prob
