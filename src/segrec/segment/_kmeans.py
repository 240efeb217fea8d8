"""k-means with automatic k (silhouette + bootstrap stability), FAISS for large N, MiniBatch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from segrec._progress import progress
from segrec._threads import REPRODUCIBLE_THREADS, thread_budget
from segrec.diagnostics import UsageError, require
from segrec.segment._base import BaseSegmenter, SegmenterConfig, center_detail, nearest_centers
from segrec.segment._quality import (
    bootstrap_stability,
    internal_quality,
    silhouette_distances,
)

__all__ = ["KMeansConfig", "KMeansSegmenter", "MiniBatchKMeansSegmenter", "select_k"]

_log = logging.getLogger(__name__)
Backend = Literal["auto", "sklearn", "minibatch", "faiss"]
#: matrices of fewer cells are clustered on one thread (see :func:`_fit_centers`)
_SMALL_CELLS = 20_000_000


class KMeansConfig(SegmenterConfig):
    """k-means options. ``k="auto"`` sweeps ``k_min..k_max`` (see :func:`select_k`)."""

    k: int | Literal["auto"] = "auto"
    k_min: int = Field(2, ge=2)
    k_max: int = Field(12, ge=2)
    backend: Backend = "auto"
    faiss_min_rows: int = Field(200_000, ge=1, description="auto backend uses FAISS from here")
    n_init: int = Field(4, ge=1)
    max_iter: int = Field(100, ge=1)
    sweep_n_init: int = Field(3, ge=1, description="restarts per k in the sweep")
    sweep_sample: int = Field(20_000, ge=100, description="rows used to fit during the sweep")
    n_boot: int = Field(4, ge=1, description="bootstrap resamples per k for stability")
    stability_sample: int = Field(4_000, ge=100)
    stability_threshold: float = Field(0.8, ge=0.0, le=1.0)


def _fit_centers(
    x: np.ndarray, k: int, backend: str, seed: int, n_init: int, max_iter: int
) -> np.ndarray:
    """Centres of a k-means fit with the given backend."""
    if k > len(x):
        raise UsageError(f"k={k} is larger than the number of users ({len(x)}); lower k")
    if backend == "faiss":
        faiss = require("faiss", "fast", "FAISS k-means")
        faiss.omp_set_num_threads(thread_budget())
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        km = faiss.Kmeans(
            x32.shape[1],
            k,
            niter=min(max_iter, 25),
            nredo=n_init,
            seed=seed,
            max_points_per_centroid=256,
            verbose=False,
        )
        km.train(x32)
        return np.asarray(km.centroids, dtype=np.float32)
    from threadpoolctl import threadpool_limits

    # BLAS threads cost more than they save on small matrices (20x slower on a busy 2-core box);
    # OpenMP's count changes the float sums, so it is fixed, never the load-dependent budget
    small = _is_small(x)
    with (
        threadpool_limits(limits=1 if small else thread_budget(), user_api="blas"),
        threadpool_limits(limits=1 if small else REPRODUCIBLE_THREADS, user_api="openmp"),
    ):
        if backend == "minibatch":
            from sklearn.cluster import MiniBatchKMeans

            mb = MiniBatchKMeans(
                k, n_init=n_init, max_iter=max_iter, random_state=seed, batch_size=4096
            ).fit(x)
            return mb.cluster_centers_.astype(np.float32)
        from sklearn.cluster import KMeans

        km2 = KMeans(k, n_init=n_init, max_iter=max_iter, random_state=seed).fit(x)
        return km2.cluster_centers_.astype(np.float32)


def _is_small(x: np.ndarray) -> bool:
    """Whether k-means on ``x`` runs on one BLAS and one OpenMP thread (see :func:`_fit_centers`)."""
    return len(x) * x.shape[1] < _SMALL_CELLS


def _map_sweep(
    fn: Callable[[int], dict[str, Any]], ks: list[int], small: bool
) -> Iterator[dict[str, Any]]:
    """``fn(k)`` for each k, in order. Each k of a sweep on a small matrix runs on one thread
    (more cost more than they save there), so with a thread budget of two or more the k's run
    side by side, one per thread: each k's fit, quality and stability are computed exactly as
    they would be alone (the same seeds, the same single-threaded kernels), so the sweep's table
    is the sequential one, value for value, in less wall time."""
    workers = min(thread_budget(), len(ks)) if small else 1
    if workers <= 1:
        yield from map(fn, ks)
        return
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    # BLAS's thread count is process-wide: one for the whole sweep, so no worker's own limit
    # (one, in _fit_centers) can restore another value while the other worker computes
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        yield from pool.map(fn, ks)


def _assign(x: np.ndarray, centers: np.ndarray, backend: str) -> tuple[np.ndarray, np.ndarray]:
    if backend == "faiss" and len(centers) > 1:
        faiss = require("faiss", "fast", "FAISS k-means")
        index = faiss.IndexFlatL2(centers.shape[1])
        index.add(np.ascontiguousarray(centers, dtype=np.float32))
        d, i = index.search(np.ascontiguousarray(x, dtype=np.float32), 2)
        d = np.sqrt(np.maximum(d, 0.0))
        strength = np.where(d[:, 1] > 0, 1.0 - d[:, 0] / np.maximum(d[:, 1], 1e-12), 0.0)
        return i[:, 0].astype(np.int64), np.clip(strength, 0.0, 1.0)
    return nearest_centers(x, centers)


def select_k(x: np.ndarray, cfg: KMeansConfig, backend: str) -> tuple[int, list[dict[str, Any]]]:
    """Sweep k; return the chosen k and the sweep table.

    Rule: among k whose bootstrap stability (mean ARI over resamples) reaches
    ``stability_threshold``, take the highest silhouette; when none is stable enough, take the
    highest ``silhouette * stability``. Silhouette alone favours few coarse groups on noisy
    data and stability alone favours k=2; together they pick a k that is both separated and
    reproducible.
    """
    rng = np.random.default_rng(cfg.random_state)
    xs = x if len(x) <= cfg.sweep_sample else x[rng.choice(len(x), cfg.sweep_sample, replace=False)]
    xb = (
        xs
        if len(xs) <= cfg.stability_sample
        else xs[rng.choice(len(xs), cfg.stability_sample, replace=False)]
    )
    sweep_backend = "sklearn" if backend == "faiss" and len(xs) < 50_000 else backend
    k_max = min(cfg.k_max, len(xs) - 1)
    q_sample = min(cfg.quality_sample, 5000)
    dist = silhouette_distances(xs, q_sample, cfg.random_state)  # the same for every k

    def row(k: int) -> dict[str, Any]:
        centers = _fit_centers(
            xs, k, sweep_backend, cfg.random_state, cfg.sweep_n_init, cfg.max_iter
        )
        lab = nearest_centers(xs, centers)[0]
        q = internal_quality(xs, lab, q_sample, cfg.random_state, dist)
        ref = nearest_centers(xb, centers)[0]

        def fp(train: np.ndarray, allx: np.ndarray) -> np.ndarray:
            c = _fit_centers(train, k, sweep_backend, cfg.random_state + 1, 1, cfg.max_iter)
            return nearest_centers(allx, c)[0]

        st = bootstrap_stability(fp, xb, ref, cfg.n_boot, 0.8, cfg.random_state)
        return {"k": k, **q, "stability": st["stability"]}

    ks = list(range(cfg.k_min, k_max + 1))
    with progress("k-means k sweep", len(ks), "k") as p:
        rows = []
        for r in _map_sweep(row, ks, _is_small(xs) and sweep_backend != "faiss"):
            rows.append(r)
            p.update(1)
    stable = [r for r in rows if r["stability"] >= cfg.stability_threshold]
    if stable:
        best = max(stable, key=lambda r: r["silhouette"])
        rule = f"max silhouette among stability >= {cfg.stability_threshold}"
    else:
        best = max(rows, key=lambda r: r["silhouette"] * r["stability"])
        rule = "max silhouette * stability (no k reached the stability threshold)"
    for r in rows:
        r["chosen"] = r["k"] == best["k"]
    _log.info("auto k: chose k=%d (%s)", best["k"], rule)
    rows.append({"rule": rule})
    return int(best["k"]), rows


class KMeansSegmenter(BaseSegmenter):
    """k-means segmenter; ``k="auto"`` picks k by silhouette and bootstrap stability.

    >>> import numpy as np
    >>> x = np.r_[np.zeros((20, 2)), np.ones((20, 2)) * 5]
    >>> KMeansSegmenter(k=2).fit(x).k
    2
    """

    name: ClassVar[str] = "kmeans"
    config_class: ClassVar[type[SegmenterConfig]] = KMeansConfig
    config: KMeansConfig
    default_backend: ClassVar[str] = "auto"

    def _backend(self, n: int) -> str:
        b: str = self.config.backend
        if b == "auto":
            b = self.default_backend
        if b == "auto":
            return "faiss" if n >= self.config.faiss_min_rows else "sklearn"
        return b

    def _fit_matrix(
        self, x: np.ndarray, features: Any, dataset: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
        cfg = self.config
        backend = self._backend(len(x))
        extras: dict[str, Any] = {"backend": backend}
        if cfg.k == "auto":
            k, sweep = select_k(x, cfg, backend)
            extras["quality"] = {"k_sweep": sweep, "k_selected": k}
        else:
            k = int(cfg.k)
        centers = _fit_centers(x, k, backend, cfg.random_state, cfg.n_init, cfg.max_iter)
        labels, strength = _assign(x, centers, backend)
        self.centers_ = centers
        self.backend_ = backend
        return labels, strength, centers, extras

    def _detail_matrix(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        lab, strength, alt, dist = center_detail(x, self.centers_)
        if self.backend_ == "faiss":  # the fit's own assignment rule
            lab, strength = _assign(x, self.centers_, self.backend_)
        return lab, strength, alt, dist, None

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"backend": self.backend_}, {"centers": np.asarray(self.centers_)}

    def _load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._load_state(meta, arrays)
        self.backend_ = str(meta["backend"])


class MiniBatchKMeansSegmenter(KMeansSegmenter):
    """k-means with the MiniBatch backend (fast on large N, slightly less exact)."""

    name: ClassVar[str] = "minibatch"
    default_backend: ClassVar[str] = "minibatch"
