"""Behaviour features: RFM, activity span and gaps, categories, price level, rating stats.

Also the traditional segmentation segrec is compared against: RFM quantile scores and the
classic named RFM segments (Champions, Loyal Customers, At Risk, Hibernating, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.data import Dataset

__all__ = [
    "RFM_SEGMENTS",
    "BehaviorConfig",
    "BehaviorFeaturizer",
    "is_taste_column",
    "rfm_scores",
    "rfm_segments",
    "rfm_table",
]

DAY = 86400.0

#: (R score pattern, F score pattern) -> name: the widely used RFM segment map over R and F.
RFM_SEGMENTS: list[tuple[str, str, str]] = [
    ("12", "12", "Hibernating"),
    ("12", "34", "At Risk"),
    ("12", "5", "Can't Lose Them"),
    ("3", "12", "About to Sleep"),
    ("3", "3", "Need Attention"),
    ("34", "45", "Loyal Customers"),
    ("4", "1", "Promising"),
    ("5", "1", "New Customers"),
    ("45", "23", "Potential Loyalists"),
    ("5", "45", "Champions"),
]


#: behaviour columns that describe *what* a user likes (category shares, price level); every
#: other column (recency, frequency, gaps, monetary, ratings) describes *how much* they are active
TASTE_PREFIXES: tuple[str, ...] = ("cat:", "price_level")


def is_taste_column(name: str) -> bool:
    """True for taste columns (category shares, price level), False for activity/RFM ones."""
    return name.startswith(TASTE_PREFIXES)


def _monetary(ds: Dataset) -> tuple[pd.Series, str]:
    """Per-interaction money: amount, else item price, else rating; says which basis it used."""
    inter = ds.interactions
    amount = inter["amount"].to_numpy(float)
    if np.isfinite(amount).any():
        if not ds.items.empty and ds.items["price"].notna().any():
            price = ds.items.set_index(ds.items["item_id"].astype(str))["price"]
            p = price.reindex(inter["item_id"].astype(str)).to_numpy(float)
            amount = np.where(np.isnan(amount), p, amount)
        return pd.Series(np.nan_to_num(amount), index=inter.index), "amount"
    if not ds.items.empty and ds.items["price"].notna().any():
        price = ds.items.set_index(ds.items["item_id"].astype(str))["price"]
        p = price.reindex(inter["item_id"].astype(str)).to_numpy(float)
        return pd.Series(np.nan_to_num(p), index=inter.index), "price"
    r = inter["rating"].to_numpy(float)
    if np.isfinite(r).any():
        return pd.Series(np.nan_to_num(r), index=inter.index), "rating"
    return pd.Series(np.ones(len(inter)), index=inter.index), "count"


def rfm_table(ds: Dataset, now: int | None = None) -> tuple[pd.DataFrame, str]:
    """Raw recency (days), frequency, monetary per user with interactions; and the basis."""
    inter = ds.interactions
    now = int(inter["timestamp"].max()) if now is None and len(inter) else (now or 0)
    money, basis = _monetary(ds)
    g = pd.DataFrame({"u": inter["user_id"].astype(str), "t": inter["timestamp"], "m": money})
    agg = g.groupby("u", sort=True).agg(
        last=("t", "max"), frequency=("t", "size"), monetary=("m", "sum")
    )
    agg["recency_days"] = (now - agg.pop("last")) / DAY
    agg.index.name = "user_id"
    return agg[["recency_days", "frequency", "monetary"]], basis


def _score(x: pd.Series, n_bins: int, higher_is_better: bool = True) -> pd.Series:
    pct = x.rank(pct=True, method="average")
    if not higher_is_better:
        pct = (-x).rank(pct=True, method="average")
    return pd.Series(np.ceil(pct * n_bins).clip(1, n_bins).astype(int), index=x.index)


def rfm_scores(ds: Dataset, n_bins: int = 5, now: int | None = None) -> pd.DataFrame:
    """Quantile scores R, F, M in 1..n_bins (higher is better; ties share a score)."""
    raw, basis = rfm_table(ds, now)
    out = pd.DataFrame(
        {
            "R": _score(raw["recency_days"], n_bins, higher_is_better=False),
            "F": _score(raw["frequency"], n_bins),
            "M": _score(raw["monetary"], n_bins),
        },
        index=raw.index,
    )
    out["RFM"] = out.R.astype(str) + out.F.astype(str) + out.M.astype(str)
    out.attrs["monetary_basis"] = basis
    return out


def rfm_segments(scores: pd.DataFrame) -> pd.Series:
    """Classic named RFM segment per user from 1-5 R and F scores (see ``RFM_SEGMENTS``)."""
    r = scores["R"].astype(str)
    f = scores["F"].astype(str)
    out = pd.Series("Unscored", index=scores.index, name="rfm_segment", dtype=object)
    for rs, fs, name in RFM_SEGMENTS:
        out[r.map(lambda v, rs=rs: v in rs) & f.map(lambda v, fs=fs: v in fs)] = name
    return out


class BehaviorConfig(BaseModel):
    """Settings of :class:`BehaviorFeaturizer`."""

    model_config = ConfigDict(extra="forbid")
    n_categories: int = Field(10, ge=0, description="share columns for the top categories")
    now: int | None = Field(None, description="reference time (default: last interaction)")


class BehaviorFeaturizer:
    """Per-user behaviour features (named columns) from the interactions it is given."""

    def __init__(self, config: BehaviorConfig | None = None, **kwargs: object) -> None:
        self.config = config if config is not None else BehaviorConfig(**kwargs)  # type: ignore[arg-type]

    def fit_transform(self, ds: Dataset) -> tuple[pd.DataFrame, np.ndarray, str]:
        """(features indexed by ``ds.user_ids``, missing mask, monetary basis)."""
        inter = ds.interactions
        users = ds.user_ids
        raw, basis = rfm_table(ds, self.config.now)
        g = pd.DataFrame(
            {
                "u": inter["user_id"].astype(str),
                "i": inter["item_id"].astype(str),
                "t": inter["timestamp"].astype(float),
                "r": inter["rating"].astype(float),
            }
        ).sort_values(["u", "t"], kind="stable")
        grp = g.groupby("u", sort=True)
        f = raw.rename(columns={"monetary": f"monetary_{basis}"})
        f["log_frequency"] = np.log1p(f["frequency"])
        f["n_items"] = grp["i"].nunique()
        f["span_days"] = (grp["t"].max() - grp["t"].min()) / DAY
        gaps = grp["t"].diff() / DAY
        f["mean_gap_days"] = gaps.groupby(g["u"]).mean()
        f["max_gap_days"] = gaps.groupby(g["u"]).max()
        f["rating_mean"] = grp["r"].mean()
        f["rating_std"] = grp["r"].std()
        f["n_ratings"] = grp["r"].count()
        items = ds.items.assign(item_id=ds.items["item_id"].astype(str)).set_index("item_id")
        if not items.empty and items["price"].notna().any():
            pct = items["price"].rank(pct=True)
            g["pp"] = pct.reindex(g["i"]).to_numpy()
            f["price_level"] = g.groupby("u")["pp"].mean()
        f = f.join(self._categories(g, items))
        f = f.reindex(users)
        cat_cols = [c for c in f.columns if c.startswith("cat:")]
        f[cat_cols] = f[cat_cols].fillna(0.0)
        missing = f["frequency"].isna().to_numpy()
        for c in f.columns:  # per-column gaps (no ratings, one interaction): the median
            med = f[c].median()
            f[c] = f[c].fillna(0.0 if pd.isna(med) else med)
        return f.astype(float), missing, basis

    def _categories(self, g: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
        k = self.config.n_categories
        if k == 0 or items.empty or not items["categories"].notna().any():
            return pd.DataFrame(index=pd.Index([], name="u"))
        cats = items["categories"].dropna().astype(str).str.split("|")
        ex = cats.explode().str.strip()
        ex = ex[ex != ""]
        pairs = g[["u", "i"]].merge(ex.rename("c").rename_axis("i").reset_index(), on="i")
        top = pairs["c"].value_counts().index[:k]
        tab = pd.crosstab(pairs["u"], pairs["c"])[list(top)]
        n_per_user = g.groupby("u").size()
        share = tab.div(n_per_user.reindex(tab.index), axis=0)
        share.columns = [f"cat:{c}" for c in share.columns]
        return share
