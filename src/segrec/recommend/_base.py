"""The recommender interface: :class:`FitContext` in, :class:`RecLists` out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import Dataset
from segrec.features import UserFeatures
from segrec.segment import Segmentation

__all__ = ["FitContext", "RecLists", "Recommender"]


@dataclass
class FitContext:
    """Everything a recommender may learn from: the training period only.

    ``train`` is the dataset restricted to the training period. ``matrix`` is its users x items
    binary CSR matrix (rows follow ``train.user_ids``, columns ``train.item_ids``).
    Optional upstream artifacts: ``features`` (UserFeatures), ``segmentation``,
    ``item_vectors`` (DataFrame indexed by item_id, one row per item text embedding),
    ``user_text`` (DataFrame indexed by user_id: the users' text profiles in the same space).
    ``segment_names`` maps segment id -> readable name (used in reasons).
    """

    train: Dataset
    features: UserFeatures | None = None
    segmentation: Segmentation | None = None
    item_vectors: pd.DataFrame | None = None
    user_text: pd.DataFrame | None = None
    segment_names: dict[int, str] = field(default_factory=dict)
    random_state: int = 0
    _matrix: sp.csr_matrix | None = None
    #: Shared per-context cache (reason indexes, fitted sub-models) so that several
    #: recommenders fitted on the same context do not repeat expensive work.
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def matrix(self) -> sp.csr_matrix:
        if self._matrix is None:
            self._matrix = self.train.interaction_matrix("binary").tocsr()
        return self._matrix


@dataclass(frozen=True)
class RecLists:
    """Top-k lists: ``items[i]`` are the item ids recommended to ``user_ids[i]``, best first.

    ``scores[i]`` holds the matching scores; ``reasons[i]`` (optional) a short text per item.
    """

    user_ids: pd.Index
    items: list[np.ndarray]
    scores: list[np.ndarray]
    reasons: list[list[str]] | None = None
    method: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.user_ids)

    def frame(self) -> pd.DataFrame:
        """Long format: user_id, rank (1-based), item_id, score[, reason]."""
        rows: dict[str, list[Any]] = {"user_id": [], "rank": [], "item_id": [], "score": []}
        if self.reasons is not None:
            rows["reason"] = []
        for i, u in enumerate(self.user_ids):
            for r, (it, sc) in enumerate(zip(self.items[i], self.scores[i], strict=True)):
                rows["user_id"].append(u)
                rows["rank"].append(r + 1)
                rows["item_id"].append(it)
                rows["score"].append(float(sc))
                if self.reasons is not None:
                    rows["reason"].append(self.reasons[i][r])
        return pd.DataFrame(rows)


@runtime_checkable
class Recommender(Protocol):
    """``fit`` learns from a :class:`FitContext`; ``recommend`` returns the top ``k`` unseen
    train items per user. Unknown users (no train history) get a fallback list, never an error.
    """

    name: str

    def fit(self, ctx: FitContext) -> Recommender: ...

    def recommend(self, user_ids: Sequence[str], k: int = 10) -> RecLists: ...
