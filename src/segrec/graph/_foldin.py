"""Fold-in: embed users the GCN never saw, without recomputing the graph of everyone else.

A new user's row of the user graph is built by the rules of :func:`build_user_graph`, against
the known users only: the co-interaction neighbours are the known users with the highest Jaccard
(or cosine) of item sets, kept when they are in the new user's top ``topk`` (>= ``threshold``)
*or* when the known user would have kept the new user (its similarity beats that user's
fit-time cut, :class:`TopKCutoff`; at a tie, only a known id that won the tie at fit), the
union that ``c.maximum(c.T)`` takes at fit; the
social neighbours are the named friends who are known users (and, for a known id, the fit-time
ties others made to it). The known users are not changed: their rows, degrees and per-layer
hidden states are those of the fit. Normalisation: the new row is ``a_uj / sqrt(d_u d_j)`` with
``d_u = 1 + sum_j a_uj`` (its own self loop) and ``d_j`` the known user's *fit-time* degree, so a
training user presented again with exactly their own history gets the row, and so the vector,
that the fit gave them. The propagation is numpy (no torch needed to serve):
``h_(l+1) = act(W_l (sum_j a_hat_uj H_l[j] + a_hat_uu h_l(u)) + b_l)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec._ids import positions
from segrec.data import Dataset
from segrec.data._one_user import OneUserEvents, as_dataset
from segrec.diagnostics import UsageError
from segrec.features._state import csr_from_state, csr_state
from segrec.graph._bipartite import EVENT_WEIGHTS, event_weights
from segrec.graph._build import (
    TopKCutoff,
    UserGraph,
    co_item_rows,
    social_adjacency,
    topk_rows,
)
from segrec.graph._coint import co_events_row

__all__ = ["GraphFoldIn"]


class GraphFoldIn:
    """Fitted state that embeds new (or re-presented) users through trained GCN layers."""

    def __init__(
        self,
        *,
        co: str | None = "jaccard",
        social: bool = True,
        topk: int = 20,
        threshold: float = 0.05,
    ) -> None:
        self.co, self.social, self.topk, self.threshold = co, social, topk, threshold

    # -- fit ------------------------------------------------------------------------------
    def fit(self, dataset: Dataset, graph: UserGraph, encoder: Any) -> GraphFoldIn:
        """Keep what fold-in needs from a fit: ``graph`` built from ``dataset``, ``encoder`` a
        fitted :class:`GCNEncoder` over it."""
        self.user_ids_ = pd.Index(graph.user_ids, dtype="object", name="user_id")
        self.item_ids_ = pd.Index(dataset.item_ids, dtype="object", name="item_id")
        if self.co is not None:
            rows, size, hot, rmax = co_item_rows(dataset, self.user_ids_, self.co)
            self.rows_, self.size_, self.hot_, self.rating_max_ = rows, size, hot, rmax
            assert graph.cutoff is not None
            self.cutoff_ = graph.cutoff
        self.social_ = (
            social_adjacency(dataset, self.user_ids_)
            if self.social
            else sp.csr_matrix((len(self.user_ids_), len(self.user_ids_)), dtype=np.float32)
        )
        self.adjacency_ = sp.csr_matrix(graph.adjacency, dtype=np.float32)
        self.inv_sqrt_deg_ = _inv_sqrt(_degree(self.adjacency_))
        self.states_ = [np.asarray(h, np.float32) for h in _layer_states(encoder)]
        self.layers_ = [
            (np.asarray(w, np.float32), np.asarray(b, np.float32))
            for w, b in _layer_weights(encoder)
        ]
        return self

    # -- neighbours -----------------------------------------------------------------------
    def neighbours(self, users: Dataset | OneUserEvents, user_ids: pd.Index) -> sp.csr_matrix:
        """Raw edge weights (len(user_ids) x known users) from ``users``' own rows."""
        n = len(self.user_ids_)
        co: sp.csr_matrix | None = None
        if (
            isinstance(users, OneUserEvents)
            and list(user_ids) == [users.user_id]
            and users.user_id not in self.user_ids_
        ):  # one new user from their events' arrays; naming no friend, they have no tie
            if self.co is None:
                return sp.csr_matrix((1, n), dtype=np.float32)
            return self._events_co(users)
        users = as_dataset(users)
        ids = pd.Index(user_ids, dtype="object")
        own = positions(self.user_ids_, ids)  # -1 for a new id; a known id is not its own
        if not len(users.interactions) and not len(users.social) and (own < 0).all():
            return sp.csr_matrix((len(ids), n), dtype=np.float32)  # newcomers who only wrote
        if self.co is not None:
            co = self._co_rows(users, ids, own)
        social = self._social_rows(users, ids, own) if self.social else None
        a = sp.csr_matrix((len(own), n), dtype=np.float32)
        if co is not None:
            a = a + co
        if social is not None:
            a = a + social
        return _drop_self(sp.csr_matrix(a, dtype=np.float32), own)

    def known_rows(self, user_ids: pd.Index) -> sp.csr_matrix:
        """The fit-time rows of known ids (an empty row for an unknown one)."""
        own = positions(self.user_ids_, user_ids)
        out = self.adjacency_[np.maximum(own, 0)].tocsr()
        out = sp.diags((own >= 0).astype(np.float32)) @ out
        return sp.csr_matrix(out, dtype=np.float32)

    def _events_co(self, ev: OneUserEvents) -> sp.csr_matrix:
        """:meth:`_co_rows` of one new user, from their events' arrays."""
        assert self.co is not None
        if getattr(self, "_memo", None) is None:  # item id -> fitted column (a cache)
            self._memo = {i: c for c, i in enumerate(self.item_ids_)}
        pos = np.array([self._memo.get(i, -1) for i in ev.items], dtype=np.int64)
        w = event_weights(ev.event, ev.weight, ev.rating, EVENT_WEIGHTS, self.rating_max_)
        new, size = co_events_row(pos, w, len(self.item_ids_), self.co, self.hot_)
        s, mine, keep = self._candidates(new, size, np.array([-1]))
        # the row ``_similar`` and ``neighbours`` build for it, without their dozen sparse
        # intermediates (half of an online assign): the entries of ``s`` that its top-k kept
        # or whose user would have kept it, zeros dropped, columns ascending (``embed`` adds
        # them in that order whichever route built them)
        sel = keep | np.isin(s.indices, mine.indices)
        sel &= s.data != 0
        cols, vals = s.indices[sel], s.data[sel]
        order = np.argsort(cols, kind="stable")
        return sp.csr_matrix(
            (vals[order].astype(np.float32), cols[order], np.array([0, len(cols)])),
            shape=(1, len(self.user_ids_)),
        )

    def _co_rows(self, users: Dataset, ids: pd.Index, own: np.ndarray) -> sp.csr_matrix:
        assert self.co is not None
        new, size, _, _ = co_item_rows(
            users, ids, self.co, items=self.item_ids_, hot=self.hot_, rating_max=self.rating_max_
        )
        return self._similar(new, size, own)

    def _candidates(
        self, new: sp.csr_matrix, size: np.ndarray, own: np.ndarray
    ) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        """(similarities of prepared item rows ``new`` to the known users, each row's top
        ``topk`` of them, which entries' users would have kept the row)."""
        assert self.co is not None
        if getattr(self, "_csr", None) is None:  # the right side as scipy converts it per call
            self._csr = self.rows_.T.tocsr()  # (a cache: forget drops it, it is rebuilt)
        s = (new @ self._csr).tocsr()
        if self.co == "jaccard" and s.nnz:
            r = np.repeat(np.arange(s.shape[0]), np.diff(s.indptr))
            s.data = s.data / (size[r] + self.size_[s.indices] - s.data)
        s = _drop_self(s, own)
        mine = topk_rows(s, self.topk, self.threshold, diagonal=False)
        keep = self.cutoff_.admits(s, own) & (s.data >= self.threshold)
        return s, mine, keep

    def _similar(self, new: sp.csr_matrix, size: np.ndarray, own: np.ndarray) -> sp.csr_matrix:
        """Co-interaction edges of prepared item rows ``new`` to the known users: each row's
        top ``topk``, and every known user who would have kept it (see the module doc)."""
        s, mine, keep = self._candidates(new, size, own)
        theirs = sp.csr_matrix((s.data * keep, s.indices, s.indptr), shape=s.shape)
        theirs.eliminate_zeros()
        return sp.csr_matrix(mine.maximum(theirs), dtype=np.float32)

    def _social_rows(self, users: Dataset, ids: pd.Index, own: np.ndarray) -> sp.csr_matrix:
        n = len(self.user_ids_)
        soc = users.social
        if not len(soc) and (own < 0).all():  # a new user naming no friend: no social edge
            return sp.csr_matrix((len(ids), n), dtype=np.float32)
        src = pd.Index(ids).get_indexer(soc.src.astype(str))
        dst = pd.Index(ids).get_indexer(soc.dst.astype(str))
        w = soc["weight"].to_numpy(np.float64)
        w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
        parts = []
        for me, other in ((src, soc.dst), (dst, soc.src)):  # ties count both ways
            col = self.user_ids_.get_indexer(other.astype(str))
            keep = (me >= 0) & (col >= 0)
            m = sp.csr_matrix((w[keep], (me[keep], col[keep])), shape=(len(ids), n))
            m.data = np.minimum(m.data, 1.0)
            parts.append(m)
        stored = self.social_[np.maximum(own, 0)]
        stored = sp.diags((own >= 0).astype(np.float64)) @ stored  # ties others made to it
        return sp.csr_matrix(parts[0].maximum(parts[1]).maximum(stored))

    # -- propagation ----------------------------------------------------------------------
    def embed(self, x: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """Output-layer vectors of users with input rows ``x`` and raw edge ``rows``."""
        x = np.asarray(x, np.float32)
        if x.shape != (rows.shape[0], self.states_[0].shape[1]):
            raise UsageError(
                f"x has shape {x.shape}; expected ({rows.shape[0]}, "
                f"{self.states_[0].shape[1]}): one input row per user, as at fit"
            )
        # neighbours are added in column order, whatever order the sparse operations that
        # built ``rows`` left them in, so every route to the same row gives the same vector
        rows = sp.csr_matrix(rows, dtype=np.float32)
        if not rows.has_sorted_indices:
            rows = rows.sorted_indices()
        inv = _inv_sqrt(1.0 + np.asarray(rows.sum(axis=1), np.float32).ravel())
        a_hat = rows.copy()  # diag(inv) @ rows @ diag(inv_sqrt_deg_), entry by entry
        r = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        a_hat.data = (inv[r] * rows.data) * self.inv_sqrt_deg_[rows.indices]
        self_w = inv * inv
        h = x
        last = len(self.layers_) - 1
        for layer, (w, b) in enumerate(self.layers_):
            agg = a_hat @ self.states_[layer] + self_w[:, None] * h
            h = np.asarray(agg, np.float32) @ w.T + b
            if layer < last:
                h = np.maximum(h, 0.0)
        return h.astype(np.float32)

    def transform(
        self, users: Dataset | OneUserEvents, user_ids: pd.Index, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, isolated mask) of ``user_ids`` folded in from ``users``' rows."""
        rows = self.neighbours(users, user_ids)
        return self.embed(x, rows), np.diff(rows.indptr) == 0

    # -- state ----------------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta: dict[str, Any] = {
            "co": self.co,
            "social": self.social,
            "topk": self.topk,
            "threshold": self.threshold,
            "n_layers": len(self.layers_),
        }
        arrays = {
            "user_ids": np.asarray(self.user_ids_, dtype=str),
            "item_ids": np.asarray(self.item_ids_, dtype=str),
            "inv_sqrt_deg": self.inv_sqrt_deg_,
            **csr_state("adjacency", self.adjacency_),
            **csr_state("social", self.social_),
        }
        if self.co is not None:
            meta["rating_max"] = self.rating_max_
            arrays.update(size=self.size_, hot=self.hot_, cutoff=self.cutoff_.value)
            arrays.update(cutoff_full=self.cutoff_.full, **csr_state("ties", self.cutoff_.ties))
            arrays.update(csr_state("rows", self.rows_))
        for i, (h, (w, b)) in enumerate(zip(self.states_, self.layers_, strict=True)):
            arrays.update({f"state{i}": h, f"weight{i}": w, f"bias{i}": b})
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GraphFoldIn:
        self = cls(
            co=meta["co"], social=meta["social"], topk=meta["topk"], threshold=meta["threshold"]
        )
        self.user_ids_ = pd.Index(arrays["user_ids"].astype(object), name="user_id")
        self.item_ids_ = pd.Index(arrays["item_ids"].astype(object), name="item_id")
        self.inv_sqrt_deg_ = arrays["inv_sqrt_deg"]
        self.adjacency_ = csr_from_state("adjacency", arrays)
        self.social_ = csr_from_state("social", arrays)
        if self.co is not None:
            self.rating_max_ = meta["rating_max"]
            self.size_, self.hot_ = arrays["size"], arrays["hot"].astype(bool)
            self.cutoff_ = TopKCutoff(
                arrays["cutoff"], arrays["cutoff_full"].astype(bool), csr_from_state("ties", arrays)
            )
            self.rows_ = csr_from_state("rows", arrays)
        n = int(meta["n_layers"])
        self.states_ = [arrays[f"state{i}"] for i in range(n)]
        self.layers_ = [(arrays[f"weight{i}"], arrays[f"bias{i}"]) for i in range(n)]
        return self


