"""Dataset -> sparse graphs: the user-item bipartite graph and the user-user graph.

Everything is scipy CSR with int32 indices and float32 weights, so a 1,000,000-user graph with
10,000,000 edges costs about 10M x (4 + 4) bytes plus the row pointers: well under a gigabyte.
The co-interaction graph is computed blockwise (a chunk of rows of ``B @ B.T`` at a time) with
top-k sparsification per row, so no dense n x n matrix ever exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.graph._bipartite import (
    EVENT_WEIGHTS,
    BipartiteGraph,
    _compact,
    _row_positions,
    build_user_item_graph,
)
from segrec.graph._coint import TopKCutoff, _co_interaction, co_item_rows, topk_rows

__all__ = [
    "EVENT_WEIGHTS",
    "BipartiteGraph",
    "TopKCutoff",
    "UserGraph",
    "build_user_graph",
    "build_user_item_graph",
    "co_item_rows",
    "modularity",
    "normalize_adjacency",
    "social_adjacency",
    "topk_rows",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserGraph:
    """Symmetric users x users CSR of edge weights (no self loops) over ordered ``user_ids``."""

    adjacency: sp.csr_matrix
    user_ids: pd.Index
    meta: dict[str, Any] = field(default_factory=dict)
    #: what a newcomer must reach to enter each user's top-k co-interaction list (what fold-in
    #: needs; None without co-interaction)
    cutoff: TopKCutoff | None = None

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
    cutoff = None
    if co is not None:
        b, size, hot, _ = co_item_rows(ds, index, co, max_item_users)
        meta["items_ignored_for_co"] = int(hot.sum())
        c, cutoff = _co_interaction(b, size, co, topk, threshold, chunk_rows)
        meta["co_edges"] = int(c.nnz // 2)
        a = a + co_weight * c
    if social:
        s = _social(ds, pos, n)
        meta["social_edges"] = int(s.nnz // 2)
        a = a + social_weight * s
    a = _compact(a)
    g = UserGraph(a, index, meta, cutoff)
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
