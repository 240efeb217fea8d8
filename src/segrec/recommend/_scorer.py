"""Shared machinery of the scoring recommenders: dense batch scoring, masking and top-k.

Every model in this package scores *all* items for a batch of users as a dense
``(n_users, n_items)`` float array over the training items (``ctx.train.item_ids``); this class
turns such scores into :class:`RecLists`: the user's training items and items never interacted
with in training are masked out, the top ``k`` are taken with a deterministic tie-break (lower item
code first), and short reasons are attached for the returned items only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel

from segrec._budget import check_budget
from segrec._ids import positions
from segrec._threads import map_row_blocks
from segrec.diagnostics import UsageError, validated
from segrec.recommend._base import FitContext, RecLists

if TYPE_CHECKING:
    from segrec.recommend._reasons import ReasonIndex
    from segrec.recommend._rows import UserRows

__all__ = ["ScoringRecommender", "batch_rows", "top_k"]

_log = logging.getLogger(__name__)

#: Users scored per dense batch: 512 x 20k items x 4 bytes = 40 MB.
BATCH = 512
#: at most this many scores (users x items) in one dense batch: with 100k items a batch holds
#: 200 users (80 MB of float32 scores, 160 MB of argpartition indices), never users x items
BATCH_CELLS = 20_000_000


def batch_rows(n_items: int) -> int:
    """Users per dense scoring batch for a catalogue of ``n_items`` (at most :data:`BATCH`).

    Rows are ranked one by one, so the batch size never changes a list."""
    return max(16, min(BATCH, BATCH_CELLS // max(n_items, 1)))


def top_k(scores: np.ndarray, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Row-wise top ``k`` column indices and scores, best first; ``-inf`` entries are dropped.

    Ties are broken by the lower column index, so the result is deterministic. Rows whose
    ``k``-th best score is not shared by another column (the usual case) are ranked together
    from ``argpartition``'s candidates; the others take the exact per-row path that includes
    every tied column. Large blocks are ranked in row blocks side by side
    (:func:`~segrec._threads.map_row_blocks`; each row's list is its own).
    """
    blocks = map_row_blocks(lambda r: _top_k(scores[r], k), *scores.shape)
    if len(blocks) == 1:
        return blocks[0]
    return [i for b in blocks for i in b[0]], [s for b in blocks for s in b[1]]


