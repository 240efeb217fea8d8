"""Global popularity: the most-interacted training items, the same list for everyone."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from segrec.recommend._base import FitContext
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["PopConfig", "PopRecommender"]


class PopConfig(BaseModel):
    """No hyper-parameters: items are ranked by their number of distinct training users."""

    model_config = ConfigDict(extra="forbid")


class PopRecommender(ScoringRecommender):
    """Most popular unseen training items (score = log(1 + number of users)).

    >>> # PopRecommender().fit(ctx).recommend(["u1"], k=10)
    """

    name: ClassVar[str] = "pop"
    config_class: ClassVar[type[BaseModel]] = PopConfig
    reason_kind: ClassVar[str] = "popular"

    def _fit(self, ctx: FitContext) -> None:
        self.scores_ = np.log1p(self.popularity_).astype(np.float32)

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        return np.tile(self.scores_, (len(codes), 1))
