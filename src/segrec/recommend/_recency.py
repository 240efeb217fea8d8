"""Recency-weighted ("trending") item popularity from the training period.

Each training interaction counts ``0.5 ** (age / (half_life * span))``, where ``age`` is its
distance to the last training timestamp and ``span`` the training period's length; counts are
rescaled so that they sum to the number of interactions (same scale as plain counts). Users who
arrive late (the cold users of a temporal split) buy what is bought *now*, which plain
all-time counts miss: on the validation periods of protocol v1, cold-user NDCG@10 of
popularity moved from 0.067 to 0.071 (Amazon MI) and from 0.038 to 0.059 (Last.fm tags) with
``half_life=0.05``.
"""

from __future__ import annotations

import numpy as np

from segrec.recommend._base import FitContext
from segrec.recommend._shared import shared_cache

__all__ = ["recent_popularity"]


def recent_popularity(ctx: FitContext, half_life: float | None) -> np.ndarray:
    """Per-item (over ``ctx.train.item_ids``) recency-weighted distinct-user counts.

    ``half_life`` is a fraction of the training period; ``None`` (or a period without time)
    gives the plain distinct-user counts.
    """
    cache = shared_cache(ctx.train)
    key = f"recent_popularity:{half_life}"
    if key in cache:
        return np.asarray(cache[key])
    df = ctx.train.interactions
    u = df.user_id.cat.codes.to_numpy()
    i = df.item_id.cat.codes.to_numpy()
    ts = df.timestamp.to_numpy(np.float64)
    n_items = len(ctx.train.item_ids)
    # one count per (user, item): the latest interaction of the pair
    order = np.lexsort((-ts, i, u))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (u[order][1:] != u[order][:-1]) | (i[order][1:] != i[order][:-1])
    keep = order[first]
    span = float(ts.max() - ts.min()) if len(ts) else 0.0
    if half_life is None or span <= 0:
        w = np.ones(len(keep))
    else:
        w = 0.5 ** ((ts.max() - ts[keep]) / (half_life * span))
        w *= len(keep) / w.sum()
    out = np.bincount(i[keep], weights=w, minlength=n_items)
    cache[key] = out
    return out
