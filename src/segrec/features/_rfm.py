"""RFM: money per interaction (amount, price, rating or count), the raw recency/frequency/
monetary table, and the traditional segmentation segrec is compared against: RFM quantile
scores and the classic named RFM segments (Champions, Loyal Customers, At Risk, ...)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segrec.data import Dataset

__all__ = ["DAY", "RFM_SEGMENTS", "monetary_basis", "rfm_scores", "rfm_segments", "rfm_table"]

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


def _prices(ds: Dataset) -> pd.Series | None:
    """Item prices by item_id, or None when ``ds`` has none."""
    if not ds.items.empty and ds.items["price"].notna().any():
        return ds.items.set_index(ds.items["item_id"].astype(str))["price"]
    return None


def monetary_basis(ds: Dataset) -> str:
    """What money means in ``ds``: ``amount``, else item ``price``, else ``rating``, else
    ``count``."""
    if np.isfinite(ds.interactions["amount"].to_numpy(float)).any():
        return "amount"
    if _prices(ds) is not None:
        return "price"
    if np.isfinite(ds.interactions["rating"].to_numpy(float)).any():
        return "rating"
    return "count"


def _money(inter: pd.DataFrame, basis: str, price: pd.Series | None) -> pd.Series:
    """Per-interaction money on ``basis`` (amounts fall back to the item price)."""
    n = len(inter)
    p = np.full(n, np.nan) if price is None else price.reindex(inter["item_id"].astype(str))
    p = np.asarray(p, dtype=float)
    if basis == "amount":
        amount = inter["amount"].to_numpy(float)
        if price is not None:
            amount = np.where(np.isnan(amount), p, amount)
        return pd.Series(np.nan_to_num(amount), index=inter.index)
    if basis == "price":
        return pd.Series(np.nan_to_num(p), index=inter.index)
    if basis == "rating":
        return pd.Series(np.nan_to_num(inter["rating"].to_numpy(float)), index=inter.index)
    return pd.Series(np.ones(len(inter)), index=inter.index)


def _monetary(ds: Dataset) -> tuple[pd.Series, str]:
    """Per-interaction money: amount, else item price, else rating; says which basis it used."""
    basis = monetary_basis(ds)
    return _money(ds.interactions, basis, _prices(ds)), basis


def _rfm(inter: pd.DataFrame, now: int, money: pd.Series) -> pd.DataFrame:
    g = pd.DataFrame({"u": inter["user_id"].astype(str), "t": inter["timestamp"], "m": money})
    agg = g.groupby("u", sort=True).agg(
        last=("t", "max"), frequency=("t", "size"), monetary=("m", "sum")
    )
    agg["recency_days"] = (now - agg.pop("last")) / DAY
    agg.index.name = "user_id"
    return agg[["recency_days", "frequency", "monetary"]]


def _now(ds: Dataset, now: int | None) -> int:
    inter = ds.interactions
    return int(inter["timestamp"].max()) if now is None and len(inter) else (now or 0)


def rfm_table(ds: Dataset, now: int | None = None) -> tuple[pd.DataFrame, str]:
    """Raw recency (days), frequency, monetary per user with interactions; and the basis."""
    money, basis = _monetary(ds)
    return _rfm(ds.interactions, _now(ds, now), money), basis


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
