"""Keyword, item and category counts for profiles, by distinct users, with or without DP.

What a profile names (a keyword, a top item, a category) is published only when enough distinct
members of the segment used it (``min_users``, default 10): a word or an item one member used is
that member's. Under differential privacy each user adds 1 to at most ``max_keys`` keys (their
own most used ones) and the counts go through OpenDP: the Laplace threshold mechanism for open
sets (words, item ids), plain Laplace for the catalogue's categories, whose list is public.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segrec.describe._keywords import TOKEN_PATTERN, stop_words, strip_placeholders

__all__ = ["capped_pairs", "dp_category_counts", "dp_top_keys", "user_terms"]

_SEP = "\x1f"


def user_terms(texts: pd.DataFrame) -> pd.DataFrame:
    """(user_id, key, n): each user's distinct terms (the keyword vocabulary's tokens and
    bigrams, stop words removed) and how often they used each."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not len(texts):
        return pd.DataFrame({"user_id": [], "key": [], "n": []})
    docs = strip_placeholders(texts["text"].astype(str)).groupby(texts["user_id"]).apply(" ".join)
    vec = CountVectorizer(
        stop_words=stop_words(), token_pattern=TOKEN_PATTERN, ngram_range=(1, 2), lowercase=True
    )
    try:
        m = vec.fit_transform(docs.to_numpy()).tocoo()
    except ValueError:  # only stop words
        return pd.DataFrame({"user_id": [], "key": [], "n": []})
    terms = vec.get_feature_names_out()
    return pd.DataFrame(
        {"user_id": docs.index.to_numpy()[m.row], "key": terms[m.col], "n": m.data.astype(int)}
    )


def capped_pairs(pairs: pd.DataFrame, max_keys: int) -> pd.DataFrame:
    """Each user's ``max_keys`` most used keys (ties by key), one row per (user, key): this is
    what bounds one user's influence on the counts."""
    p = pairs.groupby(["user_id", "key"], as_index=False)["n"].sum()
    p = p.sort_values(["user_id", "n", "key"], ascending=[True, False, True])
    return p.groupby("user_id", sort=False).head(max_keys)[["user_id", "key"]]


def dp_top_keys(
    acct: Any,
    pairs: pd.DataFrame,
    segment_of: pd.Series,
    *,
    max_keys: int,
    eps: float,
    delta: float,
    min_users: int,
    n: int,
    distinctive: bool,
    query: str,
) -> dict[int, list[tuple[str, int]]]:
    """The top ``n`` keys per segment with their noisy distinct-user counts (a DP release).

    ``pairs``: (user_id, key, n) of the published users; ``segment_of``: user -> segment.
    ``distinctive`` ranks by count times log(1 + lift) over all segments (keywords); otherwise
    by count (items). Both rankings are computed from the noisy counts only.
    """
    capped = capped_pairs(pairs, max_keys)
    seg = capped["user_id"].map(segment_of)
    ok = seg.notna()
    keys = seg[ok].astype(int).astype(str) + _SEP + capped.loc[ok, "key"].astype(str)
    counts = keys.value_counts().to_dict()
    noisy = acct.noisy_key_counts(counts, max_keys, eps, delta, min_users, query)
    if not noisy:
        return {}
    split = pd.Series(noisy).rename_axis("k").reset_index(name="c")
    split[["s", "key"]] = split["k"].str.split(_SEP, n=1, expand=True)
    split["s"] = split["s"].astype(int)
    split["score"] = split["c"].astype(float)
    if distinctive:
        share = split["c"] / split.groupby("s")["c"].transform("sum")
        overall = split.groupby("key")["c"].transform("sum") / split["c"].sum()
        lift = share / overall
        split["score"] = split["c"] * np.log1p(lift) * (lift > 1.0)
    out: dict[int, list[tuple[str, int]]] = {}
    for s, g in split[split["score"] > 0].groupby("s"):
        g = g.sort_values(["score", "key"], ascending=[False, True])
        picked: list[tuple[str, int]] = []
        for key, c in zip(g["key"], g["c"], strict=True):
            if len(picked) >= n:
                break
            words = key.split()
            if distinctive and any(key in p.split() or p in words for p, _ in picked):
                continue  # "guitar" after "acoustic guitar", or the reverse
            picked.append((str(key), int(c)))
        out[int(s)] = picked  # type: ignore[call-overload]
    return out


def dp_category_counts(
    acct: Any,
    pairs: pd.DataFrame,
    segment_of: pd.Series,
    categories: list[str],
    seg_ids: list[int],
    *,
    max_keys: int,
    eps: float,
    min_users: int,
    n: int,
) -> dict[int, list[dict[str, Any]]]:
    """Top categories per segment from noisy distinct-user counts over the catalogue's
    categories (a public list, so plain Laplace: no threshold needed for privacy, ``min_users``
    still applies to what is shown). Share and lift come from the noisy counts."""
    if not categories or not seg_ids:
        return {s: [] for s in seg_ids}
    capped = capped_pairs(pairs, max_keys)
    seg = capped["user_id"].map(segment_of)
    ok = seg.notna() & capped["key"].isin(categories)
    table = pd.crosstab(seg[ok].astype(int), capped.loc[ok, "key"])
    table = table.reindex(index=seg_ids, columns=categories, fill_value=0)
    flat = table.to_numpy(float).ravel()
    noisy = acct.noisy_counts(flat, eps, "category counts (distinct users)")
    m = pd.DataFrame(noisy.reshape(table.shape), index=seg_ids, columns=categories)
    glob = m.sum(axis=0) / max(float(m.to_numpy().sum()), 1.0)
    out: dict[int, list[dict[str, Any]]] = {}
    for s in seg_ids:
        row = m.loc[s]
        total = max(float(row.sum()), 1.0)
        share = row / total
        lift = (share / glob.replace(0, np.nan)).fillna(0.0)
        keep = row[row >= min_users].index
        rank = (share[keep] * np.sqrt(lift[keep])).sort_values(ascending=False).index[:n]
        out[s] = [
            {"category": str(c), "share": float(share[c]), "lift": float(lift[c])} for c in rank
        ]
    return out
