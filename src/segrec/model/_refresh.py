"""Refit on new data and keep segment ids stable; say what moved, split, merged, appeared.

New segments are matched to the previous model's by the users they share (the Hungarian
assignment on the overlap, Jaccard of member sets), which works for every segmentation, with or
without centres, and does not compare centres across two differently scaled feature spaces.
A new segment keeps an old id when it shares at least ``min_jaccard`` of its members with that
old segment; other new segments get fresh ids above every old one, so an id never changes
meaning silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segrec.model._folder import State

__all__ = ["RefreshReport", "Relabelled", "match_by_members", "refresh_report"]


def match_by_members(new: pd.Series, old: pd.Series, min_jaccard: float = 0.3) -> dict[int, int]:
    """new segment id -> stable id, from two user_id -> segment_id series."""
    common = new.index.intersection(old.index)
    new_ids = np.unique(new.to_numpy())
    old_ids = np.unique(old.to_numpy())
    tab = pd.crosstab(new[common], old[common]).reindex(
        index=new_ids, columns=old_ids, fill_value=0
    )
    size_new = new.value_counts().reindex(new_ids).to_numpy(float)
    size_old = old.value_counts().reindex(old_ids).to_numpy(float)
    inter = tab.to_numpy(float)
    jac = inter / np.maximum(size_new[:, None] + size_old[None, :] - inter, 1.0)
    mapping: dict[int, int] = {}
    if jac.size:
        rows, cols = linear_sum_assignment(-jac)
        for r, c in zip(rows, cols, strict=True):
            if jac[r, c] >= min_jaccard:
                mapping[int(new_ids[r])] = int(old_ids[c])
    nxt = int(max(old_ids.max() if len(old_ids) else -1, max(mapping.values(), default=-1))) + 1
    for s in new_ids:
        if int(s) not in mapping:
            mapping[int(s)] = nxt
            nxt += 1
    return mapping


def relabel_segmentation(seg: Any, mapping: dict[int, int]) -> Any:
    """``seg`` with labels (and centres, soft memberships, names) renamed by ``mapping``."""
    labels = np.array([mapping[int(v)] for v in seg.labels], dtype=np.int64)
    k = max(mapping.values()) + 1
    centers = soft = None
    if seg.centers is not None:
        centers = np.zeros((k, seg.centers.shape[1]), dtype=seg.centers.dtype)
        for raw, new in mapping.items():
            if raw < len(seg.centers):
                centers[new] = seg.centers[raw]
    if seg.soft is not None:
        soft = np.zeros((len(labels), k))
        for raw, new in mapping.items():
            soft[:, new] = seg.soft[:, raw]
    names = {mapping[int(s)]: n for s, n in seg.names.items() if int(s) in mapping}
    meta = {**seg.meta, "id_mapping": {str(a): b for a, b in mapping.items()}}
    return dataclasses.replace(
        seg, labels=labels, centers=centers, soft=soft, names=names, meta=meta
    )


class Relabelled:
    """An assigner whose segment ids are renamed by ``mapping`` (raw id -> stable id)."""

    def __init__(self, inner: Any, mapping: dict[int, int]) -> None:
        self.inner = inner
        self.mapping = {int(a): int(b) for a, b in mapping.items()}

    def _map(self, ids: np.ndarray) -> np.ndarray:
        return np.array([self.mapping.get(int(v), int(v)) if v >= 0 else -1 for v in ids], np.int64)

    def predict_detail(self, features: Any, users: Any = None) -> Any:
        d = self.inner.predict_detail(features, users)
        return dataclasses.replace(
            d, labels=self._map(d.labels), alternative=self._map(d.alternative)
        )

    def to_state(self) -> State:
        meta, arrays = self.inner.to_state()
        return {**meta, "relabel": {str(a): b for a, b in self.mapping.items()}}, arrays


@dataclass
class RefreshReport:
    """What a refresh changed: users that moved between (stable) segment ids, and segments
    that split, merged, appeared or vanished."""

    n_common_users: int
    moved: int
    moved_share: float
    kept: list[int] = field(default_factory=list)
    split: dict[int, list[int]] = field(default_factory=dict)
    merged: dict[int, list[int]] = field(default_factory=dict)
    appeared: list[int] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        out = [f"{self.moved:,} of {self.n_common_users:,} users moved ({self.moved_share:.1%})"]
        for sid, parts in self.split.items():
            out.append(f"segment {sid} split into {parts}")
        for sid, sources in self.merged.items():
            out.append(f"segments {sources} merged into {sid}")
        if self.appeared:
            out.append(f"new segments: {self.appeared}")
        if self.vanished:
            out.append(f"gone: {self.vanished}")
        return out


def refresh_report(new: pd.Series, old: pd.Series, share: float = 0.2) -> RefreshReport:
    """Compare stable segment ids of the users both models know. An old segment *split* when
    at least ``share`` of its common users went to each of two or more new segments; a new
    segment *merged* when at least ``share`` of its common users came from each of two or more
    old ones."""
    common = new.index.intersection(old.index)
    n, o = new[common], old[common]
    moved = int((n.to_numpy() != o.to_numpy()).sum())
    tab = pd.crosstab(o, n)
    split = {
        int(s): [int(c) for c in row.index[row / max(row.sum(), 1) >= share]]
        for s, row in tab.iterrows()
        if (row / max(row.sum(), 1) >= share).sum() >= 2
    }
    merged = {
        int(c): [int(s) for s in col.index[col / max(col.sum(), 1) >= share]]
        for c, col in tab.items()
        if (col / max(col.sum(), 1) >= share).sum() >= 2
    }
    new_ids, old_ids = set(np.unique(new)), set(np.unique(old))
    return RefreshReport(
        len(common),
        moved,
        moved / max(len(common), 1),
        sorted(int(s) for s in new_ids & old_ids),
        split,
        merged,
        sorted(int(s) for s in new_ids - old_ids),
        sorted(int(s) for s in old_ids - new_ids),
    )
