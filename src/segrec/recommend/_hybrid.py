"""The hybrid: a personal model blended with the segment prior and the text/content score.

Each component's scores are z-normalised per user over the candidate items (train items), so
the weights are comparable across models and users; the segment prior enters as log-probability.
For user u with n_u training interactions::

    g_u   = n_u / (n_u + cold_shift)            (1 when cold_shift = 0)
    score = g_u z_personal
          + (1 - g_u) (cold_mix z_segment + (1 - cold_mix) z_text)
          + w_segment z_segment + w_text z_text + w_pop z_popularity

so a user with little history moves towards the segment and text signals. The weights are
chosen on a validation period with :meth:`HybridRecommender.tune` (never on test data).
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
from segrec.recommend._scorer import ScoringRecommender
from segrec.recommend._segment import SegmentPopRecommender
from segrec.recommend._shared import shared_cache

__all__ = ["DEFAULT_HYBRID_GRID", "HybridConfig", "HybridRecommender"]

_log = logging.getLogger(__name__)

#: weights tried by :meth:`HybridRecommender.tune` when no grid is given (432 combinations)
DEFAULT_HYBRID_GRID: dict[str, list[float]] = {
    "w_segment": [0.0, 0.25, 0.5, 1.0],
    "w_text": [0.0, 0.25, 0.5, 1.0],
    "cold_shift": [0.0, 2.0, 5.0],
    "cold_mix": [0.0, 0.5, 1.0],
    "w_pop": [0.0, 0.5, 1.0],
}


class HybridConfig(BaseModel):
    """``base`` / ``base_params``: the personal model (a registry name); ``shrinkage``: of the
    segment prior; ``history_weight``: of the content profile. Blend weights as in the module
    docstring. ``tune_objective``: mean validation NDCG over all users (``ndcg``) or the mean of
    the cold and warm means (``balanced``)."""

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
    tune_objective: Literal["ndcg", "balanced"] = "ndcg"


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
        key = f"base:{cfg.base}:{sorted(cfg.base_params.items())}:{ctx.random_state}"
        if key not in cache:
            cache[key] = get_recommender(cfg.base, **cfg.base_params).fit(ctx)
        self.personal_: ScoringRecommender = cache[key]
        self.segment_ = SegmentPopRecommender(shrinkage=cfg.shrinkage).fit(ctx)
        self.content_ = ContentRecommender(history_weight=cfg.history_weight).fit(ctx)

    def components(self, user_ids: Sequence[str]) -> tuple[np.ndarray, ...]:
        """z-scored (personal, segment, text) scores, n_u, and z-scored popularity (1 row)."""
        ids = [str(u) for u in user_ids]
        cand = self.candidates_
        zp = _z(self.personal_.score(ids), cand)
        zs = _z(np.log(self.segment_.score(ids) + 1e-9), cand)
        zt = _z(self.content_.score(ids), cand)
        codes = self.user_codes(ids)
        n = np.where(codes >= 0, self.n_history_[np.maximum(codes, 0)], 0).astype(np.float32)
        zpop = _z(np.log1p(self.popularity_)[None, :].astype(np.float32), cand)
        return zp, zs, zt, n, zpop

    @staticmethod
    def _weights(n: np.ndarray, w: dict[str, float]) -> tuple[np.ndarray, ...]:
        c = w["cold_shift"]
        g = n / (n + c) if c > 0 else np.ones_like(n)
        wp = g
        ws = (1 - g) * w["cold_mix"] + w["w_segment"]
        wt = (1 - g) * (1 - w["cold_mix"]) + w["w_text"]
        return wp[:, None], ws[:, None], wt[:, None]

    def _blend(self, parts: tuple[np.ndarray, ...], w: dict[str, float]) -> np.ndarray:
        zp, zs, zt, n, zpop = parts
        wp, ws, wt = self._weights(n, w)
        return wp * zp + ws * zs + wt * zt + w.get("w_pop", 0.0) * zpop

    def _current(self) -> dict[str, float]:
        return {k: float(getattr(self.config, k)) for k in DEFAULT_HYBRID_GRID}

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        return self._blend(self.components(user_ids), self._current())

    def reasons(self, user_ids: list[str], items: list[np.ndarray]) -> list[list[str]]:
        from segrec.recommend._reasons import reason_index

        assert self.ctx_ is not None
        idx = reason_index(self.ctx_)
        zp, zs, zt, n, zpop = self.components(user_ids)
        cur = self._current()
        wp, ws, wt = self._weights(n, cur)
        kinds = ("similar", "segment", "text", "popular")
        out = []
        for r, (u, its) in enumerate(zip(user_ids, items, strict=True)):
            cols = self.item_ids_.get_indexer(pd.Index(its, dtype="object"))
            contrib = np.stack(
                [
                    wp[r] * zp[r, cols],
                    ws[r] * zs[r, cols],
                    wt[r] * zt[r, cols],
                    np.full(len(cols), cur["w_pop"]) * zpop[0, cols],
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
    ) -> HybridRecommender:
        """Fit on ``ctx_fit``, pick the blend weights with the best validation NDCG@k on
        ``val_interactions`` (user_id, item_id) and keep them in ``config``; ``tuning_`` holds
        every tried combination. Call :meth:`fit` on the full training context afterwards."""
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
        cold = parts[3] <= 2
        rows = []
        for combo in itertools.product(*grid.values()):
            w = dict(zip(grid.keys(), combo, strict=True))
            s = self._blend(parts, w) + mask
            nd = _ndcg(s, rel.to_list(), k)
            obj = nd.mean()
            if self.config.tune_objective == "balanced" and cold.any() and (~cold).any():  # type: ignore[attr-defined]
                obj = 0.5 * (nd[cold].mean() + nd[~cold].mean())
            rows.append(
                {
                    **w,
                    "objective": obj,
                    "ndcg": nd.mean(),
                    "ndcg_cold": nd[cold].mean() if cold.any() else np.nan,
                }
            )
        self.tuning_ = pd.DataFrame(rows)
        best = self.tuning_.iloc[int(self.tuning_.objective.to_numpy().argmax())]
        self.config = self.config.model_copy(update={k_: float(best[k_]) for k_ in grid})
        _log.info("hybrid.tune: %d users, best %s", len(ids), best.to_dict())
        return self

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["base_model"] = self.personal_.params() if hasattr(self, "personal_") else None
        return out


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