def _top_k(scores: np.ndarray, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    n, m = scores.shape
    kk = min(k, m)
    idx_out: list[np.ndarray] = [np.empty(0, np.int64)] * n
    sc_out: list[np.ndarray] = [np.empty(0, np.float64)] * n
    if kk == 0 or n == 0:
        return idx_out, sc_out
    if kk < m:
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        vals = np.take_along_axis(scores, part, 1)
        thr = vals.min(axis=1)
        # exactly kk columns at or above the k-th best: argpartition's set is the top set
        plain = np.isfinite(thr) & ((scores >= thr[:, None]).sum(axis=1) == kk)
    else:
        part = np.tile(np.arange(m), (n, 1))
        vals = scores
        plain = np.zeros(n, bool)
    if plain.any():
        p, v = part[plain], vals[plain]
        order = np.lexsort((p, -v), axis=1)
        sel = np.take_along_axis(p, order, 1).astype(np.int64)
        sv = np.take_along_axis(v, order, 1).astype(np.float64)
        for j, r in enumerate(np.flatnonzero(plain)):
            idx_out[r], sc_out[r] = sel[j], sv[j]
    for r in np.flatnonzero(~plain):
        cand = part[r]
        # include every column tied with the k-th best so that the index tie-break is exact
        thr_r = scores[r, cand].min()
        cand = np.flatnonzero(scores[r] >= thr_r) if np.isfinite(thr_r) else cand
        order = np.lexsort((cand, -scores[r, cand]))[:kk]
        sel_r = cand[order]
        s = scores[r, sel_r]
        keep = np.isfinite(s)
        idx_out[r] = sel_r[keep].astype(np.int64)
        sc_out[r] = s[keep].astype(np.float64)
    return idx_out, sc_out


class ScoringRecommender:
    """Base class: subclasses implement :meth:`_fit` and :meth:`_score_known`.

    ``score(user_ids)`` gives raw dense scores (unknown users get :meth:`_score_unknown`, by
    default global popularity); ``recommend(user_ids, k)`` masks seen / non-train items and cuts
    the top ``k``. ``score_rows`` / ``recommend_rows`` / ``reasons_rows`` do the same for
    :class:`~segrec.recommend.UserRows`: fitted rows exactly as ``score``, the others through
    :meth:`_fold_in` (rows with history) or :meth:`_score_cold`. Learned state common to all
    models: ``item_ids_``, ``user_ids_``, ``matrix_``, ``popularity_`` (train interaction counts
    per item), ``candidates_`` (items with >= 1 train interaction), ``n_history_`` (train items
    per user), ``reasons_`` (the :class:`ReasonIndex`); no Dataset and no FitContext are kept,
    so :func:`~segrec.recommend.recommender_to_state` stores a fitted model as arrays.
    """

    name: ClassVar[str] = "base"
    config_class: ClassVar[type[BaseModel]] = BaseModel
    #: which reason a list from this model carries: "popular", "trending", "segment", "social",
    #: "peers", "similar" or "text"
    reason_kind: ClassVar[str] = "similar"

    def explained_as(self) -> str:
        """The reason kind of this fitted model's lists (:attr:`reason_kind` unless a setting
        changes what the model is, such as popularity with a half-life being trending)."""
        return self.reason_kind

    def __init__(self, config: BaseModel | None = None, **kwargs: Any) -> None:
        if config is not None and kwargs:
            raise UsageError(
                f"{type(self).__name__}: pass either config= or keyword parameters, not both "
                f"(got config and {sorted(kwargs)})"
            )
        if config is None:
            config = validated(
                self.config_class, f"recommender '{self.name}': invalid parameters", **kwargs
            )
        self.config = config

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, ctx: FitContext) -> ScoringRecommender:
        """Learn from the training period in ``ctx``; returns ``self``. The fitted model keeps
        arrays only (no Dataset, no FitContext): see :func:`recommender_to_state`."""
        from segrec.recommend._reasons import reason_index

        m = ctx.matrix.tocsr().astype(np.float32)
        self.matrix_ = m
        self.item_ids_ = ctx.train.item_ids
        self.user_ids_ = ctx.train.user_ids
        self.popularity_ = np.asarray(m.sum(axis=0)).ravel().astype(np.float64)
        self.candidates_ = self.popularity_ > 0
        self.n_history_ = np.diff(m.indptr)
        if not self.candidates_.any():
            raise UsageError(
                f"recommender '{self.name}': the training data has no interactions; "
                "fit on a FitContext whose train dataset has at least one interaction"
            )
        self.reasons_: ReasonIndex = reason_index(ctx)
        self._walked: list[ScoringRecommender] | None = None
        self._fit(ctx)
        self._walked = None  # _fit may have set the nested models
        return self

    def _fit(self, ctx: FitContext) -> None:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Hyper-parameters for the results JSON."""
        return {"model": self.name, **self.config.model_dump()}

    def submodels(self) -> list[ScoringRecommender]:
        """The fitted recommenders this one holds (learned attributes, or dicts of them)."""
        out: list[ScoringRecommender] = []
        for k, v in vars(self).items():
            if not k.endswith("_") or k.startswith("_"):
                continue
            vals = v.values() if isinstance(v, dict) else [v]
            out += [x for x in vals if isinstance(x, ScoringRecommender) and x is not self]
        return out

    def walk(self) -> list[ScoringRecommender]:
        """This recommender and every one nested in it, depth first, each once (found once
        after a fit or a load, then kept: one user's list asks for it several times)."""
        walked: list[ScoringRecommender] | None = getattr(self, "_walked", None)
        if walked is None:
            walked = self._walk()
            self._walked = walked
        return walked

    def _walk(self) -> list[ScoringRecommender]:
        out: list[ScoringRecommender] = []
        todo: list[ScoringRecommender] = [self]
        while todo:
            r = todo.pop(0)
            if not any(r is o for o in out):
                out.append(r)
                todo = r.submodels() + todo
        return out

    def set_segment_names(self, names: dict[int, str]) -> None:
        """Name segments in reasons (for example by their profiles), in every nested index."""
        for r in self.walk():
            idx = getattr(r, "reasons_", None)
            if idx is not None:
                idx.segment_names.update({int(k): str(v) for k, v in names.items()})

    # -- scoring ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "item_ids_"):
            raise UsageError(f"recommender '{self.name}' is not fitted: call fit(ctx) first")

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        """Scores (len(codes), n_items) for users with train history."""
        raise NotImplementedError

    def _score_unknown(self, user_ids: list[str]) -> np.ndarray:
        """Fallback scores for users without train history: global popularity."""
        return np.tile(np.log1p(self.popularity_).astype(np.float32), (len(user_ids), 1))

    def user_codes(self, user_ids: Sequence[str]) -> np.ndarray:
        """Codes into the training user index (-1 for users unknown at fit time)."""
        return positions(self.user_ids_, [str(u) for u in user_ids])

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        """Raw scores, shape (len(user_ids), n_items), over ``item_ids_`` (unmasked)."""
        self._check_fitted()
        ids = [str(u) for u in user_ids]
        codes = self.user_codes(ids)
        known = codes >= 0
        known[known] = self.n_history_[codes[known]] > 0
        out = np.empty((len(ids), len(self.item_ids_)), dtype=np.float32)
        if known.any():
            out[known] = self._score_known(codes[known])
        if (~known).any():
            unk = [ids[i] for i in np.flatnonzero(~known)]
            out[~known] = self._score_unknown(unk)
        return out

    def mask(self, scores: np.ndarray, user_ids: Sequence[str]) -> np.ndarray:
        """Set seen items and non-train items to ``-inf`` (in place) and return ``scores``."""
        scores[:, ~self.candidates_] = -np.inf
        codes = self.user_codes(user_ids)
        for r, c in enumerate(codes):
            if c >= 0:
                seen = self.matrix_.indices[self.matrix_.indptr[c] : self.matrix_.indptr[c + 1]]
                scores[r, seen] = -np.inf
        return scores

    def recommend(self, user_ids: Sequence[str], k: int = 10, reasons: bool = True) -> RecLists:
        """Top ``k`` unseen train items per user, best first, with scores and reasons."""
        self._check_fitted()
        ids = [str(u) for u in user_ids]
        return self._lists(ids, k, lambda b: self.mask(self.score(ids[b]), ids[b]), reasons)

    def _lists(
        self, ids: list[str], k: int, scored: Callable[[slice], np.ndarray], reasons: bool
    ) -> RecLists:
        if k < 1:
            raise UsageError(f"k must be a positive int; got {k}")
        items: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        rows = batch_rows(len(self.item_ids_))
        for start in range(0, len(ids), rows):
            check_budget(f"scoring users {start:,} to {min(start + rows, len(ids)):,}")
            idx, sc = top_k(scored(slice(start, start + rows)), k)
            items.extend(self.item_ids_.to_numpy()[i] for i in idx)
            scores.extend(sc)
        why = self.reasons(ids, items) if reasons else None
        return RecLists(
            user_ids=pd.Index(ids, dtype="object", name="user_id"),
            items=items,
            scores=scores,
            reasons=why,
            method=self.name,
            meta={"params": self.params()},
        )

    def reasons(self, user_ids: list[str], items: list[np.ndarray]) -> list[list[str]]:
        """One short reason per recommended item (computed for these items only)."""
        from segrec.recommend._rows import UserRows

        return self.reasons_rows(UserRows.known(self, user_ids), items)

    def reasons_rows(self, rows: UserRows, items: list[np.ndarray]) -> list[list[str]]:
        """:meth:`reasons` for the users of ``rows``, fitted or not."""
        from segrec.recommend._explain import explain_rows

        kind = self.explained_as()
        return explain_rows(self, rows, items, lambda r, its: [kind] * len(its))

    # -- users as rows ------------------------------------------------------------------------
    def known_parts(self, user_ids: list[str]) -> dict[str, Any]:
        """Fit-time per-user state of ``user_ids`` for :meth:`UserRows.known` (segments, text
        vectors, friends), from the first model in :meth:`walk` that holds each."""
        out: dict[str, Any] = {}
        for r in self.walk():
            for k, v in r._own_parts(user_ids).items():
                out.setdefault(k, v)
        return out

    def _own_parts(self, user_ids: list[str]) -> dict[str, Any]:
        idx = getattr(self, "reasons_", None)
        if idx is None or len(idx.segment_labels) == 0:
            return {}
        return {"segments": idx.fitted_segments(list(user_ids))}

    def _check_rows(self, rows: UserRows) -> None:
        if rows.history.shape[1] != len(self.item_ids_):
            raise UsageError(
                f"recommender '{self.name}': UserRows.history has {rows.history.shape[1]} "
                f"columns, expected one per fitted item ({len(self.item_ids_)}); build rows "
                "with UserRows.new(model, ...) or UserRows.known(model, ...)"
            )

    def score_rows(self, rows: UserRows) -> np.ndarray:
        """Raw scores (len(rows), n_items): ``fitted`` rows exactly as :meth:`score`, the
        others folded in from their history, segment, texts and friends."""
        self._check_fitted()
        self._check_rows(rows)
        out = np.empty((len(rows), len(self.item_ids_)), dtype=np.float32)
        fit = rows.fitted
        if fit.any():
            out[fit] = self.score([rows.user_ids[i] for i in np.flatnonzero(fit)])
        if (~fit).any():
            out[~fit] = self._score_new(rows.take(~fit))
        return out

    def _score_new(self, rows: UserRows) -> np.ndarray:
        """Scores of rows that are not fit-time state: fold-in with history, else cold."""
        warm = rows.n_history > 0
        out = np.empty((len(rows), len(self.item_ids_)), dtype=np.float32)
        if warm.any():
            out[warm] = self._fold_in(rows.take(warm))
        if (~warm).any():
            out[~warm] = self._score_cold(rows.take(~warm))
        return out

    def _fold_in(self, rows: UserRows) -> np.ndarray:
        """Scores of rows with history that the fit did not see."""
        raise NotImplementedError(f"recommender '{self.name}' cannot score new users")

    def _score_cold(self, rows: UserRows) -> np.ndarray:
        """Scores of rows without history: global popularity (as :meth:`_score_unknown`)."""
        return np.tile(np.log1p(self.popularity_).astype(np.float32), (len(rows), 1))

    def mask_rows(self, scores: np.ndarray, rows: UserRows) -> np.ndarray:
        """Set each row's history and the non-train items to ``-inf`` (in place)."""
        scores[:, ~self.candidates_] = -np.inf
        h = rows.history
        for r in range(len(rows)):
            scores[r, h.indices[h.indptr[r] : h.indptr[r + 1]]] = -np.inf
        return scores

    def recommend_rows(self, rows: UserRows, k: int = 10, reasons: bool = True) -> RecLists:
        """Top ``k`` items per row, never one in its history, with scores and reasons."""
        self._check_fitted()
        self._check_rows(rows)

        def scored(b: slice) -> np.ndarray:
            part = rows.take(np.arange(len(rows))[b])
            return self.mask_rows(self.score_rows(part), part)

        lists = self._lists(rows.user_ids, k, scored, reasons=False)
        if reasons:
            lists = replace(lists, reasons=self.reasons_rows(rows, lists.items))
        return lists


def as_csr(m: sp.spmatrix) -> sp.csr_matrix:
    """A float32 CSR copy with sorted indices."""
    out = sp.csr_matrix(m, dtype=np.float32)
    out.sort_indices()
    return out
