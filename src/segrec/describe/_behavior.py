"""Interpretable per-user columns computed from a Dataset, for profiles and rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["interpretable_table", "item_categories"]


def item_categories(ds: object, level: str = "leaf") -> pd.Series:
    """item_id -> category (``leaf``: the most specific, ``top``: the most general)."""
    items = ds.items  # type: ignore[attr-defined]
    if not len(items) or items["categories"].isna().all():
        return pd.Series(dtype=object)
    parts = items["categories"].astype("string").fillna("").str.split("|")
    cat = parts.str[-1] if level == "leaf" else parts.str[0]
    s = pd.Series(cat.to_numpy(), index=items["item_id"].astype(str).to_numpy())
    return s[s.notna() & (s != "")].astype(str)


def interpretable_table(ds: object, user_ids: pd.Index, max_categories: int = 12) -> pd.DataFrame:
    """users x readable features: recency_days, frequency, monetary, rating_mean, price_level,
    n_texts and ``cat:<name>`` shares of each user's interactions in the top categories."""
    inter = ds.interactions  # type: ignore[attr-defined]
    uid = inter["user_id"].astype(str)
    out = pd.DataFrame(index=pd.Index(user_ids.astype(str), name="user_id"))
    if len(inter):
        now = int(inter["timestamp"].max())
        g = inter.assign(_u=uid).groupby("_u", observed=True)
        out["recency_days"] = ((now - g["timestamp"].max()) / 86_400.0).reindex(out.index)
        out["frequency"] = g.size().reindex(out.index).fillna(0.0)
        if inter["amount"].notna().any():
            out["monetary"] = g["amount"].sum(min_count=1).reindex(out.index)
        if inter["rating"].notna().any():
            out["rating_mean"] = g["rating"].mean().reindex(out.index)
        items = ds.items  # type: ignore[attr-defined]
        if len(items) and items["price"].notna().any():
            price = pd.Series(items["price"].to_numpy(), index=items["item_id"].astype(str))
            p = inter["item_id"].astype(str).map(price)
            out["price_level"] = p.groupby(uid).mean().reindex(out.index)
        cats = item_categories(ds, "leaf")
        if len(cats):
            c = inter["item_id"].astype(str).map(cats)
            top = c.value_counts().index[:max_categories]
            share = pd.crosstab(uid, c.where(c.isin(top)), normalize="index")
            for name in top:
                if name in share.columns:
                    out[f"cat:{name}"] = share[name].reindex(out.index).fillna(0.0)
    texts = ds.texts  # type: ignore[attr-defined]
    out["n_texts"] = (
        texts["user_id"].astype(str).value_counts().reindex(out.index).fillna(0.0)
        if len(texts)
        else 0.0
    )
    return out.astype(float).replace([np.inf, -np.inf], np.nan)
