"""Global popularity: the most-interacted training items, the same list for everyone."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from segrec.recommend._base import FitContext
from segrec.recommend._recency import recent_popularity
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["PopConfig", "PopRecommender"]


class PopConfig(BaseModel):
    """Items are ranked by their number of distinct training users (``half_life=None``, the
    classic MostPop baseline) or by recency-weighted counts whose half-life is this fraction of
    the training period ("trending"; see :mod:`segrec.recommend._recency`)."""

    model_config = ConfigDict(extra="forbid")
    half_life: float | None = Field(None, gt=0.0)


class PopRecommender(ScoringRecommender):
    """Most popular unseen training items (score = log(1 + number of users), or of the
    recency-weighted count with ``half_life``); users unknown at fit time get the same list.

    >>> # PopRecommender().fit(ctx).recommend(["u1"], k=10)
    """

    name: ClassVar[str] = "pop"
    config_class: ClassVar[type[BaseModel]] = PopConfig
    reason_kind: ClassVar[str] = "popular"

    def explained_as(self) -> str:
        return "popular" if self.config.half_life is None else "trending"  # type: ignore[attr-defined]

    def _fit(self, ctx: FitContext) -> None:
        hl = self.config.half_life  # type: ignore[attr-defined]
        counts = self.popularity_ if hl is None else recent_popularity(ctx, hl)
        self.scores_ = np.log1p(counts).astype(np.float32)

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        return np.tile(self.scores_, (len(codes), 1))

    def _score_unknown(self, user_ids: list[str]) -> np.ndarray:
        return np.tile(self.scores_, (len(user_ids), 1))

    def _score_new(self, rows: UserRows) -> np.ndarray:
        return np.tile(self.scores_, (len(rows), 1))
