"""Per-segment material for the report: the 2-D user map and the segment cards."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from segrec.data import Dataset, item_labels, text_noun
from segrec.evaluate import EvalResult
from segrec.segment import Segmentation

__all__ = ["segment_cards", "user_map"]


def _fused_matrix(result: EvalResult, users: pd.Index) -> tuple[pd.Index, np.ndarray] | None:
    art = result.artifacts
    if art is None:
        return None
    if art.features is not None:
        try:
            from segrec.features import FeatureFusion

            x = FeatureFusion().fit_transform(art.features)
            return pd.Index(art.features.user_ids), np.asarray(x, dtype=float)
        except ImportError:
            pass
    if art.behavior_x is None:
        from segrec.evaluate import behavior_svd

        art.behavior_users, art.behavior_x = behavior_svd(art.dataset)
    assert art.behavior_users is not None
    return art.behavior_users, art.behavior_x


def user_map(
    result: EvalResult, seg: Segmentation, max_points: int = 3000, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray] | None:
    """2-D PCA of the fused user features (behaviour SVD when there are no features), for at
    most ``max_points`` users; returns (xy, segment labels) or ``None``."""
    from sklearn.decomposition import PCA

    got = _fused_matrix(result, seg.user_ids)
    if got is None:
        return None
    users, x = got
    lab = seg.series().reindex(users)
    ok = lab.notna().to_numpy()
    x, labels = x[ok], lab[ok].astype(int).to_numpy()
    if len(x) < 3:
        return None
    rng = np.random.default_rng(random_state)
    if len(x) > max_points:
        idx = np.sort(rng.choice(len(x), max_points, replace=False))
        x, labels = x[idx], labels[idx]
    xy = PCA(2, random_state=random_state).fit_transform(x)
    return xy, labels


def _top_items(ds: Dataset, members: pd.Index, labels: pd.Series, n: int = 5) -> list[str]:
    inter = ds.interactions
    sub = inter[inter.user_id.astype(str).isin(set(members)).to_numpy()]
    top = sub.item_id.astype(str).value_counts().head(n)
    return [
        f"{labels.get(str(i), str(i))} ({c})"
        for i, c in zip(top.index.to_numpy(), top.to_numpy(), strict=True)
    ]


def _reviews(ds: Dataset, seg: Segmentation, s: int, n: int = 2) -> list[str]:
    texts = ds.texts
    if len(texts) == 0:
        return []
    ser = seg.series()
    strength = pd.Series(seg.strength, index=seg.user_ids)
    members = strength[ser == s].sort_values(ascending=False)
    t = texts[texts.user_id.astype(str).isin(set(members.index[:50])).to_numpy()]
    t = t[t.text.str.len().between(40, 400).fillna(False).to_numpy()]
    return [html.unescape(str(x)) for x in t.text.head(n)]  # '&#34;' in Amazon's texts


def _keywords(ds: Dataset, seg: Segmentation, n: int = 8) -> dict[int, list[str]]:
    texts = ds.texts
    if len(texts) == 0:
        return {}
    from sklearn.feature_extraction.text import TfidfVectorizer

    ser = seg.series()
    lab = ser.reindex(texts.user_id.astype(str)).to_numpy()
    ok = ~pd.isna(lab)
    docs: dict[int, str] = {}
    for s in np.unique(lab[ok].astype(int)):
        sel = ok.copy()
        sel[ok] = lab[ok].astype(int) == s
        docs[int(s)] = " ".join(texts.text[sel].astype(str).head(3000))
    if not docs:
        return {}
    vec = TfidfVectorizer(stop_words="english", max_features=20000, sublinear_tf=True)
    m = vec.fit_transform(list(docs.values()))
    vocab = np.array(vec.get_feature_names_out())
    return {s: list(vocab[np.argsort(-m[i].toarray().ravel())[:n]]) for i, s in enumerate(docs)}


def segment_cards(
    result: EvalResult, seg: Segmentation, profiles: Mapping[int, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One card per segment: name, size, keywords, representative reviews, rules, top items.

    ``profiles`` (segment id -> {"name", "keywords", "reviews", "rules", "rules_note"}, e.g. from
    :mod:`segrec.describe`) overrides what is computed here from the training data.
    """
    assert result.artifacts is not None
    ds = result.artifacts.dataset
    kw = _keywords(ds, seg)
    labels = item_labels(ds)
    texts_are = text_noun(ds)
    ser = seg.series()
    cards = []
    sizes = seg.sizes()
    for s_raw, size in zip(sizes.index.to_numpy(), sizes.to_numpy(), strict=True):
        s = int(s_raw)
        prof = dict((profiles or {}).get(s, {}))
        members = pd.Index(ser.index[ser.to_numpy() == s])
        cards.append(
            {
                "segment": s,
                "name": prof.get("name") or seg.names.get(s) or f"Segment {s}",
                "size": int(size),
                # a profile's lists are what privacy let through: never refill them here
                "keywords": list(prof["keywords"] if "keywords" in prof else kw.get(s, [])),
                "reviews": list(prof["reviews"] if "reviews" in prof else _reviews(ds, seg, s)),
                "reviews_are": texts_are,
                "rules": list(prof.get("rules") or []),
                "rules_note": prof.get("rules_note"),
                "top_items": list(prof["top_items"])
                if "top_items" in prof
                else _top_items(ds, members, labels),
            }
        )
    return cards
