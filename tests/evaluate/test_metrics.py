"""Metric definitions checked against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from segrec.evaluate import (
    accuracy_metrics,
    catalog_coverage,
    hit_matrix,
    intra_list_diversity,
    novelty,
)


def _metrics(recs, rel, k):
    recs = np.asarray(recs)
    hits = hit_matrix(recs, rel)
    return accuracy_metrics(hits, np.array([len(r) for r in rel]), k)


def test_ndcg_recall_precision_map_by_hand() -> None:
    # ranking a, x, b with relevant {a, b}; codes a=0, x=5, b=1
    m = _metrics([[0, 5, 1]], [{0, 1}], 3)
    dcg = 1.0 + 1.0 / math.log2(4)
    idcg = 1.0 + 1.0 / math.log2(3)
    assert m["ndcg"][0] == pytest.approx(dcg / idcg)
    assert m["recall"][0] == pytest.approx(1.0)
    assert m["precision"][0] == pytest.approx(2 / 3)
    assert m["hr"][0] == 1.0
    assert m["map"][0] == pytest.approx((1 / 1 + 2 / 3) / 2)


def test_idcg_uses_min_of_relevant_and_k() -> None:
    # five relevant items, K=2, both slots hit: NDCG is 1 (not penalised for the other three)
    m = _metrics([[3, 4]], [{0, 1, 2, 3, 4}], 2)
    assert m["ndcg"][0] == pytest.approx(1.0)
    assert m["recall"][0] == pytest.approx(2 / 5)
    assert m["map"][0] == pytest.approx(1.0)


def test_cutoff_ignores_hits_below_k_and_short_lists_are_misses() -> None:
    m = _metrics([[9, 8, 0]], [{0}], 2)
    assert m["ndcg"][0] == 0.0 and m["hr"][0] == 0.0
    # a list of one item (padded with -1) at K=3: precision counts the empty slots as misses
    m = _metrics([[0, -1, -1]], [{0, 7}], 3)
    assert m["precision"][0] == pytest.approx(1 / 3)
    assert m["ndcg"][0] == pytest.approx(1.0 / (1.0 + 1.0 / math.log2(3)))


def test_hit_matrix_accepts_csr_relevance() -> None:
    rel = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 0, 0, 0]]))
    hits = hit_matrix(np.array([[3, 1], [0, 2]]), rel)
    assert hits.tolist() == [[True, False], [False, False]]


def test_coverage_novelty_diversity_by_hand() -> None:
    recs = np.array([[0, 1], [0, 2]])
    assert catalog_coverage(recs, n_items=6, k=2) == pytest.approx(3 / 6)
    assert catalog_coverage(recs, n_items=6, k=1) == pytest.approx(1 / 6)
    pop = np.array([0.5, 0.25, 0.125])
    nov = novelty(recs, pop, 2)
    assert nov.tolist() == pytest.approx([(1 + 2) / 2, (1 + 3) / 2])
    vecs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    ild = intra_list_diversity(recs, vecs, 2)
    assert ild[0] == pytest.approx(1.0)  # orthogonal
    assert ild[1] == pytest.approx(1.0 - 1.0 / math.sqrt(2))
    ild_sparse = intra_list_diversity(recs, sp.csr_matrix(vecs), 2)
    assert ild_sparse == pytest.approx(ild)


def test_diversity_matches_pairwise_definition() -> None:
    """Every list at once equals the mean pairwise cosine distance, list by list, with padding
    (-1), short lists, a zero vector and sparse vectors."""
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(40, 6))
    vecs[7] = 0.0
    recs = np.stack([rng.choice(40, 8, replace=False) for _ in range(30)])
    recs[::4, 5:] = -1
    recs[1, 1:] = -1
    unit = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-300)
    want = []
    for row in recs[:, :6]:
        codes = row[row >= 0]
        pairs = [(a, b) for a in codes for b in codes if a != b]
        want.append(np.mean([1 - unit[a] @ unit[b] for a, b in pairs]) if pairs else 0.0)
    assert intra_list_diversity(recs, vecs, 6) == pytest.approx(want)
    assert intra_list_diversity(recs, sp.csr_matrix(vecs), 6) == pytest.approx(want)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=15, unique=True),
    st.sets(st.integers(0, 30), min_size=1, max_size=10),
    st.integers(1, 20),
)
def test_metric_ranges_and_perfect_ranking(ranking: list[int], rel: set[int], k: int) -> None:
    m = _metrics([ranking], [rel], k)
    for name in ("ndcg", "recall", "precision", "hr", "map"):
        assert 0.0 <= m[name][0] <= 1.0 + 1e-12
    perfect = sorted(rel)
    pm = _metrics([perfect], [rel], k)
    assert pm["ndcg"][0] == pytest.approx(1.0)
    assert pm["map"][0] == pytest.approx(1.0)
    assert m["ndcg"][0] <= pm["ndcg"][0] + 1e-12


def test_list_metrics_by_hand() -> None:
    """Two users' finished lists against held-out events, every figure worked out by hand; an
    item the model cannot list and a user without a list do not count."""
    import pandas as pd

    from segrec.evaluate import list_metrics

    recs = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b", "c"],
            "rank": [1, 2, 3, 1, 2, 1],
            "item_id": ["x", "y", "z", "x", "y", "x"],
        }
    )
    held = pd.DataFrame(
        {"user_id": ["a", "a", "a", "b", "d"], "item_id": ["y", "w", "new", "q", "x"]}
    )
    got = list_metrics(recs, held, ["x", "y", "z", "w", "q"], 3)
    # a: relevant {y, w}, hit at rank 2; b: relevant {q}, no hit; c and d are not counted
    ndcg_a = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert got["users"] == 2
    assert got["ndcg@3"] == pytest.approx(ndcg_a / 2)
    assert got["recall@3"] == pytest.approx(0.5 / 2)
    assert got["precision@3"] == pytest.approx((1 / 3) / 2)
    assert got["hr@3"] == pytest.approx(0.5)
    assert got["map@3"] == pytest.approx((0.5 / 2) / 2)
