"""The weight search's NDCG@k without sorting rows equals the partial sort's, bit for bit."""

import numpy as np
import pytest

from segrec.recommend import _hybrid_tune as ht


def _sorted_ndcg(s: np.ndarray, rel: ht.Rel, k: int) -> np.ndarray:
    """The reference: every row's top k by a partial sort (the code before the fast path)."""
    kk = min(k, s.shape[1])
    dcg = ht._top_hits(s, rel.mat, kk) @ (1.0 / np.log2(np.arange(2, kk + 2)))
    return dcg / np.where(rel.idcg > 0, rel.idcg, 1.0)


@pytest.mark.parametrize("levels", [None, 3, 12])
@pytest.mark.parametrize("k", [1, 5, 10, 40])
def test_fast_ndcg_equals_the_partial_sort(levels, k, monkeypatch):
    """Continuous scores, scores on a few levels (ties everywhere, relevant items among them),
    masked (-inf) and NaN cells, rows with no relevant item and rows shorter than k; the
    relevant cells compared in small blocks as well as all at once."""
    rng = np.random.default_rng(k + (levels or 0))
    n, m = 300, 30
    s = rng.standard_normal((n, m)).astype(np.float32)
    if levels:
        s = np.round(s * levels / 4).astype(np.float32)
    s[rng.random((n, m)) < 0.15] = -np.inf
    s[rng.random((n, m)) < 0.01] = np.nan
    s[:5, :] = -np.inf  # whole rows masked: every relevant item tied with the rest
    sets = [set(rng.choice(m, size=rng.integers(0, 6), replace=False).tolist()) for _ in range(n)]
    rel = ht._relevance(sets, m, k)
    want = _sorted_ndcg(s, rel, k)
    for cells in (ht._RANK_CELLS, m * 7):
        monkeypatch.setattr(ht, "_RANK_CELLS", cells)
        got = ht._ndcg(s, rel, k)
        np.testing.assert_array_equal(got, want)
    assert (want > 0).any() and (want == 0).any()


def test_fast_ndcg_counts_a_relevant_item_by_its_place():
    """By hand: the relevant items score 2nd and 4th of five."""
    s = np.array([[0.9, 0.8, 0.1, 0.5, 0.7]], dtype=np.float32)
    rel = ht._relevance([{1, 3}], 5, 3)
    disc = 1.0 / np.log2(np.arange(2, 5))
    np.testing.assert_allclose(ht._ndcg(s, rel, 3), [disc[1] / (disc[0] + disc[1])])
