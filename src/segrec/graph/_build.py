"""Dataset -> sparse graphs: the user-item bipartite graph and the user-user graph.

Everything is scipy CSR with int32 indices and float32 weights, so a 1,000,000-user graph with
10,000,000 edges costs about 10M x (4 + 4) bytes plus the row pointers: well under a gigabyte.
The co-interaction graph is computed blockwise (a chunk of rows of ``B @ B.T`` at a time) with
top-k sparsification per row, so no dense n x n matrix ever exists.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec._progress import progress
from segrec.data import Dataset
from segrec.diagnostics import UsageError

__all__ = [
    "EVENT_WEIGHTS",
    "BipartiteGraph",
    "UserGraph",
    "build_user_graph",
    "build_user_item_graph",
    "modularity",
    "normalize_adjacency",
]

_log = logging.getLogger(__name__)

#: default strength of each event type in the user-item graph (a purchase says more than a view)
EVENT_WEIGHTS: dict[str, float] = {
    "purchase": 1.0,
    "rating": 1.0,
    "review": 1.0,
    "play": 1.0,
    "cart": 0.6,
    "tag": 0.8,
    "checkin": 0.8,
    "click": 0.3,
    "view": 0.2,
}


@dataclass(frozen=True)
class BipartiteGraph:
    """users x items CSR of edge weights, with the ids of its rows and columns."""

    matrix: sp.csr_matrix
    user_ids: pd.Index
    item_ids: pd.Index
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserGraph:
    """Symmetric users x users CSR of edge weights (no self loops) over ordered ``user_ids``."""

    adjacency: sp.csr_matrix
    user_ids: pd.Index
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        """Undirected edges."""
        return int(self.adjacency.nnz // 2)

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.adjacency.indptr)

    @property
    def isolated(self) -> np.ndarray:
        """Boolean mask of users with no edge at all."""
        return self.degree == 0


def _compact(m: sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m, dtype=np.float32)
    m.sum_duplicates()
    m.eliminate_zeros()
    if m.nnz < np.iinfo(np.int32).max:
        m.indices = m.indices.astype(np.int32, copy=False)
        m.indptr = m.indptr.astype(np.int32, copy=False)
    return m


def _row_positions(ds: Dataset, user_ids: pd.Index | None) -> tuple[pd.Index, np.ndarray]:
    """Target index and, for each dataset user code, its row there (-1 when absent)."""
    if user_ids is None:
        return ds.user_ids, np.arange(ds.n_users)
    idx = pd.Index(user_ids, dtype="object", name="user_id")
    return idx, idx.get_indexer(ds.user_ids)


def build_user_item_graph(
    ds: Dataset,
    weights: Literal["event", "binary", "count"] | Mapping[str, float] = "event",
    user_ids: pd.Index | None = None,
) -> BipartiteGraph:
    """The bipartite user-item graph of ``ds`` (use the training-period dataset).

    ``weights="event"`` weighs each interaction by its event type (:data:`EVENT_WEIGHTS`, or pass
    your own mapping), by ``1 + log(weight)`` for play counts above 1, and by ``rating / max
    rating`` where a rating exists; repeated interactions add up. ``"binary"`` and ``"count"``
    ignore all that. Rows follow ``user_ids`` (default ``ds.user_ids``; unknown users get empty
    rows).
    """
    index, pos = _row_positions(ds, user_ids)
    df = ds.interactions
    rows = pos[df.user_id.cat.codes.to_numpy()]
    cols = df.item_id.cat.codes.to_numpy()
    if isinstance(weights, str) and weights not in ("event", "binary", "count"):
        raise UsageError(
            f"weights='{weights}' is not a weighting; use 'event', 'binary', 'count' or a "
            "mapping event -> weight"
        )
    if weights in ("binary", "count"):
        w = np.ones(len(df), dtype=np.float64)
    else:
        table = EVENT_WEIGHTS if weights == "event" else dict(weights)  # type: ignore[arg-type]
        ev = df.event.astype("object").fillna("").to_numpy()
        w = np.array([table.get(e, 1.0) for e in ev], dtype=np.float64) if len(ev) else np.ones(0)
        vol = df["weight"].to_numpy(np.float64)
        vol = np.where(np.isfinite(vol) & (vol > 1.0), 1.0 + np.log(np.maximum(vol, 1.0)), 1.0)
        rating = df["rating"].to_numpy(np.float64)
        has_r = np.isfinite(rating)
        if has_r.any():
            rmax = float(np.nanmax(rating[has_r])) or 1.0
            vol = np.where(has_r, vol * np.clip(rating / rmax, 0.05, 1.0), vol)
        w = w * vol
    keep = rows >= 0
    m = sp.csr_matrix(
        (w[keep], (rows[keep], cols[keep])), shape=(len(index), ds.n_items), dtype=np.float64
    )
    m = _compact(m)
    if weights == "binary":
        m.data[:] = 1.0
    meta = {"weights": weights if isinstance(weights, str) else "custom", "edges": int(m.nnz)}
    return BipartiteGraph(m, index, ds.item_ids, meta)


def _topk_rows(s: sp.csr_matrix, k: int, threshold: float, offset: int = 0) -> sp.csr_matrix:
    """Keep, per row, the ``k`` largest entries >= ``threshold``, dropping the diagonal
    (row ``r`` of this chunk is user ``r + offset``). Rows with more than ``k`` candidates use
    one ``argpartition`` each: O(row length), far cheaper than sorting the whole chunk."""
    n = s.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(s.indptr))
    keep = (s.data >= threshold) & (s.indices != rows + offset)
    counts = np.bincount(rows[keep], minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)])
    cols, vals = s.indices[keep], s.data[keep]
    sel = np.ones(len(vals), dtype=bool)
    for r in np.flatnonzero(counts > k):
        a, b = starts[r], starts[r + 1]
        drop = np.argpartition(-vals[a:b], k - 1)[k:]
        sel[a + drop] = False
    rows = rows[keep][sel]
    return sp.csr_matrix((vals[sel], (rows, cols[sel])), shape=s.shape, dtype=np.float32)


def _co_interaction(
    b: sp.csr_matrix, co: str, topk: int, threshold: float, chunk_rows: int
) -> sp.csr_matrix:
    """Row-chunked Jaccard or cosine similarity between users' item sets, top-k per row."""
    n = b.shape[0]
    if co == "jaccard":
        b = b.copy()
        b.data[:] = 1.0
        size = np.asarray(b.sum(axis=1)).ravel()
    else:
        norm = np.sqrt(np.asarray(b.multiply(b).sum(axis=1)).ravel())
        b = sp.diags(1.0 / np.maximum(norm, 1e-12)) @ b
    b = b.astype(np.float32).tocsr()
    bt = b.T.tocsc()
    parts = []
    with progress("co-interaction graph", n, "users") as p:
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            s = (b[start:stop] @ bt).tocsr()
            if co == "jaccard" and s.nnz:
                r = np.repeat(np.arange(stop - start), np.diff(s.indptr)) + start
                s.data = s.data / (size[r] + size[s.indices] - s.data)
            parts.append(_topk_rows(s, topk, threshold, offset=start))
            p.update(stop - start)
    c = sp.vstack(parts).tocsr() if parts else sp.csr_matrix((n, n))
    return c.maximum(c.T)  # keep an edge when either end ranks it in its top k