def _degree(a: sp.csr_matrix) -> np.ndarray:
    """Row sums of ``a + I`` in float32, as :func:`normalize_adjacency` computes them."""
    a = sp.csr_matrix(a, dtype=np.float32) + sp.identity(a.shape[0], np.float32, format="csr")
    return np.asarray(a.sum(axis=1)).ravel().astype(np.float32)


def _inv_sqrt(deg: np.ndarray) -> np.ndarray:
    inv = np.zeros_like(deg, dtype=np.float32)
    inv[deg > 0] = 1.0 / np.sqrt(deg[deg > 0])
    return inv


def _drop_self(s: sp.csr_matrix, own: np.ndarray) -> sp.csr_matrix:
    """Zero the entry of each row at its own known column, keeping the order of the others."""
    s = sp.csr_matrix(s)
    rows = np.repeat(np.arange(s.shape[0]), np.diff(s.indptr))
    keep = s.indices != own[rows]
    if keep.all():
        return s
    counts = np.bincount(rows[keep], minlength=s.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((s.data[keep], s.indices[keep], indptr), shape=s.shape)


def _layer_states(encoder: Any) -> list[np.ndarray]:
    """Each layer's input over a fitted :class:`GCNEncoder`'s training graph:
    ``[x, h_1, ..., h_(L-1)]``, computed as its full forward pass does."""
    from segrec.graph._gcn import _torch, to_torch_sparse

    torch = _torch()
    n_layers = encoder.config.n_layers
    states = [encoder.x_]
    encoder.module_.eval()
    with torch.no_grad():
        at = to_torch_sparse(encoder.a_hat_) if n_layers > 1 else None
        h = encoder._act(encoder.module_[0](torch.from_numpy(encoder.ax_)), last=n_layers == 1)
        for layer in range(1, n_layers):
            states.append(h.numpy().astype(np.float32))
            h = encoder._act(
                encoder.module_[layer](torch.sparse.mm(at, h)), last=layer == n_layers - 1
            )
    encoder.module_.train()
    return states


def _layer_weights(encoder: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) of each layer as numpy: ``h_(l+1) = act(A_hat h_l W.T + b)``."""
    return [
        (lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy())
        for lin in encoder.module_
    ]
