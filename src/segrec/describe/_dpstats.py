"""Everything a profile publishes under differential privacy, as one planned set of releases.

The budget is split evenly over the queries the data's shape calls for (sizes; one sum per
mean column; keyword, item and category counts when there are texts, items, categories), so
the epsilon spent equals ``dp_epsilon`` up to OpenDP's rounding. The delta budget goes to the
threshold releases (and to Gaussian ones). Means are clipped to declared bounds only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segrec.describe._behavior import item_categories
from segrec.describe._privacy import PrivacyAccountant
from segrec.describe._private import dp_category_counts, dp_top_keys, user_terms

__all__ = ["DPRelease", "declared_bounds", "release_private"]


@dataclass
class DPRelease:
    """The noisy figures: sizes, means per column, keywords/items/categories per segment."""

    accountant: PrivacyAccountant
    sizes: np.ndarray
    means: dict[str, dict[int, float]]
    keywords: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    items: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    categories: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    bounds: dict[str, list[float]] = field(default_factory=dict)


def declared_bounds(cfg: Any, ds: Any) -> dict[str, tuple[float, float]]:
    """Clipping bounds per mean column, from the config and the catalogue (never users' rows):
    recency and frequency caps, the amount cap, the rating scale, the catalogue's price range."""
    b = {
        "recency_days": (0.0, float(cfg.dp_recency_cap_days)),
        "frequency": (0.0, float(cfg.dp_frequency_cap)),
        "monetary": (0.0, float(cfg.dp_amount_cap)),
        "rating_mean": (float(cfg.dp_rating_range[0]), float(cfg.dp_rating_range[1])),
    }
    prices = pd.to_numeric(ds.items["price"], errors="coerce").dropna() if len(ds.items) else []
    if len(prices):
        lo, hi = float(np.min(prices)), float(np.max(prices))
        b["price_level"] = (lo, hi if hi > lo else lo + 1.0)
    return b


def _item_pairs(ds: Any, users: pd.Index) -> pd.DataFrame:
    inter = ds.interactions
    uid = inter["user_id"].astype(str)
    keep = uid.isin(users)
    pairs = pd.DataFrame({"user_id": uid[keep], "key": inter.loc[keep, "item_id"].astype(str)})
    return pairs.groupby(["user_id", "key"], as_index=False).size().rename(columns={"size": "n"})


def release_private(
    cfg: Any, ds: Any, table: pd.DataFrame, pub: pd.Series, texts: pd.DataFrame
) -> DPRelease:
    """Run every DP release of one profile set; ``pub``: published user -> segment id."""
    seg_ids = sorted(int(s) for s in pub.unique())
    bounds = declared_bounds(cfg, ds)
    cols: list[str] = [
        c
        for c in ("recency_days", "frequency", "monetary", "rating_mean", "price_level")
        if c in table and c in bounds
    ]
    cats = item_categories(ds, "leaf")
    has_cats = bool(len(cats)) and cfg.n_categories > 0
    has_text = bool(len(texts))
    has_items = cfg.n_items > 0 and bool(len(ds.interactions))
    n_eps = 1 + len(cols) + has_text + has_items + has_cats
    gaussian = cfg.dp_mechanism == "gaussian"
    n_delta = has_text + has_items + (1 + len(cols) if gaussian else 0)
    eps = float(cfg.dp_epsilon) / n_eps
    delta = float(cfg.dp_delta) / max(n_delta, 1)
    d_vec = delta if gaussian else 0.0
    acct = PrivacyAccountant(cfg.dp_epsilon, cfg.dp_mechanism, cfg.dp_delta, cfg.random_state)
    sizes = pub.value_counts().reindex(seg_ids).to_numpy().astype(float)
    sizes = acct.noisy_counts(sizes, eps, "segment sizes", d_vec)
    vals = table.loc[pub.index]
    means = {
        c: acct.noisy_means(
            vals[c].to_numpy(), pub.to_numpy(), seg_ids, eps, f"mean {c}", bounds[c], d_vec
        )
        for c in cols
    }
    out = DPRelease(acct, sizes, means, bounds={c: list(bounds[c]) for c in cols})
    k = cfg.dp_max_keys_per_user
    common = {"max_keys": k, "eps": eps, "delta": delta, "min_users": cfg.min_users}
    if has_text:
        terms = user_terms(texts[["user_id", "text"]])
        out.keywords = dp_top_keys(
            acct,
            terms,
            pub,
            n=cfg.n_keywords,
            distinctive=True,
            query="keyword counts (distinct users)",
            **common,
        )
    if has_items:
        out.items = dp_top_keys(
            acct,
            _item_pairs(ds, pub.index),
            pub,
            n=cfg.n_items,
            distinctive=False,
            query="item counts (distinct users)",
            **common,
        )
    if has_cats:
        pairs = _item_pairs(ds, pub.index)
        pairs["key"] = pairs["key"].map(cats)
        pairs = pairs.dropna(subset=["key"])
        out.categories = dp_category_counts(
            acct,
            pairs,
            pub,
            sorted(set(cats.to_numpy())),
            seg_ids,
            max_keys=k,
            eps=eps,
            min_users=cfg.min_users,
            n=cfg.n_categories,
        )
    return out
