"""The behaviour row of one user in plain numpy: what :class:`BehaviorFeaturizer` computes with
pandas group-bys, without them.

A user assigned online (``SegrecModel.assign``, the service's ``POST /assign``) has a handful of
events; the pandas path spends milliseconds on group-by machinery for those few rows. This path
reads the same fitted state (reference time, monetary basis, prices, price percentiles, top
categories) through dictionaries built once per featurizer, and gives the same raw columns in
``columns_`` order (gaps left as NaN), equal to the pandas path to rounding
(``tests/features/test_behavior_one.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segrec.features._rfm import DAY

__all__ = ["Lookups", "one_user_row"]


@dataclass(frozen=True)
class Lookups:
    """Item -> price, item -> price percentile, item -> positions of its top categories."""

    price: dict[str, float]
    pct: dict[str, float]
    cats: dict[str, list[int]]


def lookups(fz: Any) -> Lookups:
    """The fitted featurizer's item tables as dictionaries (built once, kept on ``fz``)."""
    have = getattr(fz, "_lookups", None)
    if have is not None:
        return have

    def as_dict(s: pd.Series | None) -> dict[str, float]:
        if s is None:
            return {}
        return dict(zip(s.index.astype(str), s.to_numpy(np.float64).tolist(), strict=True))

    cats: dict[str, list[int]] = {}
    if fz.categories_ is not None:
        pos = {c: j for j, c in enumerate(fz.top_)}
        for i, c in zip(fz.categories_["i"].astype(str), fz.categories_["c"], strict=True):
            cats.setdefault(i, []).append(pos[c])
    out = Lookups(as_dict(fz.prices_), as_dict(fz.price_pct_), cats)
    fz._lookups = out
    return out


def one_user_row(
    fz: Any, items: list[str], t: np.ndarray, r: np.ndarray, amount: np.ndarray
) -> np.ndarray:
    """Raw behaviour columns (``fz.columns_`` order, NaN where the pandas path leaves a gap) of
    the one user who interacted with ``items`` (at least one) at times ``t``, with ratings
    ``r`` and amounts ``amount`` (NaN where none)."""
    lk = lookups(fz)
    t = np.asarray(t, np.float64)
    r = np.asarray(r, np.float64)
    n = len(items)
    price = np.array([lk.price.get(i, np.nan) for i in items]) if lk.price else np.full(n, np.nan)
    money = _money(fz.basis_, amount, r, price, bool(lk.price))
    vals: dict[str, float] = {
        "recency_days": (fz.now_ - t.max()) / DAY,
        "frequency": float(n),
        f"monetary_{fz.basis_}": float(money.sum()),
        "log_frequency": float(np.log1p(n)),
        "n_items": float(len(set(items))),
        "span_days": (t.max() - t.min()) / DAY,
    }
    gaps = np.diff(np.sort(t, kind="stable")) / DAY
    vals["mean_gap_days"] = float(gaps.mean()) if len(gaps) else np.nan
    vals["max_gap_days"] = float(gaps.max()) if len(gaps) else np.nan
    rated = r[~np.isnan(r)]
    vals["rating_mean"] = float(rated.mean()) if len(rated) else np.nan
    vals["rating_std"] = float(rated.std(ddof=1)) if len(rated) > 1 else np.nan
    vals["n_ratings"] = float(len(rated))
    if fz.price_pct_ is not None:
        pp = np.array([lk.pct.get(i, np.nan) for i in items])
        pp = pp[~np.isnan(pp)]
        vals["price_level"] = float(pp.mean()) if len(pp) else np.nan
    counts = np.zeros(len(fz.top_))
    for i in items:
        for j in lk.cats.get(i, ()):
            counts[j] += 1.0
    for j, c in enumerate(fz.top_):
        vals[f"cat:{c}"] = counts[j] / n
    return np.array([vals.get(c, np.nan) for c in fz.columns_], dtype=np.float64)


def _money(
    basis: str, amount: np.ndarray, rating: np.ndarray, price: np.ndarray, has_price: bool
) -> np.ndarray:
    """Per-interaction money on ``basis`` (as :func:`segrec.features._rfm._money`)."""
    if basis == "amount":
        amount = np.asarray(amount, np.float64)
        if has_price:
            amount = np.where(np.isnan(amount), price, amount)
        return np.nan_to_num(amount)
    if basis == "price":
        return np.nan_to_num(price)
    if basis == "rating":
        return np.nan_to_num(rating)
    return np.ones(len(price))
