"""The :class:`Segmentation` artifact: one segment per user, with strength and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SegmentAssignment", "Segmentation"]


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


@dataclass(frozen=True)
class SegmentAssignment:
    """Segments of users given after the fit (``predict_detail``), one entry per row.

    ``labels``: segment id (-1 where no segment applies); ``strength``: membership in [0, 1],
    defined as at fit; ``alternative``: the nearest other segment id (-1 if none);
    ``distance``: distance to the assigned centre in the fused space (NaN where undefined).
    ``user_ids`` names the rows when the caller can tell; ``noise`` flags users a density
    method would call noise (they still get their nearest segment, as at fit).
    """

    labels: np.ndarray
    strength: np.ndarray
    alternative: np.ndarray
    distance: np.ndarray
    user_ids: pd.Index | None = None
    noise: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if any(len(a) != n for a in (self.strength, self.alternative, self.distance)):
            raise ValueError(
                "labels, strength, alternative and distance must have one entry per row"
            )

    def __len__(self) -> int:
        return len(self.labels)

    def frame(self) -> pd.DataFrame:
        """One row per user: (user_id,) segment_id, strength, alternative, distance."""
        df = pd.DataFrame(
            {
                "segment_id": self.labels.astype("int64"),
                "strength": self.strength.astype("float64"),
                "alternative": self.alternative.astype("int64"),
                "distance": self.distance.astype("float64"),
            }
        )
        if self.user_ids is not None:
            df.insert(0, "user_id", np.asarray(self.user_ids, dtype=str))
        if self.noise is not None:
            df["noise"] = self.noise.astype(bool)
        return df