def _social(ds: Dataset, pos: np.ndarray, n: int) -> sp.csr_matrix:
    soc = ds.social
    if soc.empty:
        return sp.csr_matrix((n, n), dtype=np.float32)
    r = pos[soc.src.cat.codes.to_numpy()]
    c = pos[soc.dst.cat.codes.to_numpy()]
    w = soc["weight"].to_numpy(np.float64)
    w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
    keep = (r >= 0) & (c >= 0) & (r != c)
    s = sp.csr_matrix((w[keep], (r[keep], c[keep])), shape=(n, n))
    s.data = np.minimum(s.data, 1.0) if s.nnz else s.data  # duplicates should not dominate
    return s.maximum(s.T)  # trust/follow ties are directed; the graph is not


def social_adjacency(ds: Dataset, user_ids: pd.Index | None = None) -> sp.csr_matrix:
    """Symmetric user x user matrix of ``ds.social`` ties (weights capped at 1; a directed
    trust/follow tie counts both ways). Rows follow ``user_ids`` (default ``ds.user_ids``);
    ties to users outside it are dropped."""
    idx, pos = _row_positions(ds, user_ids)
    return _compact(_social(ds, pos, len(idx)))


def build_user_graph(
    ds: Dataset,
    co: Literal["jaccard", "cosine"] | None = "jaccard",
    social: bool = True,
    topk: int = 20,
    threshold: float = 0.05,
    co_weight: float = 1.0,
    social_weight: float = 1.0,
    max_item_users: int | None = None,
    user_ids: pd.Index | None = None,
    chunk_rows: int = 4096,
) -> UserGraph:
    """User-user graph from co-interaction (shared items) plus social ties; symmetric.

    ``co`` picks the similarity of two users' item sets (``None`` turns co-interaction off);
    each user keeps its ``topk`` most similar users with similarity >= ``threshold``, and an
    edge survives when either end keeps it. Items with more than ``max_item_users`` users are
    ignored for co-interaction (a hit everyone played links everyone and costs O(n^2)); the
    default keeps every item up to 50,000 users. Social ties (``ds.social``, any kind) are added
    with weight ``social_weight`` x their own weight (capped at 1). Rows follow ``user_ids``
    (default ``ds.user_ids``); users outside ``ds`` are isolated. Self loops are not included:
    :func:`normalize_adjacency` adds them.
    """
    if topk < 1:
        raise UsageError(f"topk={topk}: must be >= 1 (neighbours kept per user)")
    if co not in ("jaccard", "cosine", None):
        raise UsageError(f"co='{co}' is not a similarity; use 'jaccard', 'cosine' or None")
    index, pos = _row_positions(ds, user_ids)
    n = len(index)
    a = sp.csr_matrix((n, n), dtype=np.float32)
    meta: dict[str, Any] = {"co": co, "topk": topk, "threshold": threshold, "social": social}
    if co is not None:
        b = build_user_item_graph(ds, "event", user_ids=index).matrix
        item_users = np.diff(b.tocsc().indptr)
        cap = max_item_users if max_item_users is not None else 50_000
        hot = item_users > cap
        if hot.any():
            b = (b @ sp.diags((~hot).astype(np.float32))).tocsr()
            b.eliminate_zeros()
        meta["items_ignored_for_co"] = int(hot.sum())
        c = _co_interaction(b, co, topk, threshold, chunk_rows)
        meta["co_edges"] = int(c.nnz // 2)
        a = a + co_weight * c
    if social:
        s = _social(ds, pos, n)
        meta["social_edges"] = int(s.nnz // 2)
        a = a + social_weight * s
    a = _compact(a)
    g = UserGraph(a, index, meta)
    meta.update(edges=g.n_edges, isolated=int(g.isolated.sum()), users=n)
    _log.info("user graph: %d users, %d edges, %d isolated", n, g.n_edges, meta["isolated"])
    return g


def normalize_adjacency(a: sp.spmatrix, self_loops: bool = True) -> sp.csr_matrix:
    """Symmetric normalisation ``D^-1/2 (A + I) D^-1/2`` (float32 CSR).

    With self loops an isolated user's row is just itself, so propagation leaves its own
    features in place.
    """
    a = sp.csr_matrix(a, dtype=np.float32)
    if self_loops:
        a = a + sp.identity(a.shape[0], dtype=np.float32, format="csr")
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.zeros_like(deg)
    inv[deg > 0] = 1.0 / np.sqrt(deg[deg > 0])
    d = sp.diags(inv.astype(np.float32))
    return _compact(d @ a @ d)


def modularity(a: sp.spmatrix, labels: np.ndarray) -> float:
    """Newman modularity of hard ``labels`` on the weighted undirected graph ``a``."""
    a = sp.csr_matrix(a, dtype=np.float64)
    two_m = float(a.sum())
    if two_m <= 0:
        return float("nan")
    lab = np.unique(np.asarray(labels), return_inverse=True)[1]
    onehot = sp.csr_matrix((np.ones(len(lab)), (np.arange(len(lab)), lab)))
    inside = (onehot.T @ a @ onehot).diagonal()
    deg = onehot.T @ np.asarray(a.sum(axis=1)).ravel()
    return float(np.sum(inside / two_m - (deg / two_m) ** 2))
