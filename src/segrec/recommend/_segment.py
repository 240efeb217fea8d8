"""Segment-aware recommenders: popularity within the user's segment, and per-segment strategies."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from segrec._ids import positions
from segrec.diagnostics import FallbackWarning, UsageError
from segrec.recommend._base import FitContext
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["SegmentPopConfig", "SegmentPopRecommender", "segment_labels"]

_log = logging.getLogger(__name__)


def segment_labels(ctx: FitContext, user_ids: pd.Index) -> np.ndarray:
    """Segment id per user in ``user_ids`` from ``ctx.segmentation`` (-1 where none)."""
    return lookup_labels(*segment_map(ctx), user_ids)


def segment_map(ctx: FitContext) -> tuple[pd.Index, np.ndarray]:
    """(member ids, segment ids) of ``ctx.segmentation`` (empty without one): what a fitted
    model keeps to route its users by segment."""
    if ctx.segmentation is None:
        return pd.Index([], dtype="object"), np.empty(0, np.int64)
    s = ctx.segmentation.series()
    return pd.Index(s.index.astype(str), dtype="object"), s.to_numpy().astype(np.int64)


def lookup_labels(members: pd.Index, labels: np.ndarray, user_ids: Sequence[str]) -> np.ndarray:
    """Segment id per user from a :func:`segment_map` (-1 where none)."""
    pos = positions(members, [str(u) for u in user_ids])
    out = np.full(len(pos), -1, dtype=np.int64)
    out[pos >= 0] = labels[pos[pos >= 0]]
    return out


class SegmentPopConfig(BaseModel):
    """``shrinkage``: pseudo-interactions drawn from global popularity added to every segment,
    p_s(i) = (c_s(i) + m p(i)) / (N_s + m), so a small segment falls back to the global list.
    ``soft``: blend segment lists by the soft memberships when the segmentation has them."""

    model_config = ConfigDict(extra="forbid")
    shrinkage: float = Field(50.0, ge=0.0)
    soft: bool = False


class SegmentPopRecommender(ScoringRecommender):
    """Most popular items among the members of the user's segment (``ctx.segmentation``).

    Users without a segment (or without a segmentation in the context) get global popularity;
    users unknown at fit time but present in the segmentation get their segment's list.
    """

    name: ClassVar[str] = "segment_pop"
    config_class: ClassVar[type[BaseModel]] = SegmentPopConfig
    reason_kind: ClassVar[str] = "segment"

    def _fit(self, ctx: FitContext) -> None:
        cfg = self.config
        assert isinstance(cfg, SegmentPopConfig)
        if ctx.segmentation is None:
            import warnings

            warnings.warn(
                FallbackWarning(
                    "segment_pop: the FitContext has no segmentation; every user "
                    "gets global popularity"
                ),
                stacklevel=3,
            )
        seg = ctx.segmentation
        self.seg_ids_ = np.unique(seg.labels).astype(np.int64) if seg is not None else np.empty(0)
        labels = segment_labels(ctx, self.user_ids_)
        col = np.searchsorted(self.seg_ids_, labels)
        ok = labels >= 0
        member = sp.csr_matrix(
            (np.ones(ok.sum(), np.float32), (col[ok], np.flatnonzero(ok))),
            shape=(len(self.seg_ids_), len(self.user_ids_)),
        )
        counts = np.asarray((member @ self.matrix_).todense(), dtype=np.float64)
        glob = self.popularity_ / self.popularity_.sum()
        m = cfg.shrinkage
        tot = counts.sum(axis=1, keepdims=True)
        self.table_ = ((counts + m * glob[None, :]) / np.maximum(tot + m, 1e-12)).astype(np.float32)
        self.global_ = glob.astype(np.float32)
        self.segment_sizes_ = np.asarray(member.sum(axis=1)).ravel()
        self.members_, self.labels_ = segment_map(ctx)
        self.soft_users_ = pd.Index([], dtype="object")
        self.soft_: np.ndarray | None = None
        if cfg.soft and seg is not None and seg.soft is not None:
            self.soft_users_ = pd.Index(seg.user_ids.astype(str), dtype="object")
            self.soft_ = np.asarray(seg.soft, dtype=np.float32)

    def score_by_label(self, labels: np.ndarray, user_ids: list[str] | None = None) -> np.ndarray:
        """Scores for users with segment ``labels`` (-1: global popularity)."""
        out = np.tile(self.global_, (len(labels), 1))
        col = np.searchsorted(self.seg_ids_, labels)
        ok = (labels >= 0) & (col < len(self.seg_ids_))
        ok[ok] = self.seg_ids_[col[ok]] == labels[ok]
        out[ok] = self.table_[col[ok]]
        if self.soft_ is not None and user_ids is not None:
            pos = positions(self.soft_users_, user_ids)
            has = pos >= 0
            if has.any():
                out[has] = self.soft_[pos[has]] @ self.table_
        return out

    def _labels(self, user_ids: list[str]) -> np.ndarray:
        return lookup_labels(self.members_, self.labels_, user_ids)

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        ids = [str(u) for u in self.user_ids_[codes]]
        return self.score_by_label(self._labels(ids), ids)

    def _score_unknown(self, user_ids: list[str]) -> np.ndarray:
        return self.score_by_label(self._labels(user_ids), user_ids)

    def _score_new(self, rows: UserRows) -> np.ndarray:
        """Rows the fit did not see get their segment's list (soft memberships are fit-time
        state: a new row is scored by its hard segment)."""
        return self.score_by_label(rows.segments)

    def _own_parts(self, user_ids: list[str]) -> dict[str, Any]:
        return {**super()._own_parts(user_ids), "segments": self._labels(user_ids)}


class SegmentRule(BaseModel):
    """What one segment gets: a base ``model`` (registry name) with ``params`` and item filters.

    ``price_tier`` keeps items in that tertile of training-item prices; ``min_price`` /
    ``max_price`` and ``categories`` (any '|'-part matches) filter explicitly. Filtered-out items
    are not removed but ranked after every matching item, so lists stay full.
    """

    model_config = ConfigDict(extra="forbid")
    model: str = "segment_pop"
    params: dict[str, Any] = Field(default_factory=dict)
    price_tier: Literal["budget", "mid", "premium", "auto"] | None = None
    min_price: float | None = None
    max_price: float | None = None
    categories: list[str] | None = None


def _check_models(rules: list[SegmentRule]) -> None:
    from segrec.recommend._registry import available_recommenders

    names = available_recommenders()
    for r in rules:
        if r.model not in names or r.model == "segment_strategy":
            raise UsageError(
                f"segment strategy model '{r.model}' is unknown; expected one of "
                f"{[n for n in names if n != 'segment_strategy']}"
            )
