"""Co-interaction similarity between users' item sets, top-k per user, with what fold-in needs.

The similarity is computed blockwise (a chunk of rows of ``B @ B.T`` at a time) with top-k
sparsification per row, so no dense n x n matrix ever exists. Each row also records the cut a
newcomer must pass to enter it (:class:`TopKCutoff`), so new users can be folded in later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec._progress import progress
from segrec.data import Dataset
from segrec.graph._bipartite import _compact, build_user_item_graph

__all__ = ["TopKCutoff", "co_item_rows", "topk_rows"]


@dataclass(frozen=True)
class TopKCutoff:
    """Per user of a top-k similarity graph: ``value`` (the k-th largest similarity when the
    list was ``full``, i.e. had more than k candidates, else the threshold) and ``ties`` (the
    kept entries equal to ``value`` in full lists: who won a tie at the cut)."""

    value: np.ndarray
    full: np.ndarray
    ties: sp.csr_matrix

    def admits(self, s: sp.csr_matrix, own: np.ndarray) -> np.ndarray:
        """For each entry of ``s`` (rows: newcomers, whose known id is ``own`` or -1; columns:
        users): would that user have kept the newcomer in its list?"""
        rows = np.repeat(np.arange(s.shape[0]), np.diff(s.indptr))
        cut, full = self.value[s.indices], self.full[s.indices]
        won = np.zeros(len(s.data), dtype=bool)
        tie = full & (s.data == cut) & (own[rows] >= 0)
        if tie.any():
            won[tie] = np.asarray(self.ties[s.indices[tie], own[rows][tie]]).ravel() > 0
        return np.where(full, (s.data > cut) | won, s.data >= cut)


def topk_rows(
    s: sp.csr_matrix,
    k: int,
    threshold: float,
    offset: int = 0,
    diagonal: bool = True,
    cutoff: np.ndarray | None = None,
    full: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Keep, per row, the ``k`` largest entries >= ``threshold``, dropping the diagonal
    (row ``r`` of this chunk is user ``r + offset``; ``diagonal=False``: no diagonal to drop).
    Rows with more than ``k`` candidates use one ``argpartition`` each: O(row length), far
    cheaper than sorting the whole chunk. ``cutoff`` (one per row) receives the smallest kept
    value of a ``full`` row (more than k candidates), else ``threshold``."""
    n = s.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(s.indptr))
    keep = s.data >= threshold
    if diagonal:
        keep &= s.indices != rows + offset
    counts = np.bincount(rows[keep], minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)])
    cols, vals = s.indices[keep], s.data[keep]
    sel = np.ones(len(vals), dtype=bool)
    if cutoff is not None and full is not None:
        cutoff[:] = threshold
        full[:] = counts > k
    for r in np.flatnonzero(counts > k):
        a, b = starts[r], starts[r + 1]
        part = np.argpartition(-vals[a:b], k - 1)
        sel[a + part[k:]] = False
        if cutoff is not None:
            cutoff[r] = vals[a + part[k - 1]]
    rows = rows[keep][sel]
    return sp.csr_matrix((vals[sel], (rows, cols[sel])), shape=s.shape, dtype=np.float32)


