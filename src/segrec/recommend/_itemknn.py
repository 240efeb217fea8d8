"""Item-based k-nearest neighbours with cosine similarity over the binary history."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from segrec.recommend._base import FitContext
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["ItemKNNConfig", "ItemKNNRecommender"]


class ItemKNNConfig(BaseModel):
    """``neighbours``: similarities kept per item; ``shrink`` damps similarities resting on few
    co-occurrences (sim * n / (n + shrink))."""

    model_config = ConfigDict(extra="forbid")
    neighbours: int = Field(100, ge=1)
    shrink: float = Field(0.0, ge=0.0)


def _prune(sim: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Keep the ``keep`` largest entries of every row."""
    sim = sim.tocsr()
    rows, cols, vals = [], [], []
    for r in range(sim.shape[0]):
        a, b = sim.indptr[r], sim.indptr[r + 1]
        d, c = sim.data[a:b], sim.indices[a:b]
        if len(d) > keep:
            sel = np.argpartition(-d, keep - 1)[:keep]
            d, c = d[sel], c[sel]
        rows.append(np.full(len(d), r))
        cols.append(c)
        vals.append(d)
    if not rows:
        return sim
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=sim.shape
    )


class ItemKNNRecommender(ScoringRecommender):
    """score(u, j) = sum over history items i of cos(i, j), with the top ``neighbours`` of each
    item kept (the classic item-based CF of Sarwar et al. / Deshpande & Karypis)."""

    name: ClassVar[str] = "itemknn"
    config_class: ClassVar[type[BaseModel]] = ItemKNNConfig
    reason_kind: ClassVar[str] = "similar"

    def _fit(self, ctx: FitContext) -> None:
        cfg = self.config
        assert isinstance(cfg, ItemKNNConfig)
        x = self.matrix_.tocsc()
        co = (x.T @ x).tocsr().astype(np.float32)
        co.setdiag(0)
        co.eliminate_zeros()
        n = np.sqrt(self.popularity_).astype(np.float32)
        n[n == 0] = 1.0
        inv = sp.diags(1.0 / n)
        sim = (inv @ co @ inv).tocsr()
        if cfg.shrink > 0:
            sim.data *= co.data / (co.data + cfg.shrink)
        # neighbours of item j: the items most similar to j (rows after pruning, then transposed
        # so that history @ sim scores each target by its own neighbour list)
        self.sim_ = _prune(sim, cfg.neighbours).T.tocsr().astype(np.float32)

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray((self.matrix_[codes] @ self.sim_).todense(), dtype=np.float32)

    def _fold_in(self, rows: UserRows) -> np.ndarray:
        return np.asarray((rows.history @ self.sim_).todense(), dtype=np.float32)
