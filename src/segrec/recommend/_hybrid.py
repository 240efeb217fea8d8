"""The hybrid: a personal model blended with the segment prior and the text/content score.

Each component's scores are z-normalised per user over the candidate items (train items), so
the weights are comparable across models and users; the segment prior enters as log-probability.
For user u with n_u training interactions::

    g_u   = n_u / (n_u + cold_shift)            (1 when cold_shift = 0)
    score = g_u z_personal
          + (1 - g_u) (cold_mix z_segment + (1 - cold_mix) z_text)
          + w_segment z_segment + w_text z_text + w_pop z_popularity + w_recent z_recent

so a user with little history moves towards the segment and text signals. With
``cold_weights`` set, cold users (n_u <= ``cold_max``) are scored by their own linear blend
instead::

    score_cold = a_p z_personal + a_c z_cold_base + a_s z_segment + a_t z_text + a_pop z_pop
               + a_r z_recent

where ``cold_base`` is an optional second personal model (the baseline that did best on the
validation period's cold users) and ``recent`` the recency-weighted popularity of
:func:`~segrec.recommend._recency.recent_popularity` (half-life ``recent_half_life``). With ``tune_objective="split"`` (the default) the warm weights
are tuned on warm validation users and the cold weights on cold validation users separately;
all weights are chosen on a validation period with :meth:`HybridRecommender.tune` (never on
test data).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.recommend._base import FitContext
from segrec.recommend._content import ContentRecommender
from segrec.recommend._recency import recent_popularity
from segrec.recommend._scorer import ScoringRecommender
from segrec.recommend._segment import SegmentPopRecommender
from segrec.recommend._shared import shared_cache

__all__ = ["DEFAULT_COLD_GRID", "DEFAULT_HYBRID_GRID", "HybridConfig", "HybridRecommender"]

_log = logging.getLogger(__name__)

#: weights tried by :meth:`HybridRecommender.tune` when no grid is given (864 combinations)
DEFAULT_HYBRID_GRID: dict[str, list[float]] = {
    "w_segment": [0.0, 0.25, 0.5, 1.0],
    "w_text": [0.0, 0.25, 0.5, 1.0],
    "cold_shift": [0.0, 2.0, 5.0],
    "cold_mix": [0.0, 0.5, 1.0],
    "w_pop": [0.0, 0.5, 1.0],
    "w_recent": [0.0, 0.5],
}

#: weights of the cold-user blend tried by :meth:`HybridRecommender.tune` (64 combinations;
#: ``cold_base`` collapses to 0 without a cold base model). Deliberately coarse: validation
#: periods hold few cold users (39 on Last.fm, 68 on Amazon MI) and a 243-combination grid
#: over-fitted them (run-to-run swings of 0.74x-1.02x of the best cold baseline).
DEFAULT_COLD_GRID: dict[str, list[float]] = {
    "personal": [0.0, 1.0],
    "cold_base": [0.0, 1.0],
    "segment": [0.0, 0.5],
    "text": [0.0, 0.5],
    "pop": [0.0, 0.5],
    "recent": [0.0, 1.0],
}
COLD_KEYS = tuple(DEFAULT_COLD_GRID)


class HybridConfig(BaseModel):
    """``base`` / ``base_params``: the personal model (a registry name); ``shrinkage``: of the
    segment prior; ``history_weight``: of the content profile. Blend weights as in the module
    docstring. ``cold_base`` / ``cold_base_params``: the optional personal model of the cold
    blend; ``cold_weights``: its weights (keys as :data:`DEFAULT_COLD_GRID`; ``None``: cold users
    use the shared formula); ``cold_max``: the most training interactions of a cold user.
    ``tune_objective``: mean validation NDCG over all users (``ndcg``), the mean of the cold and
    warm means (``balanced``), or warm and cold weights tuned on their own users (``split``;
    falls back to ``ndcg`` with fewer than ``min_cold_val`` cold validation users)."""

    model_config = ConfigDict(extra="forbid")
    base: str = "ease"
    base_params: dict[str, Any] = Field(default_factory=dict)
    w_segment: float = Field(0.25, ge=0.0)
    w_text: float = Field(0.25, ge=0.0)
    cold_shift: float = Field(2.0, ge=0.0)
    cold_mix: float = Field(0.5, ge=0.0, le=1.0)
    w_pop: float = Field(0.0, ge=0.0)
    shrinkage: float = Field(50.0, ge=0.0)
    history_weight: float = Field(0.5, ge=0.0, le=1.0)
    cold_base: str | None = None
    cold_base_params: dict[str, Any] = Field(default_factory=dict)
    cold_weights: dict[str, float] | None = None
    cold_max: int = Field(2, ge=0)
    recent_half_life: float = Field(
        0.05,
        gt=0.0,
        description="half-life of the recency-weighted popularity, as a fraction of the training "
        "period (0.05: the best of 0.02-0.5 for cold users on both validation periods)",
    )
    w_recent: float = Field(0.0, ge=0.0)
    tune_objective: Literal["ndcg", "balanced", "split"] = "split"
    min_cold_val: int = Field(20, ge=1)


def base_cache_key(name: str, params: dict[str, Any], random_state: int) -> str:
    """The :func:`~segrec.recommend._shared.shared_cache` key of a fitted personal model."""
    return f"base:{name}:{sorted(params.items())}:{random_state}"


def _z(s: np.ndarray, cand: np.ndarray) -> np.ndarray:
    c = s[:, cand]
    mu = c.mean(axis=1, keepdims=True)
    sd = c.std(axis=1, keepdims=True)
    sd[sd < 1e-12] = 1.0
    return ((s - mu) / sd).astype(np.float32)


class HybridRecommender(ScoringRecommender):
    """Personal model + segment prior + content score, blended per user (see module doc)."""

    name: ClassVar[str] = "hybrid"
    config_class: ClassVar[type[BaseModel]] = HybridConfig

    def _fit(self, ctx: FitContext) -> None:
        from segrec.recommend._registry import get_recommender

        cfg = self.config
        assert isinstance(cfg, HybridConfig)
        cache = shared_cache(ctx.train)
        key = base_cache_key(cfg.base, cfg.base_params, ctx.random_state)
        if key not in cache:
            cache[key] = get_recommender(cfg.base, **cfg.base_params).fit(ctx)
        self.personal_: ScoringRecommender = cache[key]
        self.cold_model_: ScoringRecommender | None = None
        if cfg.cold_base is not None:
            ckey = base_cache_key(cfg.cold_base, cfg.cold_base_params, ctx.random_state)
            if ckey not in cache:
                cache[ckey] = get_recommender(cfg.cold_base, **cfg.cold_base_params).fit(ctx)
            self.cold_model_ = cache[ckey]
        self.segment_ = SegmentPopRecommender(shrinkage=cfg.shrinkage).fit(ctx)
        self.content_ = ContentRecommender(history_weight=cfg.history_weight).fit(ctx)
        self.recent_ = recent_popularity(ctx, cfg.recent_half_life)

    def components(self, user_ids: Sequence[str]) -> tuple[np.ndarray, ...]:
        """z-scored (personal, segment, text) scores, n_u, z-scored popularity (1 row) and the
        z-scored cold-base scores (the personal ones without a cold base)."""
        ids = [str(u) for u in user_ids]
        cand = self.candidates_
        zp = _z(self.personal_.score(ids), cand)
        zc = zp if self.cold_model_ is None else _z(self.cold_model_.score(ids), cand)
        zs = _z(np.log(self.segment_.score(ids) + 1e-9), cand)
        zt = _z(self.content_.score(ids), cand)
        codes = self.user_codes(ids)
        n = np.where(codes >= 0, self.n_history_[np.maximum(codes, 0)], 0).astype(np.float32)
        zpop = _z(np.log1p(self.popularity_)[None, :].astype(np.float32), cand)
        zrec = _z(np.log1p(self.recent_)[None, :].astype(np.float32), cand)
        return zp, zs, zt, n, zpop, zc, zrec

    @staticmethod
    def _weights(n: np.ndarray, w: dict[str, float]) -> tuple[np.ndarray, ...]:
        c = w["cold_shift"]
        g = n / (n + c) if c > 0 else np.ones_like(n)
        wp = g
        ws = (1 - g) * w["cold_mix"] + w["w_segment"]
        wt = (1 - g) * (1 - w["cold_mix"]) + w["w_text"]
        return wp[:, None], ws[:, None], wt[:, None]

    def _blend(
        self,
        parts: tuple[np.ndarray, ...],
        w: dict[str, float],
        cold_w: dict[str, float] | None = None,
    ) -> np.ndarray:
        zp, zs, zt, n, zpop, zc, zrec = parts
        wp, ws, wt = self._weights(n, w)
        out = wp * zp + ws * zs + wt * zt + w.get("w_pop", 0.0) * zpop
        out += w.get("w_recent", 0.0) * zrec
        if cold_w is not None:
            cold = n <= self.config.cold_max  # type: ignore[attr-defined]
            if cold.any():
                out[cold] = _cold_blend(
                    (zp[cold], zc[cold], zs[cold], zt[cold], zpop, zrec), cold_w
                )
        return out

    def _current(self) -> dict[str, float]:
        return {k: float(getattr(self.config, k)) for k in DEFAULT_HYBRID_GRID}

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        cw = self.config.cold_weights  # type: ignore[attr-defined]
        return self._blend(self.components(user_ids), self._current(), cw)

    def reasons(self, user_ids: list[str], items: list[np.ndarray]) -> list[list[str]]:
        from segrec.recommend._reasons import reason_index

        assert self.ctx_ is not None
        idx = reason_index(self.ctx_)
        zp, zs, zt, n, zpop, zc, zrec = self.components(user_ids)
        cur = self._current()
        wp, ws, wt = self._weights(n, cur)
        wpop = np.full((len(n), 1), cur["w_pop"], dtype=np.float32)
        wrec = np.full((len(n), 1), cur["w_recent"], dtype=np.float32)
        cw = self.config.cold_weights  # type: ignore[attr-defined]
        if cw is not None:  # cold rows: personal + cold base count as "similar"
            cold = n <= self.config.cold_max  # type: ignore[attr-defined]
            zp = zp.copy()
            zp[cold] = cw.get("personal", 0.0) * zp[cold] + cw.get("cold_base", 0.0) * zc[cold]
            wp[cold], ws[cold], wt[cold] = 1.0, cw.get("segment", 0.0), cw.get("text", 0.0)
            wpop[cold] = cw.get("pop", 0.0)
            wrec[cold] = cw.get("recent", 0.0)
        kinds = ("similar", "segment", "text", "popular", "trending")
        out = []
        for r, (u, its) in enumerate(zip(user_ids, items, strict=True)):
            cols = self.item_ids_.get_indexer(pd.Index(its, dtype="object"))
            contrib = np.stack(
                [
                    wp[r] * zp[r, cols],
                    ws[r] * zs[r, cols],
                    wt[r] * zt[r, cols],
                    wpop[r] * zpop[0, cols],
                    wrec[r] * zrec[0, cols],
                ]
            )
            out.append(
                [
                    idx.explain(u, it, kinds[int(np.argmax(contrib[:, j]))])
                    for j, it in enumerate(its)
                ]
            )
        return out

    # -- tuning -----------------------------------------------------------------------------
    def tune(
        self,
        ctx_fit: FitContext,
        val_interactions: pd.DataFrame,
        grid: dict[str, list[float]] | None = None,
        k: int = 10,
        cold_grid: dict[str, list[float]] | None = None,
    ) -> HybridRecommender:
        """Fit on ``ctx_fit``, pick the blend weights with the best validation NDCG@k on
        ``val_interactions`` (user_id, item_id) and keep them in ``config``; ``tuning_`` holds
        every tried combination (column ``group``: all, warm or cold users). With the ``split``
        objective the warm weights are tuned on warm users and ``cold_weights`` on cold users
        over ``cold_grid``. Call :meth:`fit` on the full training context afterwards."""
        cfg = self.config
        assert isinstance(cfg, HybridConfig)
        grid = {**{k_: [v] for k_, v in self._current().items()}, **(grid or DEFAULT_HYBRID_GRID)}
        self.fit(ctx_fit)
        v = val_interactions
        cols = self.item_ids_.get_indexer(pd.Index(v.item_id.astype(str), dtype="object"))
        users = pd.Index(v.user_id.astype(str), dtype="object")
        codes = self.user_codes(users)
        ok = (cols >= 0) & (codes >= 0)
        ok[ok] = self.candidates_[cols[ok]] & (self.n_history_[codes[ok]] > 0)
        rel = pd.Series(cols[ok]).groupby(users[ok].to_numpy()).agg(lambda s: set(s.tolist()))
        if len(rel) == 0:
            _log.warning(
                "hybrid.tune: no validation user with history; keeping %s", self._current()
            )
            self.tuning_ = pd.DataFrame()
            return self
        ids = list(rel.index)
        parts = self.components(ids)
        mask = self.mask(np.zeros_like(parts[0]), ids)
        cold = parts[3] <= cfg.cold_max
        split = cfg.tune_objective == "split" and cold.sum() >= cfg.min_cold_val
        rels = rel.to_list()
        warm_rows = np.flatnonzero(~cold) if split else np.arange(len(ids))
        rows = []
        sub = tuple(p[warm_rows] if p.shape[0] == len(ids) else p for p in parts)
        sub_rel = [rels[r] for r in warm_rows]
        sub_cold = cold[warm_rows]
        for combo in itertools.product(*grid.values()):
            w = dict(zip(grid.keys(), combo, strict=True))
            nd = _ndcg(self._blend(sub, w) + mask[warm_rows], sub_rel, k)
            obj = nd.mean()
            if cfg.tune_objective == "balanced" and sub_cold.any() and (~sub_cold).any():
                obj = 0.5 * (nd[sub_cold].mean() + nd[~sub_cold].mean())
            rows.append(
                {
                    "group": "warm" if split else "all",
                    **w,
                    "objective": obj,
                    "ndcg": nd.mean(),
                    "ndcg_cold": nd[sub_cold].mean() if sub_cold.any() else np.nan,
                }
            )
        warm = pd.DataFrame(rows)
        best = warm.iloc[int(warm.objective.to_numpy().argmax())]
        update: dict[str, Any] = {k_: float(best[k_]) for k_ in grid}
        update["cold_weights"] = None
        frames = [warm]
        if split:
            cw, cold_table = self._tune_cold(parts, cold, mask, rels, k, cold_grid)
            update["cold_weights"] = cw
            frames.append(cold_table)
        self.tuning_ = pd.concat(frames, ignore_index=True)
        self.config = cfg.model_copy(update=update)
        _log.info(
            "hybrid.tune: %d users (%d cold), warm %s, cold %s",
            len(ids),
            int(cold.sum()),
            {k_: update[k_] for k_ in grid},
            update["cold_weights"],
        )
        return self

    def _tune_cold(
        self,
        parts: tuple[np.ndarray, ...],
        cold: np.ndarray,
        mask: np.ndarray,
        rels: list[set[int]],
        k: int,
        cold_grid: dict[str, list[float]] | None,
    ) -> tuple[dict[str, float], pd.DataFrame]:
        """The cold blend with the best NDCG@k on the cold validation users."""
        zp, zs, zt, _, zpop, zc, zrec = parts
        r = np.flatnonzero(cold)
        comps = (zp[r], zc[r], zs[r], zt[r], zpop, zrec)
        g = dict(cold_grid or DEFAULT_COLD_GRID)
        if self.cold_model_ is None:
            g["cold_base"] = [0.0]
        rel = [rels[i] for i in r]
        rows = []
        for combo in itertools.product(*(g.get(c, [0.0]) for c in COLD_KEYS)):
            if not any(combo):
                continue
            w = dict(zip(COLD_KEYS, combo, strict=True))
            nd = _ndcg(_cold_blend(comps, w) + mask[r], rel, k)
            rows.append({"group": "cold", **w, "objective": nd.mean(), "ndcg_cold": nd.mean()})
        table = pd.DataFrame(rows)
        best = table.iloc[int(table.objective.to_numpy().argmax())]
        return {c: float(best[c]) for c in COLD_KEYS}, table

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["base_model"] = self.personal_.params() if hasattr(self, "personal_") else None
        return out


def _cold_blend(comps: tuple[np.ndarray, ...], w: dict[str, float]) -> np.ndarray:
    zp, zc, zs, zt, zpop, zrec = comps
    out = w.get("personal", 0.0) * zp + w.get("cold_base", 0.0) * zc + w.get("segment", 0.0) * zs
    return out + w.get("text", 0.0) * zt + w.get("pop", 0.0) * zpop + w.get("recent", 0.0) * zrec


def _ndcg(s: np.ndarray, rel: list[set[int]], k: int) -> np.ndarray:
    kk = min(k, s.shape[1])
    top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, 1)
    disc = 1.0 / np.log2(np.arange(2, kk + 2))
    out = np.empty(len(rel))
    for r, items in enumerate(rel):
        gains = np.fromiter((c in items for c in top[r]), float, kk)
        out[r] = (gains * disc).sum() / disc[: min(len(items), kk)].sum()
    return out
