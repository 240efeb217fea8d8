"""Per-segment strategies: which base model and which item filters each segment gets.

Rules are given by hand (``segments``: segment id -> rule) or chosen on validation data by
:meth:`SegmentStrategyRecommender.tune`: every rule of ``candidates`` is scored on the
validation users; the best over all users becomes the default, and a segment with at least
``min_val_users`` validation users gets its own best rule when that beats the default on its
users by ``min_gain`` (relative). Segments are rebuilt when the model is refit on a longer
period, so their ids change: each new segment takes the rule of the tuning segment most of its
users belonged to.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.recommend._base import FitContext
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender, top_k
from segrec.recommend._segment import (
    SegmentRule,
    _check_models,
    lookup_labels,
    segment_labels,
    segment_map,
)
from segrec.recommend._shared import shared_model

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
    #: rules :meth:`SegmentStrategyRecommender.tune` chooses from (empty: keep the rules above)
    candidates: list[SegmentRule] = Field(default_factory=list)
    min_val_users: int = Field(30, ge=1)
    min_gain: float = Field(0.1, ge=0.0)


class SegmentStrategyRecommender(ScoringRecommender):
    """Routes each user to the rule of their segment; one fitted model per distinct rule model."""

    name: ClassVar[str] = "segment_strategy"
    config_class: ClassVar[type[BaseModel]] = SegmentStrategyConfig

    #: set by :meth:`tune`: (tuning-period segment per user, chosen rule per tuning segment)
    tuned_: tuple[pd.Series, dict[int, SegmentRule]] | None = None

    def _rules(self) -> dict[int, SegmentRule]:
        return getattr(self, "rules_", None) or self._configured_rules()

    def _configured_rules(self) -> dict[int, SegmentRule]:
        cfg = self.config
        assert isinstance(cfg, SegmentStrategyConfig)
        return {-1: cfg.default, **cfg.segments}

    def _fit(self, ctx: FitContext) -> None:
        rules = self._configured_rules()
        if self.tuned_ is not None:
            rules = {-1: rules[-1], **_carry_over(*self.tuned_, ctx)}
        self.rules_ = rules
        self.members_, self.labels_ = segment_map(ctx)
        _check_models(list(rules.values()))
        self.models_: dict[str, ScoringRecommender] = {}
        for r in rules.values():
            key = _key(r)
            if key not in self.models_:
                self.models_[key] = _fitted(r, ctx)
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

    def _route(self, labels: np.ndarray) -> np.ndarray:
        rules = self._rules()
        return np.array([lab if lab in rules else -1 for lab in labels], dtype=np.int64)

    def _own_parts(self, user_ids: list[str]) -> dict[str, Any]:
        labels = lookup_labels(self.members_, self.labels_, user_ids)
        return {**super()._own_parts(user_ids), "segments": labels}

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        return self.score_rows(UserRows.known(self, user_ids))

    def score_rows(self, rows: UserRows) -> np.ndarray:
        """Each row is scored by the model of its segment's rule (rows the fit did not see are
        routed by their own ``segments``) and filtered by that rule."""
        self._check_fitted()
        self._check_rows(rows)
        route = self._route(rows.segments)
        out = np.empty((len(rows), len(self.item_ids_)), dtype=np.float32)
        rules = self._rules()
        for sid in np.unique(route):
            sel = np.flatnonzero(route == sid)
            s = self.models_[_key(rules[int(sid)])].score_rows(rows.take(sel))
            out[sel] = _filtered(s, self.masks_[int(sid)])
        return out

    def reasons_rows(self, rows: UserRows, items: list[np.ndarray]) -> list[list[str]]:
        from segrec.recommend._explain import explain_rows

        rules = self._rules()
        route = self._route(rows.segments)

        def kinds(r: int, its: np.ndarray) -> list[str]:
            return [self.models_[_key(rules[int(route[r])])].explained_as()] * len(its)

        return explain_rows(self, rows, items, kinds)

    def params(self) -> dict[str, object]:
        out: dict[str, object] = {
            "model": self.name,
            **self.config.model_dump(mode="json", exclude_none=True),
        }
        if self.tuned_ is not None and getattr(self, "rules_", None):
            # the rule of each segment of the last fit (-1: the default) and the validation
            # NDCG of every candidate per tuning-period segment (ids of the tuning period)
            out["chosen"] = {str(s): _label(r) for s, r in sorted(self.rules_.items())}
            t = self.tuning_
            col = next(c for c in t.columns if c.startswith("val_ndcg@"))
            out["validation"] = {
                str(sid): {
                    "n_val_users": int(g.n_val_users.iloc[0]),
                    **{c: round(float(v), 4) for c, v in zip(g.candidate, g[col], strict=True)},
                }
                for sid, g in t.groupby("segment")
            }
        return out

    # -- tuning -------------------------------------------------------------------------------
    def tune(
        self, ctx_fit: FitContext, val_interactions: pd.DataFrame, k: int = 10
    ) -> SegmentStrategyRecommender:
        """Choose the default rule and per-segment rules from ``candidates`` by validation
        NDCG@k on ``val_interactions`` (user_id, item_id); ``tuning_`` holds every score. Call
        :meth:`fit` on the full training context afterwards (segments are carried over)."""
        cfg = self.config
        assert isinstance(cfg, SegmentStrategyConfig)
        self.tuned_ = None
        self.fit(ctx_fit)
        if not cfg.candidates:
            self.tuning_ = pd.DataFrame()
            return self
        _check_models(cfg.candidates)
        users, rel = _validation_targets(self, val_interactions)
        if not users:
            _log.warning(
                "segment_strategy.tune: no validation user with history; keeping %s",
                _label(cfg.default),
            )
            self.tuning_ = pd.DataFrame()
            return self
        labels = segment_labels(ctx_fit, pd.Index(users, dtype="object"))
        ndcg = np.zeros((len(cfg.candidates), len(users)))
        for c, rule in enumerate(cfg.candidates):
            model = _fitted(rule, ctx_fit)
            for sid in np.unique(labels):
                rows = np.flatnonzero(labels == sid)
                s = model.score([users[i] for i in rows])
                s = _filtered(s, self._mask(ctx_fit, int(sid), rule))
                ndcg[c, rows] = _ndcg(self.mask(s, [users[i] for i in rows]), rel[rows], k)
        best = int(ndcg.mean(axis=1).argmax())
        chosen: dict[int, SegmentRule] = {}
        rows_out = []
        for sid in np.unique(labels):
            on = labels == sid
            means = ndcg[:, on].mean(axis=1)
            pick = int(means.argmax())
            own = (
                sid >= 0
                and on.sum() >= cfg.min_val_users
                and means[pick] > means[best] * (1 + cfg.min_gain)
            )
            if own and pick != best:
                chosen[int(sid)] = cfg.candidates[pick]
            rows_out += [
                {
                    "segment": int(sid),
                    "n_val_users": int(on.sum()),
                    "candidate": _label(r),
                    f"val_ndcg@{k}": float(means[c]),
                    "chosen": c == (pick if own else best),
                }
                for c, r in enumerate(cfg.candidates)
            ]
        self.tuning_ = pd.DataFrame(rows_out)
        seg = ctx_fit.segmentation
        tuned = seg.series() if seg is not None else pd.Series(dtype=np.int64)
        tuned.index = tuned.index.astype(str)
        self.config = cfg.model_copy(update={"default": cfg.candidates[best], "segments": {}})
        self.tuned_ = (tuned, chosen)
        self.fit(ctx_fit)
        _log.info(
            "segment_strategy.tune: %d validation users; default %s; own rules %s",
            len(users),
            _label(cfg.candidates[best]),
            {s: _label(r) for s, r in chosen.items()},
        )
        return self


def _filtered(s: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """``s`` with the items outside ``keep`` ranked after every kept item, each group keeping
    its own order (lists stay full); unchanged without a filter or when nothing is kept."""
    if keep is None or not keep.any():
        return s
    span = np.nanmax(s, axis=1, keepdims=True) - np.nanmin(s, axis=1, keepdims=True)
    return np.where(keep[None, :], s, s - span - 1.0)


def _key(r: SegmentRule) -> str:
    return json.dumps({"model": r.model, "params": r.params}, sort_keys=True, default=str)


def _label(r: SegmentRule) -> str:
    """A short readable name of a rule: ``ease(l2=800.0)+premium``."""
    params = ",".join(f"{k}={v}" for k, v in sorted(r.params.items()))
    filters = [r.price_tier or "", "|".join(r.categories or [])]
    if r.min_price is not None or r.max_price is not None:
        filters.append(f"price {r.min_price or 0:g}-{r.max_price or float('inf'):g}")
    return f"{r.model}({params})" + "".join(f"+{f}" for f in filters if f)


def _fitted(r: SegmentRule, ctx: FitContext) -> ScoringRecommender:
    """The rule's model fitted on ``ctx``; models that do not depend on the segmentation come
    from :func:`shared_model`, so the evaluation's tuned baselines are not fitted twice."""
    from segrec.recommend._registry import get_recommender

    if r.model in ("segment_pop", "segment_strategy", "hybrid"):  # depend on the segmentation
        return get_recommender(r.model, **r.params).fit(ctx)
    return shared_model(r.model, r.params, ctx)


