"""The ``demographic`` segmentation: groups of users sharing their attribute values.

One rule at fit and for new users: numbers are cut at the fit's tercile edges (values outside
go to the first or last tier), categories (at most 6 values) are kept as they are, and the key
of the joined values picks the group; keys outside the fit's largest groups join ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.features import UserFeatures
from segrec.segment import SegmentAssignment, Segmentation

__all__ = ["DemographicAssigner", "demographic"]


def _num(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:.0f}"


class DemographicAssigner:
    """Attribute values -> group; users without attributes get -1."""

    name: ClassVar[str] = "demographic"

    def __init__(self, attrs: list[dict[str, Any]], cats: list[str]) -> None:
        self.attrs, self.cats = attrs, list(cats)  # attrs: column, kind, edges, tier texts

    @classmethod
    def fit(cls, ds: Dataset, max_groups: int = 12) -> DemographicAssigner | None:
        """``None`` when the users table has no usable attribute columns."""
        cols = [c for c in ds.users.columns if c != "user_id"]
        if not cols or len(ds.users) == 0:
            return None
        t = ds.users.set_index(ds.users.user_id.astype(str))[cols]
        attrs: list[dict[str, Any]] = []
        for c in cols:
            s = t[c]
            if pd.api.types.is_numeric_dtype(s) and s.nunique() > 6:
                tier, edges = pd.qcut(s, 3, labels=False, duplicates="drop", retbins=True)
                span = s.groupby(tier).agg(["min", "max"])
                text = {
                    int(b): f"{c} {_num(r['min'])}-{_num(r['max'])}" for b, r in span.iterrows()
                }
                attrs.append(
                    {
                        "column": c,
                        "kind": "tier",
                        "edges": [float(e) for e in edges],
                        "texts": [text.get(i, "?") for i in range(len(edges) - 1)],
                    }
                )
            elif s.nunique() <= 6:
                attrs.append({"column": c, "kind": "value"})
        if not attrs:
            return None
        out = cls(attrs, [])
        key, order = out._keys(t)
        counts = key.value_counts()
        keep = set(counts.index[: max_groups - 1])
        kept = key.isin(keep)
        key, order = key.where(kept, "other"), order.where(kept, "~other")
        # groups in attribute order (youngest first), the lumped rest last
        frame = pd.DataFrame({"k": key, "o": order}).drop_duplicates("k").sort_values("o")
        out.cats = list(frame.k)
        return out

    def _keys(self, t: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """Readable key and sort key per user of the attribute table ``t``."""
        parts, sort_parts = [], []
        for a in self.attrs:
            s = t[a["column"]] if a["column"] in t.columns else pd.Series(np.nan, index=t.index)
            if a["kind"] == "tier":
                e = np.asarray(a["edges"], float)
                v = pd.to_numeric(s, errors="coerce").clip(e[0], e[-1])
                tier = pd.cut(v, e, labels=False, include_lowest=True)
                texts = dict(enumerate(a["texts"]))
                sort_parts.append(tier.astype("string"))
                parts.append(tier.map(texts).astype("string"))
            else:
                sort_parts.append(s.astype("string"))
                parts.append((a["column"] + " " + s.astype("string")).astype("string"))
        key, order = parts[0].fillna("?"), sort_parts[0].fillna("~")
        for p, o in zip(parts[1:], sort_parts[1:], strict=True):
            key, order = key + ", " + p.fillna("?"), order + "|" + o.fillna("~")
        return key, order

    def labels(self, ds: Dataset) -> pd.Series:
        """user_id -> group of every user in ``ds.users``."""
        t = ds.users.set_index(ds.users.user_id.astype(str))
        key, _ = self._keys(t)
        code = {c: i for i, c in enumerate(self.cats)}
        other = code.get("other", -1)
        return pd.Series([code.get(k, other) for k in key], index=key.index, dtype=np.int64)

    def predict_detail(
        self, features: UserFeatures | None = None, users: Dataset | None = None
    ) -> SegmentAssignment:
        if users is None:
            raise UsageError("demographic assigns users from attributes: pass users= (a Dataset)")
        ids = pd.Index(
            np.asarray((features if features is not None else users).user_ids, dtype=str),
            name="user_id",
        )
        lab = self.labels(users).reindex(ids).fillna(-1).to_numpy(np.int64)
        n = len(ids)
        return SegmentAssignment(
            lab, np.where(lab >= 0, 1.0, 0.0), np.full(n, -1, np.int64), np.full(n, np.nan), ids
        )

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"name": self.name, "attrs": self.attrs, "cats": self.cats}, {}

    @classmethod
    def from_state(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> DemographicAssigner:
        return cls([dict(a) for a in meta["attrs"]], meta["cats"])


def demographic(ds: Dataset, max_groups: int = 12) -> Segmentation | None:
    """Groups of users sharing their attribute values (numbers cut into terciles); ``None``
    when the users table has no attribute columns."""
    seg, _ = fit_demographic(ds, max_groups)
    return seg


def fit_demographic(
    ds: Dataset, max_groups: int = 12
) -> tuple[Segmentation | None, DemographicAssigner | None]:
    """The segmentation of the users of ``ds`` and the assigner that made it."""
    a = DemographicAssigner.fit(ds, max_groups)
    if a is None:
        return None, None
    lab = a.labels(ds)
    seg = Segmentation(
        pd.Index(lab.index, name="user_id"),
        lab.to_numpy(np.int64),
        np.ones(len(lab)),
        "demographic",
        names=dict(enumerate(a.cats)),
    )
    return seg, a
