"""Shared machinery of the scoring recommenders: dense batch scoring, masking and top-k.

Every model in this package scores *all* items for a batch of users as a dense
``(n_users, n_items)`` float array over the training items (``ctx.train.item_ids``); this class
turns such scores into :class:`RecLists`: the user's training items and items never interacted
with in training are masked out, the top ``k`` are taken with a deterministic tie-break (lower item
code first), and short reasons are attached for the returned items only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel

from segrec.diagnostics import UsageError, validated
from segrec.recommend._base import FitContext, RecLists

__all__ = ["ScoringRecommender", "top_k"]

_log = logging.getLogger(__name__)

#: Users scored per dense batch: 512 x 20k items x 4 bytes = 40 MB.
BATCH = 512


def top_k(scores: np.ndarray, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Row-wise top ``k`` column indices and scores, best first; ``-inf`` entries are dropped.

    Ties are broken by the lower column index, so the result is deterministic.
    """
    n, m = scores.shape
    kk = min(k, m)
    idx_out: list[np.ndarray] = []
    sc_out: list[np.ndarray] = []
    if kk == 0:
        return [np.empty(0, np.int64)] * n, [np.empty(0, np.float64)] * n
    part = (
        np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        if kk < m
        else np.tile(np.arange(m), (n, 1))
    )
    for r in range(n):
        cand = part[r]
        # include every column tied with the k-th best so that the index tie-break is exact
        thr = scores[r, cand].min()
        cand = np.flatnonzero(scores[r] >= thr) if np.isfinite(thr) else cand
        order = np.lexsort((cand, -scores[r, cand]))[:kk]
        sel = cand[order]
        s = scores[r, sel]
        keep = np.isfinite(s)
        idx_out.append(sel[keep].astype(np.int64))
        sc_out.append(s[keep].astype(np.float64))
    return idx_out, sc_out


class ScoringRecommender:
    """Base class: subclasses implement :meth:`_fit` and :meth:`_score_known`.

    ``score(user_ids)`` gives raw dense scores (unknown users get :meth:`_score_unknown`, by
    default global popularity); ``recommend(user_ids, k)`` masks seen / non-train items and cuts
    the top ``k``. Learned state common to all models: ``item_ids_``, ``user_ids_``, ``matrix_``,
    ``popularity_`` (train interaction counts per item), ``candidates_`` (items with >= 1 train
    interaction), ``n_history_`` (train items per user).
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
        self.ctx_: FitContext | None = None

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, ctx: FitContext) -> ScoringRecommender:
        """Learn from the training period in ``ctx``; returns ``self``."""
        m = ctx.matrix.tocsr().astype(np.float32)
        self.ctx_ = ctx
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
        self._fit(ctx)
        return self

    def _fit(self, ctx: FitContext) -> None:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Hyper-parameters for the results JSON."""
        return {"model": self.name, **self.config.model_dump()}

    # -- scoring ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.ctx_ is None:
            raise UsageError(f"recommender '{self.name}' is not fitted: call fit(ctx) first")

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        """Scores (len(codes), n_items) for users with train history."""
        raise NotImplementedError

    def _score_unknown(self, user_ids: list[str]) -> np.ndarray:
        """Fallback scores for users without train history: global popularity."""
        return np.tile(np.log1p(self.popularity_).astype(np.float32), (len(user_ids), 1))

    def user_codes(self, user_ids: Sequence[str]) -> np.ndarray:
        """Codes into the training user index (-1 for users unknown at fit time)."""
        return self.user_ids_.get_indexer(pd.Index([str(u) for u in user_ids], dtype="object"))

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
        if k < 1:
            raise UsageError(f"k must be a positive int; got {k}")
        ids = [str(u) for u in user_ids]
        items: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            s = self.mask(self.score(batch), batch)
            idx, sc = top_k(s, k)
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
        from segrec.recommend._reasons import reason_index

        assert self.ctx_ is not None
        idx = reason_index(self.ctx_)
        return [
            [idx.explain(u, it, self.explained_as()) for it in its]
            for u, its in zip(user_ids, items, strict=True)
        ]


def as_csr(m: sp.spmatrix) -> sp.csr_matrix:
    """A float32 CSR copy with sorted indices."""
    out = sp.csr_matrix(m, dtype=np.float32)
    out.sort_indices()
    return out
