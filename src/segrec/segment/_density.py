"""Density segmenters (HDBSCAN, DBSCAN); noise users go to the nearest segment, flagged.

New users are assigned with rules that need only arrays (no pickled trees): DBSCAN by the
nearest core point within ``eps``; HDBSCAN by its nearest training point in mutual
reachability (``hdbscan.approximate_predict``'s neighbour rule without the condensed tree,
whose prediction data cannot be saved without pickle). Users with no such point are noise and,
as at fit, go to the nearest segment centre with strength ``0.5 * margin``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from segrec.diagnostics import DataQualityWarning, require
from segrec.segment._base import (
    BaseSegmenter,
    SegmenterConfig,
    center_detail,
    centers_of,
    nearest_centers,
    sq_distances,
)
from segrec.segment._eps import choose_eps

__all__ = ["DBSCANConfig", "DBSCANSegmenter", "HDBSCANConfig", "HDBSCANSegmenter"]

_log = logging.getLogger(__name__)
Detail = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


class _DensityConfig(SegmenterConfig):
    pca_components: int | None = Field(
        20, ge=2, description="reduce to this many PCA dimensions first (density needs low dims)"
    )


class HDBSCANConfig(_DensityConfig):
    min_cluster_size: int = Field(15, ge=2)
    min_samples: int | None = Field(None, ge=1)
    cluster_selection_epsilon: float = Field(0.0, ge=0.0)


class DBSCANConfig(_DensityConfig):
    eps: float | None = Field(None, gt=0, description="None: chosen by eps_rule")
    eps_rule: Literal["scan", "knee"] = Field(
        "scan", description="how eps is read off the k-distance curve (see choose_eps)"
    )
    min_samples: int = Field(10, ge=1)


class _DensitySegmenter(BaseSegmenter):
    supports_k: ClassVar[bool] = False
    config: _DensityConfig

    def _reduce(self, x: np.ndarray, fit: bool) -> np.ndarray:
        n_comp = self.config.pca_components
        if fit:
            self.pca_mean_: np.ndarray | None = None
            self.pca_components_: np.ndarray | None = None
            if n_comp is not None and x.shape[1] > n_comp and len(x) > n_comp:
                from sklearn.decomposition import PCA

                pca = PCA(n_comp, random_state=self.config.random_state).fit(x)
                self.pca_mean_, self.pca_components_ = pca.mean_, pca.components_
        if self.pca_components_ is None:
            return x
        # one formula at fit and predict, so a training row maps to the same point
        return ((x - self.pca_mean_) @ self.pca_components_.T).astype(np.float32)

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
        self._nn: Any = None
        self._nn_core: Any = None
        self.points_ = z.astype(np.float32)
        self.point_labels_ = np.where(noise, -1, labels)
        self.point_strength_ = np.clip(prob, 0.0, 1.0)
        labels[noise] = near[noise]
        strength = np.where(noise, 0.5 * margin, self.point_strength_)
        self.centers_z_ = centers_z
        self.centers_ = centers = centers_of(x, labels, k)
        if noise.any():
            _log.info(
                "%s: %d noise users assigned to their nearest segment", self.name, noise.sum()
            )
        extras = {"noise": noise, "noise_share": float(noise.mean()), **self._fit_extras()}
        return labels, strength, centers, extras

    def _fit_extras(self) -> dict[str, Any]:
        return {}

    def _neighbour_rule(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw label (-1: noise) and strength of each row from the stored training points."""
        raise NotImplementedError

    def _detail_matrix(self, x: np.ndarray) -> Detail:
        z = self._reduce(x, fit=False)
        lab, strength = self._neighbour_rule(z)
        noise = lab < 0
        near, margin, alt_z, _ = center_detail(z, self.centers_z_)
        lab = np.where(noise, near, lab)
        strength = np.where(noise, 0.5 * margin, strength)
        d2 = sq_distances(x, self.centers_).astype(np.float64)
        rows = np.arange(len(x))
        dist = np.sqrt(d2[rows, lab]).astype(np.float64)
        d2[rows, lab] = np.inf
        alt = np.where(np.isfinite(d2).any(1), d2.argmin(1), -1) if d2.shape[1] > 1 else alt_z
        return lab, strength, np.asarray(alt, np.int64), dist, noise

    _STATE_ARRAYS: ClassVar[tuple[str, ...]] = (
        "centers_",
        "centers_z_",
        "points_",
        "point_labels_",
        "point_strength_",
    )

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {n.rstrip("_"): np.asarray(getattr(self, n)) for n in self._STATE_ARRAYS}
        if self.pca_components_ is not None:
            arrays["pca_mean"] = np.asarray(self.pca_mean_)
            arrays["pca_components"] = np.asarray(self.pca_components_)
        return {}, arrays

    def _load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        for n in self._STATE_ARRAYS:
            setattr(self, n, np.asarray(arrays[n.rstrip("_")]))
        self.pca_mean_ = arrays.get("pca_mean")
        self.pca_components_ = arrays.get("pca_components")
        self._nn = self._nn_core = None