def _prepare_co(b: sp.csr_matrix, co: str, extra: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows ready for the similarity product (binary, or unit-norm for cosine) and the sizes
    (Jaccard) they need; ``extra`` adds, per row, items outside these columns (set sizes, or
    squared weights for the norm)."""
    size = np.zeros(b.shape[0], np.float32)
    if co == "jaccard":
        b = b.copy()
        b.data[:] = 1.0
        size = np.asarray(b.sum(axis=1)).ravel()
        if extra.any():
            size = size + extra.astype(size.dtype)
    else:
        sq = np.asarray(b.multiply(b).sum(axis=1)).ravel()
        norm = np.sqrt(sq + extra.astype(sq.dtype) if extra.any() else sq)
        b = sp.diags(1.0 / np.maximum(norm, 1e-12)) @ b
    return b.astype(np.float32).tocsr(), size


def co_item_rows(
    ds: Dataset,
    user_ids: pd.Index,
    co: str,
    max_item_users: int | None = None,
    *,
    items: pd.Index | None = None,
    hot: np.ndarray | None = None,
    rating_max: float | None = None,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, float | None]:
    """(prepared item rows of ``user_ids``, their sizes, hot-item mask, rating max) for the
    co-interaction similarity. At fit ``items``/``hot``/``rating_max`` come from ``ds``; to fold
    new users in, pass the fitted ones: columns then follow ``items`` (other items count only
    in the sizes) and the fitted hot items are ignored as at fit."""
    r = ds.interactions["rating"].to_numpy(np.float64)
    r = r[np.isfinite(r)]
    rmax = rating_max if items is not None else (float(r.max()) if len(r) else None)
    b = build_user_item_graph(ds, "event", user_ids=user_ids, rating_max=rmax).matrix
    extra = np.zeros(b.shape[0])
    if items is not None:
        col = pd.Index(items, dtype="object").get_indexer(ds.item_ids)
        out = col[b.indices] < 0
        w = np.where(out, b.data.astype(np.float64), 0.0)
        w = np.ones_like(w) * out if co == "jaccard" else w * w
        extra = np.bincount(
            np.repeat(np.arange(b.shape[0]), np.diff(b.indptr)), weights=w, minlength=b.shape[0]
        )
        remap = sp.csr_matrix(
            (np.ones(int((col >= 0).sum()), np.float32), (np.flatnonzero(col >= 0), col[col >= 0])),
            shape=(len(col), len(items)),
        )
        b = _compact(b @ remap)
    else:
        item_users = np.diff(b.tocsc().indptr)
        cap = max_item_users if max_item_users is not None else 50_000
        hot = item_users > cap
    assert hot is not None
    rows, size = _finish_co(b, co, extra, hot)
    return rows, size, hot, rmax


def co_events_row(
    positions: np.ndarray,
    weights: np.ndarray,
    n_items: int,
    co: str,
    hot: np.ndarray,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """:func:`co_item_rows` of one new user, folding in, from the arrays of their items: each
    item's position among the fitted items (-1 for one outside them, counted only in the
    size) and edge weight (:func:`~segrec.graph._bipartite.event_weights`), one per item."""
    known = positions >= 0
    w32 = np.asarray(weights, np.float64).astype(np.float32)  # as the graph stores edges
    w_out = w32[~known].astype(np.float64)
    extra = np.array([float((w_out != 0).sum()) if co == "jaccard" else float((w_out**2).sum())])
    b = sp.csr_matrix(
        (w32[known], (np.zeros(int(known.sum()), np.int64), positions[known])),
        shape=(1, n_items),
    )
    return _finish_co(_compact(b), co, extra, hot)


def _finish_co(
    b: sp.csr_matrix, co: str, extra: np.ndarray, hot: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Hot items dropped, then :func:`_prepare_co`."""
    if hot.any():
        b = (b @ sp.diags((~hot).astype(np.float32))).tocsr()
        b.eliminate_zeros()
    return _prepare_co(b, co, extra)


def _co_interaction(
    b: sp.csr_matrix,
    size: np.ndarray,
    co: str,
    topk: int,
    threshold: float,
    chunk_rows: int,
) -> tuple[sp.csr_matrix, TopKCutoff]:
    """Row-chunked Jaccard or cosine similarity between users' prepared item rows (see
    :func:`co_item_rows`), top-k per row; and each row's :class:`TopKCutoff`."""
    n = b.shape[0]
    cutoff, full = np.zeros(n, np.float32), np.zeros(n, bool)
    tie_rows, tie_cols = [], []
    bt = b.T.tocsc()
    parts = []
    with progress("co-interaction graph", n, "users") as p:
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            s = (b[start:stop] @ bt).tocsr()
            if co == "jaccard" and s.nnz:
                r = np.repeat(np.arange(stop - start), np.diff(s.indptr)) + start
                s.data = s.data / (size[r] + size[s.indices] - s.data)
            t = topk_rows(
                s, topk, threshold, start, cutoff=cutoff[start:stop], full=full[start:stop]
            )
            r = np.repeat(np.arange(stop - start), np.diff(t.indptr))
            tie = full[start + r] & (t.data == cutoff[start + r])
            tie_rows.append(start + r[tie])
            tie_cols.append(t.indices[tie])
            parts.append(t)
            p.update(stop - start)
    c = sp.vstack(parts).tocsr() if parts else sp.csr_matrix((n, n))
    tr = np.concatenate(tie_rows) if tie_rows else np.zeros(0, np.int64)
    tc = np.concatenate(tie_cols) if tie_cols else np.zeros(0, np.int64)
    ties = sp.csr_matrix((np.ones(len(tr), np.float32), (tr, tc)), shape=(n, n))
    # keep an edge when either end ranks it in its top k
    return c.maximum(c.T), TopKCutoff(cutoff, full, ties)
