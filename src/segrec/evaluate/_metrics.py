"""Top-K accuracy and beyond-accuracy metrics, per user, with binary relevance.

All accuracy metrics take a hit matrix ``hits`` (users x K booleans, ``hits[u, r]`` is true when
the item at rank ``r + 1`` is relevant) and ``n_rel`` (relevant items per user):

* NDCG@K = DCG / IDCG, DCG = sum_r hit_r / log2(r + 1), IDCG over min(|rel|, K) hits.
* Recall@K = hits / |rel|; Precision@K = hits / K; HR@K = 1 if any hit.
* MAP@K = sum_r P@r * hit_r / min(|rel|, K).

Lists shorter than K count their missing slots as misses. See ``docs/evaluation.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "ACCURACY_METRICS",
    "accuracy_metrics",
    "catalog_coverage",
    "hit_matrix",
    "intra_list_diversity",
    "list_metrics",
    "novelty",
]

ACCURACY_METRICS = ("ndcg", "recall", "precision", "hr", "map")


def hit_matrix(recs: np.ndarray, relevant: Sequence[set[int]] | sp.csr_matrix) -> np.ndarray:
    """users x K booleans: whether ``recs[u, r]`` (an item code, -1 = empty slot) is relevant."""
    recs = np.asarray(recs)
    hits = np.zeros(recs.shape, dtype=bool)
    for u in range(recs.shape[0]):
        if sp.issparse(relevant):
            rel = relevant.indices[relevant.indptr[u] : relevant.indptr[u + 1]]  # type: ignore[union-attr]
        else:
            rel = np.fromiter(relevant[u], dtype=np.int64)  # type: ignore[index]
        if len(rel):
            hits[u] = np.isin(recs[u], rel) & (recs[u] >= 0)
    return hits


def accuracy_metrics(hits: np.ndarray, n_rel: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per-user NDCG, Recall, Precision, HR and MAP at cutoff ``k`` (arrays of length users)."""
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    h = np.zeros((hits.shape[0], k), dtype=float)
    w = min(k, hits.shape[1])
    h[:, :w] = hits[:, :w]
    n_rel = np.asarray(n_rel, dtype=float)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = h @ discounts
    ideal_n = np.minimum(n_rel, k).astype(int)
    cum_disc = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = cum_disc[ideal_n]
    n_hits = h.sum(axis=1)
    safe_rel = np.where(n_rel > 0, n_rel, 1.0)
    prec_at_r = np.cumsum(h, axis=1) / np.arange(1, k + 1)
    ap_den = np.where(ideal_n > 0, ideal_n, 1)
    return {
        "ndcg": np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1.0), 0.0),
        "recall": np.where(n_rel > 0, n_hits / safe_rel, 0.0),
        "precision": n_hits / k,
        "hr": (n_hits > 0).astype(float),
        "map": np.where(ideal_n > 0, (prec_at_r * h).sum(axis=1) / ap_den, 0.0),
    }


