"""Per-segment strategies: which base model and which item filters each segment gets."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.recommend._base import FitContext
from segrec.recommend._scorer import ScoringRecommender
from segrec.recommend._segment import SegmentRule, _check_models, segment_labels

__all__ = ["SegmentRule", "SegmentStrategyConfig", "SegmentStrategyRecommender"]

_log = logging.getLogger(__name__)
_TIERS = ("budget", "mid", "premium")


class SegmentStrategyConfig(BaseModel):
    """``default`` applies to users whose segment has no rule in ``segments`` (keys: segment
    ids). A rule with ``price_tier="auto"`` gets the tier of the median price its members paid
    in training (a premium segment gets premium items, a budget segment budget ones)."""

    model_config = ConfigDict(extra="forbid")
    default: SegmentRule = Field(default_factory=SegmentRule)
    segments: dict[int, SegmentRule] = Field(default_factory=dict)


class SegmentStrategyRecommender(ScoringRecommender):
    """Routes each user to the rule of their segment; one fitted model per distinct rule model."""

    name: ClassVar[str] = "segment_strategy"
    config_class: ClassVar[type[BaseModel]] = SegmentStrategyConfig

    def _rules(self) -> dict[int, SegmentRule]:
        cfg = self.config
        assert isinstance(cfg, SegmentStrategyConfig)
        return {-1: cfg.default, **cfg.segments}

    def _fit(self, ctx: FitContext) -> None:
        from segrec.recommend._registry import get_recommender

        rules = self._rules()
        _check_models(list(rules.values()))
        self.models_: dict[str, ScoringRecommender] = {}
        for r in rules.values():
            key = _key(r)
            if key not in self.models_:
                self.models_[key] = get_recommender(r.model, **r.params).fit(ctx)
        self.prices_ = _item_prices(ctx, self.item_ids_)
        known = self.prices_[self.candidates_ & np.isfinite(self.prices_)]
        self.tier_edges_ = np.quantile(known, [1 / 3, 2 / 3]) if len(known) >= 3 else None
        self.masks_ = {sid: self._mask(ctx, sid, r) for sid, r in rules.items()}

    def _mask(self, ctx: FitContext, sid: int, r: SegmentRule) -> np.ndarray | None:
        keep = np.ones(len(self.item_ids_), bool)
        used = False
        p = self.prices_
        tier = r.price_tier
        if tier == "auto":
            tier = self._auto_tier(ctx, sid)  # type: ignore[assignment]
        if tier is not None and self.tier_edges_ is not None:
            lo, hi = self.tier_edges_
            t = np.where(p <= lo, 0, np.where(p <= hi, 1, 2))
            keep &= np.isfinite(p) & (t == _TIERS.index(tier))
            used = True
        if r.min_price is not None:
            keep &= np.isfinite(p) & (p >= r.min_price)
            used = True
        if r.max_price is not None:
            keep &= np.isfinite(p) & (p <= r.max_price)
            used = True
        if r.categories:
            cats = _item_categories(ctx, self.item_ids_)
            want = {c.lower() for c in r.categories}
            keep &= np.array([bool(want & c) for c in cats])
            used = True
        return keep if used else None

    def _auto_tier(self, ctx: FitContext, sid: int) -> str | None:
        if self.tier_edges_ is None or sid < 0:
            return None
        members = np.flatnonzero(segment_labels(ctx, self.user_ids_) == sid)
        paid = self.prices_[self.matrix_[members].indices]
        paid = paid[np.isfinite(paid)]
        if len(paid) == 0:
            return None
        med = float(np.median(paid))
        lo, hi = self.tier_edges_
        return _TIERS[0 if med <= lo else 1 if med <= hi else 2]

    def _route(self, user_ids: Sequence[str]) -> np.ndarray:
        assert self.ctx_ is not None
        labels = segment_labels(self.ctx_, pd.Index(list(user_ids), dtype="object"))
        rules = self._rules()
        return np.array([lab if lab in rules else -1 for lab in labels], dtype=np.int64)

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        ids = [str(u) for u in user_ids]
        route = self._route(ids)
        out = np.empty((len(ids), len(self.item_ids_)), dtype=np.float32)
        rules = self._rules()
        for sid in np.unique(route):
            rows = np.flatnonzero(route == sid)
            s = self.models_[_key(rules[int(sid)])].score([ids[i] for i in rows])
            keep = self.masks_[int(sid)]
            if keep is not None and keep.any():
                # rank filtered-out items after every kept item, keeping their own order
                span = np.nanmax(s, axis=1, keepdims=True) - np.nanmin(s, axis=1, keepdims=True)
                s = np.where(keep[None, :], s, s - span - 1.0)
            out[rows] = s
        return out

    def reasons(self, user_ids: list[str], items: list[np.ndarray]) -> list[list[str]]:
        from segrec.recommend._reasons import reason_index

        assert self.ctx_ is not None
        idx = reason_index(self.ctx_)
        rules = self._rules()
        route = self._route(user_ids)
        out = []
        for u, its, sid in zip(user_ids, items, route, strict=True):
            kind = self.models_[_key(rules[int(sid)])].reason_kind
            out.append([idx.explain(u, it, kind) for it in its])
        return out

    def params(self) -> dict[str, object]:
        return {"model": self.name, **self.config.model_dump(mode="json")}


def _key(r: SegmentRule) -> str:
    return json.dumps({"model": r.model, "params": r.params}, sort_keys=True, default=str)


def _item_prices(ctx: FitContext, item_ids: pd.Index) -> np.ndarray:
    out = np.full(len(item_ids), np.nan)
    it = ctx.train.items
    if len(it) and "price" in it:
        pos = item_ids.get_indexer(it.item_id.astype(str))
        ok = pos >= 0
        out[pos[ok]] = it.price.to_numpy(float)[ok]
    return out


def _item_categories(ctx: FitContext, item_ids: pd.Index) -> list[set[str]]:
    out: list[set[str]] = [set() for _ in range(len(item_ids))]
    it = ctx.train.items
    if len(it) and "categories" in it:
        pos = item_ids.get_indexer(it.item_id.astype(str))
        for p, c in zip(pos, it.categories.fillna("").astype(str), strict=True):
            if p >= 0:
                out[p] = {x.strip().lower() for x in c.split("|") if x.strip()}
    return out