def _carry_over(
    tuned: pd.Series, chosen: dict[int, SegmentRule], ctx: FitContext
) -> dict[int, SegmentRule]:
    """Rules for the segments of ``ctx``: each takes the rule of the tuning segment that most
    of its users belonged to (segments with no such rule use the default)."""
    if not chosen or ctx.segmentation is None:
        return {}
    now = ctx.segmentation.series()
    now.index = now.index.astype(str)
    both = pd.DataFrame({"now": now, "then": tuned.reindex(now.index)}).dropna()
    out: dict[int, SegmentRule] = {}
    for sid, grp in both.groupby("now"):
        then = int(grp["then"].astype(int).mode().min())
        if then in chosen:
            out[int(sid)] = chosen[then]
    return out


def _validation_targets(rec: ScoringRecommender, val: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Validation users known at fit time with a held-out train item, and those items' codes."""
    codes = rec.item_ids_.get_indexer(val.item_id.astype(str))
    v = pd.DataFrame({"u": val.user_id.astype(str).to_numpy(), "i": codes})
    v = v[v.i >= 0]
    v = v[v.i.isin(np.flatnonzero(rec.candidates_))]
    known = rec.user_codes(v.u.unique())
    ok = set(v.u.unique()[(known >= 0)])
    groups = {u: g.i.unique() for u, g in v[v.u.isin(ok)].groupby("u", sort=True)}
    rel = np.empty(len(groups), dtype=object)  # one array of item codes per user
    for j, items in enumerate(groups.values()):
        rel[j] = items
    return list(groups), rel


def _ndcg(scores: np.ndarray, rel: np.ndarray, k: int) -> np.ndarray:
    """Binary-gain NDCG@k per row of masked ``scores`` against the item codes in ``rel``,
    by the evaluation's own metric (:func:`segrec.evaluate._metrics.accuracy_metrics`)."""
    from segrec.evaluate._metrics import accuracy_metrics, hit_matrix

    idx, _ = top_k(scores, k)
    recs = np.full((len(idx), k), -1, dtype=np.int64)  # -1: an empty slot
    for r, top in enumerate(idx):
        recs[r, : len(top)] = top
    hits = hit_matrix(recs, [set(want) for want in rel])
    return accuracy_metrics(hits, np.array([len(want) for want in rel]), k)["ndcg"]


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