def _neighbours(seg: Any, z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` nearest stored training points (index built once)."""
    if getattr(seg, "_nn", None) is None:
        from sklearn.neighbors import NearestNeighbors

        seg._nn = NearestNeighbors().fit(seg.points_)
    d, i = seg._nn.kneighbors(z, n_neighbors=min(k, len(seg.points_)))
    return np.asarray(d), np.asarray(i)


class HDBSCANSegmenter(_DensitySegmenter):
    """HDBSCAN (``hdbscan`` package); finds its own number of segments.

    A new user joins the segment of its nearest training user in mutual reachability
    (``max(core distances, distance)``), the neighbour rule of ``hdbscan.approximate_predict``;
    strength is that user's membership scaled down by how far out the new user sits. A
    training user's own row finds itself, so predict reproduces the fit.
    """

    name: ClassVar[str] = "hdbscan"
    config_class: ClassVar[type[SegmenterConfig]] = HDBSCANConfig
    config: HDBSCANConfig
    _STATE_ARRAYS = (*_DensitySegmenter._STATE_ARRAYS, "core_distances_")

    @property
    def _min_samples(self) -> int:
        return int(self.config.min_samples or self.config.min_cluster_size)

    def _raw_labels(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hdbscan = require("hdbscan", "fast", "HDBSCAN segmentation")
        cl = hdbscan.HDBSCAN(
            min_cluster_size=self.config.min_cluster_size,
            min_samples=self.config.min_samples,
            cluster_selection_epsilon=self.config.cluster_selection_epsilon,
            core_dist_n_jobs=1,
        ).fit(z.astype(np.float64))
        from sklearn.neighbors import NearestNeighbors

        k = min(self._min_samples, len(z))
        d, _ = NearestNeighbors(n_neighbors=k).fit(z).kneighbors(z)
        self.core_distances_ = d[:, -1].astype(np.float64)
        return cl.labels_.astype(np.int64), np.asarray(cl.probabilities_, float)

    def _neighbour_rule(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ms = self._min_samples
        d, idx = _neighbours(self, z, 2 * ms)
        core_p = d[:, min(ms, d.shape[1]) - 1]
        mr = np.maximum(np.maximum(core_p[:, None], self.core_distances_[idx]), d)
        best = idx[np.arange(len(z)), mr.argmin(1)]  # ties: the nearer neighbour (sorted by d)
        mr_best = mr.min(1)
        scale = np.where(mr_best > 0, self.core_distances_[best] / np.maximum(mr_best, 1e-12), 1.0)
        strength = self.point_strength_[best] * np.clip(scale, 0.0, 1.0)
        return self.point_labels_[best], strength


class DBSCANSegmenter(_DensitySegmenter):
    """DBSCAN (scikit-learn); ``eps`` defaults to a scan of the k-distance curve (choose_eps).

    A new user joins the segment of the nearest core point within ``eps`` (strength 1 when it
    would be a core point itself, 0.5 otherwise, as at fit); with none in reach it is noise.
    """

    name: ClassVar[str] = "dbscan"
    config_class: ClassVar[type[SegmenterConfig]] = DBSCANConfig
    config: DBSCANConfig
    _STATE_ARRAYS = (*_DensitySegmenter._STATE_ARRAYS, "point_core_", "eps_", "min_samples_")

    def _raw_labels(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.cluster import DBSCAN

        m = min(self.config.min_samples, len(z) - 1)
        eps = self.config.eps
        self.eps_scan_: list[dict[str, Any]] = []
        if eps is None:
            eps, self.eps_scan_ = choose_eps(z, m, self.config.eps_rule, self.config.random_state)
        self.eps_, self.min_samples_ = np.float64(eps), np.int64(m)
        cl = DBSCAN(eps=eps, min_samples=m).fit(z)
        core = np.zeros(len(z))
        core[cl.core_sample_indices_] = 1.0
        self.point_core_ = core.astype(bool)
        prob = np.where(cl.labels_ >= 0, 0.5 + 0.5 * core, 0.0)
        return cl.labels_.astype(np.int64), prob

    def _fit_extras(self) -> dict[str, Any]:
        rule = "given" if self.config.eps is not None else self.config.eps_rule
        return {
            "eps": float(self.eps_),
            "eps_rule": rule,
            "eps_scan": self.eps_scan_,
            "min_samples": int(self.min_samples_),
        }

    def _neighbour_rule(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        eps, m = float(self.eps_), int(self.min_samples_)
        d, _ = _neighbours(self, z, m)
        is_core = d[:, -1] <= eps if d.shape[1] >= m else np.zeros(len(z), bool)
        cores = np.flatnonzero(self.point_core_)
        lab = np.full(len(z), -1, np.int64)
        if len(cores) == 0:
            return lab, np.zeros(len(z))
        nn: Any = getattr(self, "_nn_core", None)
        if nn is None:
            from sklearn.neighbors import NearestNeighbors

            nn = self._nn_core = NearestNeighbors(n_neighbors=1).fit(self.points_[cores])
        dc, ic = nn.kneighbors(z, n_neighbors=1)
        reach = dc[:, 0] <= eps
        lab[reach] = self.point_labels_[cores[ic[reach, 0]]]
        return lab, np.where(reach, 0.5 + 0.5 * is_core, 0.0)
