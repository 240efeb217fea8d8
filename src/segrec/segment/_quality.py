"""Segmentation quality: internal indices, bootstrap stability, agreement with ground truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics

__all__ = [
    "bootstrap_stability",
    "external_agreement",
    "internal_quality",
    "silhouette_distances",
]


def internal_quality(
    x: np.ndarray,
    labels: np.ndarray,
    sample: int = 10_000,
    random_state: int = 0,
    distances: np.ndarray | None = None,
) -> dict[str, float]:
    """Silhouette (on a sample of at most ``sample`` users), Davies-Bouldin, Calinski-Harabasz.

    Returns NaN for all three when there is only one segment (they are undefined).
    ``distances``: :func:`silhouette_distances` of ``x`` with the same ``sample`` and
    ``random_state``, for many labellings of one ``x`` (the silhouette is then the same value
    without computing the distances again).
    """
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2 or len(labels) < 3:
        nan = float("nan")
        return {"silhouette": nan, "davies_bouldin": nan, "calinski_harabasz": nan}
    rng = np.random.default_rng(random_state)
    idx = _silhouette_rows(len(labels), sample, rng)
    xs, ls = x[idx], labels[idx]
    sil = float("nan")
    if len(np.unique(ls)) > 1:
        if distances is None:
            sil = metrics.silhouette_score(xs, ls)
        else:
            if distances.shape != (len(idx), len(idx)):
                raise ValueError(f"distances of {distances.shape} for {len(idx)} sampled rows")
            sil = metrics.silhouette_score(distances, ls, metric="precomputed")
    # DB and CH are linear-time; cap anyway so a 1M-row call stays cheap
    big = np.arange(len(labels))
    if len(big) > 20 * sample:
        big = np.sort(rng.choice(big, 20 * sample, replace=False))
    return {
        "silhouette": float(sil),
        "davies_bouldin": float(metrics.davies_bouldin_score(x[big], labels[big])),
        "calinski_harabasz": float(metrics.calinski_harabasz_score(x[big], labels[big])),
    }


def _silhouette_rows(n: int, sample: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.arange(n)
    if n > sample:
        idx = np.sort(rng.choice(idx, sample, replace=False))
    return idx


def silhouette_distances(x: np.ndarray, sample: int = 10_000, random_state: int = 0) -> np.ndarray:
    """The euclidean distances :func:`internal_quality` computes for its silhouette, between
    the rows it samples: the same chunks of the same computation, so a silhouette from them is
    the same value, bit for bit."""
    from sklearn.metrics import pairwise_distances_chunked

    idx = _silhouette_rows(len(x), sample, np.random.default_rng(random_state))
    return np.concatenate(list(pairwise_distances_chunked(x[idx])))


def external_agreement(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Adjusted Rand index and normalised mutual information against ground-truth labels."""
    return {
        "ari": float(metrics.adjusted_rand_score(truth, labels)),
        "nmi": float(metrics.normalized_mutual_info_score(truth, labels)),
    }


def bootstrap_stability(
    fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: np.ndarray,
    reference: np.ndarray,
    n_boot: int = 5,
    frac: float = 0.8,
    random_state: int = 0,
) -> dict[str, Any]:
    """Mean ARI between ``reference`` labels and labels from models fit on resamples.

    ``fit_predict(x_train, x_all)`` fits on a resample and labels every row of ``x_all``; the
    ARI of those labels against ``reference`` measures how much the segments depend on which
    users happened to be in the data. 1.0 = identical partitions on every resample.
    """
    rng = np.random.default_rng(random_state)
    n = len(x)
    scores = []
    for _ in range(n_boot):
        idx = rng.choice(n, max(2, int(frac * n)), replace=True)
        pred = fit_predict(x[idx], x)
        scores.append(metrics.adjusted_rand_score(reference, pred))
    arr = np.asarray(scores, dtype=float)
    return {"stability": float(arr.mean()), "stability_std": float(arr.std()), "n_boot": n_boot}
