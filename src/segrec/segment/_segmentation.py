"""The :class:`Segmentation` artifact: one segment per user, with strength and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Segmentation"]


@dataclass(frozen=True)
class Segmentation:
    """Hard segment ids per user, a membership ``strength`` in [0, 1] and optional extras.

    ``labels[i]`` is the segment id of ``user_ids[i]`` (non-negative ints; ids are stable across
    refits when a previous model is given, see :mod:`segrec.segment`). ``noise[i]`` flags users a
    density method called noise and that were assigned to their nearest segment.
    ``soft`` optionally holds soft memberships (n_users x k, rows sum to 1).
    """

    user_ids: pd.Index
    labels: np.ndarray
    strength: np.ndarray
    method: str
    centers: np.ndarray | None = None
    soft: np.ndarray | None = None
    noise: np.ndarray | None = None
    names: dict[int, str] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.user_ids) or len(self.strength) != len(self.user_ids):
            raise ValueError("labels and strength must have one entry per user id")

    @property
    def k(self) -> int:
        return len(np.unique(self.labels))

    @property
    def segment_ids(self) -> np.ndarray:
        return np.unique(self.labels)

    def sizes(self) -> pd.Series:
        return pd.Series(self.labels).value_counts().sort_index()

    def series(self) -> pd.Series:
        """user_id -> segment_id."""
        return pd.Series(self.labels, index=self.user_ids, name="segment_id")

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(
            {
                "user_id": self.user_ids.astype(str),
                "segment_id": self.labels.astype("int64"),
                "strength": self.strength.astype("float64"),
            }
        )
        if self.noise is not None:
            df["noise"] = self.noise.astype(bool)
        return df

    def to_parquet(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        self.frame().to_parquet(p, index=False)
        return p