def list_metrics(
    recs: pd.DataFrame, heldout: pd.DataFrame, items: Iterable[str], k: int
) -> dict[str, float]:
    """Mean NDCG, Recall, Precision, HR and MAP at ``k`` of finished lists against held-out
    interactions: ``recs`` has user_id, rank (1 = first), item_id; ``heldout`` user_id, item_id.
    A user's relevant items are their distinct held-out items among ``items`` (those a model
    can list); the mean runs over users with a list and at least one relevant item
    (``users``). The per-user figures are :func:`accuracy_metrics`, as in the evaluation.

    >>> r = pd.DataFrame({"user_id": ["a", "a"], "rank": [1, 2], "item_id": ["x", "y"]})
    >>> h = pd.DataFrame({"user_id": ["a"], "item_id": ["y"]})
    >>> round(list_metrics(r, h, ["x", "y"], 2)["ndcg@2"], 4)
    0.6309
    """
    known = set(map(str, items))
    held = pd.DataFrame(
        {"user_id": heldout.user_id.astype(str), "item_id": heldout.item_id.astype(str)}
    ).drop_duplicates()
    held = held[held.item_id.isin(known)]
    top = recs[recs["rank"] <= k]
    users = np.intersect1d(top.user_id.astype(str).unique(), held.user_id.unique())
    codes = {i: c for c, i in enumerate(sorted(known | set(top.item_id.astype(str))))}
    row = {u: r for r, u in enumerate(users)}
    grid = np.full((len(users), k), -1, dtype=np.int64)
    sel = top[top.user_id.astype(str).isin(row)]
    grid[sel.user_id.astype(str).map(row).to_numpy(), sel["rank"].to_numpy(dtype=np.int64) - 1] = (
        sel.item_id.astype(str).map(codes).to_numpy()
    )
    rel: list[set[int]] = [set() for _ in users]
    mine = held[held.user_id.isin(row)]
    for u, i in zip(mine.user_id.map(row), mine.item_id.map(codes), strict=True):
        rel[u].add(int(i))
    per = accuracy_metrics(hit_matrix(grid, rel), np.array([len(r) for r in rel]), k)
    out = {"users": float(len(users))}
    out.update({f"{m}@{k}": float(v.mean()) if len(v) else 0.0 for m, v in per.items()})
    return out


def catalog_coverage(recs: np.ndarray, n_items: int, k: int) -> float:
    """Distinct items recommended in the top ``k`` over all users / ``n_items`` (train items)."""
    top = np.asarray(recs)[:, :k]
    return float(len(np.unique(top[top >= 0])) / max(n_items, 1))


def novelty(recs: np.ndarray, item_pop: np.ndarray, k: int) -> np.ndarray:
    """Per-user mean self-information ``-log2 p(i)`` of the top ``k`` items.

    ``item_pop[i]`` is the fraction of training users who interacted with item ``i``; items
    never seen get the smallest positive popularity (one user), so novelty stays finite.
    """
    top = np.asarray(recs)[:, :k]
    floor = np.min(item_pop[item_pop > 0]) if np.any(item_pop > 0) else 1.0
    p = np.maximum(item_pop, floor)
    info = -np.log2(p)
    valid = top >= 0
    vals = np.where(valid, info[np.where(valid, top, 0)], 0.0)
    cnt = valid.sum(axis=1)
    return np.where(cnt > 0, vals.sum(axis=1) / np.maximum(cnt, 1), 0.0)


def intra_list_diversity(recs: np.ndarray, item_vectors: np.ndarray, k: int) -> np.ndarray:
    """Per-user mean pairwise cosine distance (1 - cos) among the top ``k`` items.

    ``item_vectors`` is items x d (rows indexed by item code): item text embeddings when the
    dataset has item text, otherwise the item columns of the training matrix (co-occurrence).
    Lists with fewer than two items score 0. Accepts dense arrays or sparse matrices.
    """
    top = np.asarray(recs)[:, :k]
    if sp.issparse(item_vectors):
        m = sp.csr_matrix(item_vectors, dtype=float)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        m = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ m
    else:
        v = np.asarray(item_vectors, dtype=float)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        m = v / np.where(norms > 0, norms, 1.0)
    # the sum of a list's pairwise similarities is |sum of its unit vectors|^2 minus the
    # self-similarities, so every list is scored at once
    valid = top >= 0
    n = valid.sum(axis=1)
    rows = np.repeat(np.arange(top.shape[0]), n)
    pick = sp.csr_matrix((np.ones(len(rows)), (rows, top[valid])), shape=(top.shape[0], m.shape[0]))
    total = pick @ m
    total = total.multiply(total).sum(axis=1) if sp.issparse(total) else (total**2).sum(axis=1)
    self_sim = pick @ np.asarray(m.multiply(m).sum(axis=1) if sp.issparse(m) else (m**2).sum(1))
    off = (np.asarray(total).ravel() - np.asarray(self_sim).ravel()) / np.maximum(n * (n - 1), 1)
    return np.where(n >= 2, np.clip(1.0 - off, 0.0, 2.0), 0.0)
