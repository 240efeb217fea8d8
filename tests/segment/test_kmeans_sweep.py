"""The auto-k sweep: its k's side by side on two threads, one distance matrix for every k's
silhouette, and the same table, bit for bit, as the sequential sweep."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segrec.segment import _kmeans
from segrec.segment._kmeans import KMeansConfig, select_k
from segrec.segment._quality import internal_quality, silhouette_distances


def _blobs(n: int = 600, d: int = 24, seed: int = 1) -> np.ndarray:
    x, _ = make_blobs(n, d, centers=5, cluster_std=4.0, random_state=seed)
    return x.astype(np.float32)


@pytest.mark.parametrize("n, sample", [(300, 5000), (900, 400)])  # every row, and a sample
def test_silhouette_from_distances_is_the_same_value(n: int, sample: int) -> None:
    x = _blobs(n)
    dist = silhouette_distances(x, sample, random_state=4)
    assert dist.shape == (min(n, sample),) * 2
    for k in (2, 3, 7):
        labels = np.arange(n) % k
        assert internal_quality(x, labels, sample, 4, dist) == internal_quality(
            x, labels, sample, 4
        )


def test_distances_of_another_sample_are_refused() -> None:
    x = _blobs(500)
    with pytest.raises(ValueError, match="sampled rows"):
        internal_quality(x, np.arange(500) % 3, 200, 0, silhouette_distances(x, 300, 0))


def test_sweep_on_two_threads_is_the_sequential_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    x = _blobs()
    cfg = KMeansConfig(random_state=3, k_max=7)
    fit = _kmeans._fit_centers
    threads: set[int] = set()

    def recording(*args, **kw):  # type: ignore[no-untyped-def]
        threads.add(threading.get_ident())
        return fit(*args, **kw)

    monkeypatch.setattr(_kmeans, "_fit_centers", recording)
    runs = {}
    for budget in (1, 2):
        threads.clear()
        monkeypatch.setattr(_kmeans, "thread_budget", lambda b=budget: b)
        runs[budget] = (select_k(x, cfg, "sklearn"), len(threads))
    (seq, seq_threads), (par, par_threads) = runs[1], runs[2]
    assert seq_threads == 1 and par_threads == 2  # the k's did run side by side
    assert seq == par  # the same k and the same table, value for value
    assert [r["k"] for r in par[1][:-1]] == list(range(2, 8))
