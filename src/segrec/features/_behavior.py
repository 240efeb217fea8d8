"""Behaviour features: RFM, activity span and gaps, categories, price level, rating stats.

The RFM table and the classic RFM segments live in :mod:`segrec.features._rfm` (re-exported).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.data import Dataset
from segrec.data._one_user import OneUserEvents
from segrec.diagnostics import UsageError
from segrec.features._behavior_one import one_user_row
from segrec.features._rfm import (
    DAY,
    RFM_SEGMENTS,
    _money,
    _now,
    _prices,
    _rfm,
    monetary_basis,
    rfm_scores,
    rfm_segments,
    rfm_table,
)
from segrec.features._state import State, series_from_state, series_state

__all__ = [
    "RFM_SEGMENTS",
    "BehaviorConfig",
    "BehaviorFeaturizer",
    "is_taste_column",
    "monetary_basis",
    "rfm_scores",
    "rfm_segments",
    "rfm_table",
]

#: behaviour columns that describe *what* a user likes (category shares, price level); every
#: other column (recency, frequency, gaps, monetary, ratings) describes *how much* they are active
TASTE_PREFIXES: tuple[str, ...] = ("cat:", "price_level")


def is_taste_column(name: str) -> bool:
    """True for taste columns (category shares, price level), False for activity/RFM ones."""
    return name.startswith(TASTE_PREFIXES)


class BehaviorConfig(BaseModel):
    """Settings of :class:`BehaviorFeaturizer`."""

    model_config = ConfigDict(extra="forbid")
    n_categories: int = Field(10, ge=0, description="share columns for the top categories")
    now: int | None = Field(None, description="reference time (default: last interaction)")


class BehaviorFeaturizer:
    """Per-user behaviour features (named columns).

    ``fit`` learns the reference time ``now_``, the monetary basis, item prices and price
    percentiles, the top categories and each column's median (the fill for gaps);
    ``transform`` applies exactly these to the interactions of any users, so a new user's row
    is computed as the batch's rows were.
    """

    def __init__(self, config: BehaviorConfig | None = None, **kwargs: object) -> None:
        self.config = config if config is not None else BehaviorConfig(**kwargs)  # type: ignore[arg-type]

    def fit(self, ds: Dataset) -> BehaviorFeaturizer:
        self.fit_transform(ds)
        return self

    def fit_transform(self, ds: Dataset) -> tuple[pd.DataFrame, np.ndarray, str]:
        """(features indexed by ``ds.user_ids``, missing mask, monetary basis)."""
        self.now_ = _now(ds, self.config.now)
        self.basis_ = monetary_basis(ds)
        self.prices_ = _prices(ds)
        items = ds.items.assign(item_id=ds.items["item_id"].astype(str)).set_index("item_id")
        has_price = not items.empty and items["price"].notna().any()
        self.price_pct_ = items["price"].rank(pct=True) if has_price else None
        self.categories_, self.top_ = self._fit_categories(_events(ds.interactions), items)
        f = self._frame(ds.interactions)
        self.columns_ = [str(c) for c in f.columns]
        f = _reindexed(f, ds.user_ids)
        self.medians_ = {c: _median(f[c]) for c in f.columns}
        return self._finish(f)

    def transform(
        self, ds: Dataset, user_ids: pd.Index | None = None
    ) -> tuple[pd.DataFrame, np.ndarray, str]:
        """Features of ``user_ids`` (default ``ds.user_ids``) from their rows in ``ds``, with
        the fitted reference time, prices, categories and medians (items of ``ds`` unused)."""
        if not hasattr(self, "columns_"):
            raise UsageError("this BehaviorFeaturizer is not fitted; call fit(ds) first")
        users = ds.user_ids if user_ids is None else pd.Index(user_ids, dtype="object")
        inter = ds.interactions
        if len(users) == 1 and len(inter) and (inter["user_id"] == users[0]).all():
            row = one_user_row(
                self,
                inter["item_id"].astype(str).tolist(),
                inter["timestamp"].to_numpy(),
                inter["rating"].to_numpy(),
                inter["amount"].to_numpy(),
            )
            f = pd.DataFrame(self._filled(row)[None, :], index=users, columns=self.columns_)
            return f, np.zeros(1, dtype=bool), self.basis_
        if len(users) == 1 and not len(inter):  # one user who only wrote (an online review)
            row = np.array([0.0 if c.startswith("cat:") else np.nan for c in self.columns_])
            f = pd.DataFrame(self._filled(row)[None, :], index=users, columns=self.columns_)
            return f, np.ones(1, dtype=bool), self.basis_
        f = self._frame(inter) if len(inter) else pd.DataFrame(columns=self.columns_, dtype=float)
        return self._finish(_reindexed(f.reindex(columns=self.columns_), users))

    def row_of(self, ev: OneUserEvents) -> np.ndarray:
        """The feature row (``columns_`` order, gaps filled) of the one user of ``ev``: what
        :meth:`transform` gives for their Dataset, in numpy (an online assignment's path)."""
        if not hasattr(self, "columns_"):
            raise UsageError("this BehaviorFeaturizer is not fitted; call fit(ds) first")
        return self._filled(one_user_row(self, ev.items, ev.timestamp, ev.rating, ev.amount))

    def _finish(self, f: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, str]:
        missing = f["frequency"].isna().to_numpy()
        for c in f.columns:  # per-column gaps (no ratings, one interaction): the median
            f[c] = f[c].fillna(self.medians_[c])
        return f.astype(float), missing, self.basis_

    def _filled(self, row: np.ndarray) -> np.ndarray:
        """:meth:`_finish` of one user's raw row (gaps: the fitted medians)."""
        if not hasattr(self, "_fill"):
            self._fill = np.array([self.medians_[c] for c in self.columns_], dtype=np.float64)
        return np.where(np.isnan(row), self._fill, row)

    def _frame(self, inter: pd.DataFrame) -> pd.DataFrame:
        """Raw columns of the users with interactions in ``inter`` (gaps left as NaN)."""
        money = _money(inter, self.basis_, self.prices_)
        f = _rfm(inter, self.now_, money).rename(columns={"monetary": f"monetary_{self.basis_}"})
        g = _events(inter)
        grp = g.groupby("u", sort=True)
        f["log_frequency"] = np.log1p(f["frequency"])
        f["n_items"] = grp["i"].nunique()
        f["span_days"] = (grp["t"].max() - grp["t"].min()) / DAY
        gaps = grp["t"].diff() / DAY
        f["mean_gap_days"] = gaps.groupby(g["u"]).mean()
        f["max_gap_days"] = gaps.groupby(g["u"]).max()
        f["rating_mean"] = grp["r"].mean()
        f["rating_std"] = grp["r"].std()
        f["n_ratings"] = grp["r"].count()
        if self.price_pct_ is not None:
            g["pp"] = self.price_pct_.reindex(g["i"]).to_numpy()
            f["price_level"] = g.groupby("u")["pp"].mean()
        return f.join(self._shares(g))

    def _fit_categories(
        self, g: pd.DataFrame, items: pd.DataFrame
    ) -> tuple[pd.DataFrame | None, list[str]]:
        """(item -> category pairs of the top categories, the top categories by interactions)."""
        k = self.config.n_categories
        if k == 0 or items.empty or not items["categories"].notna().any():
            return None, []
        cats = items["categories"].dropna().astype(str).str.split("|")
        ex = cats.explode().str.strip()
        ex = ex[ex != ""]
        table = ex.rename("c").rename_axis("i").reset_index()
        top = [str(c) for c in g[["u", "i"]].merge(table, on="i")["c"].value_counts().index[:k]]
        return table[table["c"].isin(top)].reset_index(drop=True), top

    def _shares(self, g: pd.DataFrame) -> pd.DataFrame:
        if self.categories_ is None or not self.top_:
            return pd.DataFrame(index=pd.Index([], name="u"))
        pairs = g[["u", "i"]].merge(self.categories_, on="i")
        tab = pd.crosstab(pairs["u"], pairs["c"]).reindex(columns=self.top_, fill_value=0)
        n_per_user = g.groupby("u").size()
        share = tab.div(n_per_user.reindex(tab.index), axis=0)
        share.columns = [f"cat:{c}" for c in share.columns]
        return share

    # -- state (no pickle) ----------------------------------------------------------------
    def to_state(self) -> State:
        meta: dict[str, Any] = {
            "config": self.config.model_dump(mode="json"),
            "now": int(self.now_),
            "basis": self.basis_,
            "columns": self.columns_,
            "medians": [self.medians_[c] for c in self.columns_],
            "top": self.top_,
        }
        arrays: dict[str, np.ndarray] = {}
        for name, ser in (("prices", self.prices_), ("price_pct", self.price_pct_)):
            meta[f"has_{name}"] = ser is not None
            if ser is not None:
                arrays.update(series_state(name, ser))
        meta["has_categories"] = self.categories_ is not None
        if self.categories_ is not None:
            arrays["cat_items"] = self.categories_["i"].to_numpy().astype(str)
            arrays["cat_names"] = self.categories_["c"].to_numpy().astype(str)
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> BehaviorFeaturizer:
        self = cls(BehaviorConfig.model_validate(meta["config"]))
        self.now_, self.basis_, self.top_ = int(meta["now"]), meta["basis"], list(meta["top"])
        self.columns_ = list(meta["columns"])
        self.medians_ = dict(zip(self.columns_, map(float, meta["medians"]), strict=True))
        self.prices_ = series_from_state("prices", arrays) if meta["has_prices"] else None
        self.price_pct_ = series_from_state("price_pct", arrays) if meta["has_price_pct"] else None
        self.categories_ = (
            pd.DataFrame(
                {"i": arrays["cat_items"].astype(object), "c": arrays["cat_names"].astype(object)}
            )
            if meta["has_categories"]
            else None
        )
        return self


def _events(inter: pd.DataFrame) -> pd.DataFrame:
    """User, item, time, rating per interaction, ordered by user then time (for gaps)."""
    return pd.DataFrame(
        {
            "u": inter["user_id"].astype(str),
            "i": inter["item_id"].astype(str),
            "t": inter["timestamp"].astype(float),
            "r": inter["rating"].astype(float),
        }
    ).sort_values(["u", "t"], kind="stable")


def _reindexed(f: pd.DataFrame, users: pd.Index) -> pd.DataFrame:
    """Rows of ``users`` (NaN for users without interactions); no category means share 0."""
    f = f.reindex(users)
    cat_cols = [c for c in f.columns if str(c).startswith("cat:")]
    f[cat_cols] = f[cat_cols].fillna(0.0)
    return f


def _median(col: pd.Series) -> float:
    med = col.median()
    return 0.0 if pd.isna(med) else float(med)
