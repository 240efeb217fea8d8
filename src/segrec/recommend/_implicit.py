"""ALS (Hu, Koren & Volinsky 2008) and BPR (Rendle et al. 2009) from the ``implicit`` library."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from segrec._budget import check_budget
from segrec.diagnostics import require
from segrec.recommend._base import FitContext
from segrec.recommend._foldin import als_fold_in, calibrated
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["ALSConfig", "ALSRecommender", "BPRConfig", "BPRRecommender"]

_log = logging.getLogger(__name__)


class ALSConfig(BaseModel):
    """Weighted matrix factorisation with confidence 1 + ``alpha`` on observed pairs."""

    model_config = ConfigDict(extra="forbid")
    factors: int = Field(64, ge=1)
    regularization: float = Field(0.05, ge=0.0)
    alpha: float = Field(10.0, gt=0.0)
    iterations: int = Field(15, ge=1)
    num_threads: int = Field(2, ge=0)
    random_state: int | None = None


class BPRConfig(BaseModel):
    """Pairwise ranking SGD; with ``num_threads`` > 1 updates are lock-free (Hogwild), so the
    default is one thread: the same seed must give the same lists (BPR takes 1-3 s on the
    shared datasets either way)."""

    model_config = ConfigDict(extra="forbid")
    factors: int = Field(64, ge=1)
    learning_rate: float = Field(0.05, gt=0.0)
    regularization: float = Field(0.01, ge=0.0)
    iterations: int = Field(100, ge=1)
    num_threads: int = Field(1, ge=0)
    random_state: int | None = None


def _check_epoch(epoch: int, *_: object) -> None:
    check_budget(f"iteration {epoch + 1}")


class _ImplicitRecommender(ScoringRecommender):
    reason_kind: ClassVar[str] = "similar"

    def _model(self, seed: int) -> Any:
        raise NotImplementedError

    def _fit(self, ctx: FitContext) -> None:
        require("implicit", "fast", "ALS/BPR recommenders")
        from threadpoolctl import threadpool_limits

        seed = self.config.random_state  # type: ignore[attr-defined]
        # implicit warns (and slows down) when BLAS also spawns threads
        with threadpool_limits(1, "blas"):
            model = self._model(ctx.random_state if seed is None else seed)
            # the time budget (method_seconds) is checked after every iteration / epoch
            model.fit(self.matrix_.tocsr(), show_progress=False, callback=_check_epoch)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        return self.user_factors_[codes] @ self.item_factors_.T

    def _fold_in(self, rows: UserRows) -> np.ndarray:
        return self._fold_in_factors(rows) @ self.item_factors_.T

    def _fold_in_factors(self, rows: UserRows) -> np.ndarray:
        raise NotImplementedError


class ALSRecommender(_ImplicitRecommender):
    """Implicit-feedback ALS (``implicit.cpu.als``) on the binary history; users the fit did
    not see are folded in by the exact ALS user step (:func:`als_fold_in`)."""

    name: ClassVar[str] = "als"
    config_class: ClassVar[type[BaseModel]] = ALSConfig

    def _fold_in_factors(self, rows: UserRows) -> np.ndarray:
        c = self.config
        assert isinstance(c, ALSConfig)
        return als_fold_in(self.item_factors_, rows.history, c.alpha, c.regularization)

    def _model(self, seed: int) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        c = self.config
        assert isinstance(c, ALSConfig)
        return AlternatingLeastSquares(
            factors=c.factors,
            regularization=c.regularization,
            alpha=c.alpha,
            iterations=c.iterations,
            num_threads=c.num_threads,
            random_state=seed,
        )


class BPRRecommender(_ImplicitRecommender):
    """Bayesian personalised ranking (``implicit.cpu.bpr``) on the binary history; users the
    fit did not see are folded in by a calibrated ridge projection (:func:`calibrate_fold_in`)."""

    name: ClassVar[str] = "bpr"
    config_class: ClassVar[type[BaseModel]] = BPRConfig

    def _fold_in_factors(self, rows: UserRows) -> np.ndarray:
        alpha, l2 = calibrated(self)
        return als_fold_in(self.item_factors_, rows.history, alpha, l2)

    def _model(self, seed: int) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        c = self.config
        assert isinstance(c, BPRConfig)
        return BayesianPersonalizedRanking(
            factors=c.factors,
            learning_rate=c.learning_rate,
            regularization=c.regularization,
            iterations=c.iterations,
            num_threads=c.num_threads,
            random_state=seed,
        )
