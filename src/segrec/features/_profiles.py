"""Per-user text profiles: pooled review vectors, and item-text profiles for silent users.

Everything here uses only the dataset it is given: pass the training-period dataset
(``split.train_dataset()``) so that no text from the test period leaks into a profile.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.features._text_profiler import (
    Pooling,
    TextProfiler,
    TextProfiles,
    pool_by_user,
    user_text_profiles,
)

__all__ = [
    "Pooling",
    "TextProfiler",
    "TextProfiles",
    "item_embeddings",
    "item_texts",
    "pool_by_user",
    "user_text_profiles",
]


def item_texts(ds: Dataset) -> pd.Series:
    """One text per item: title, categories and description (from ``attrs``) when present."""
    it = ds.items
    if it.empty:
        return pd.Series(dtype="string", name="text")
    parts = [it["title"].fillna("").astype(str)]
    cats = it["categories"].fillna("").astype(str).str.replace("|", ", ", regex=False)
    parts.append(cats)
    if "description" in it:
        parts.append(it["description"].fillna("").astype(str))
    txt = parts[0]
    for p in parts[1:]:
        txt = txt.str.cat(p, sep=". ")
    txt = txt.str.strip(" .")
    out = pd.Series(txt.to_numpy(), index=it["item_id"].astype(str), name="text")
    return out[out.str.len() > 0]


def item_embeddings(ds: Dataset, embedder: Any) -> pd.DataFrame:
    """Vectors of :func:`item_texts` (index item_id), for content-based recommendation.

    ``embedder`` is a :class:`~segrec.features.TextEmbedder` (cached, so this costs nothing
    the second time).
    """
    texts = item_texts(ds)
    if texts.empty:
        return pd.DataFrame(index=pd.Index([], name="item_id"))
    vecs = embedder.encode(texts.tolist())
    return pd.DataFrame(vecs, index=pd.Index(texts.index, name="item_id"))


def item_review_vectors(ds: Dataset, text_vectors: np.ndarray) -> pd.DataFrame:
    """The mean vector of the texts written about each item (index item_id; items nobody wrote
    about are absent), in the space of the users' review profiles, so content-based scores
    compare what a user wrote with what people wrote about an item."""
    texts = ds.texts
    if len(text_vectors) != len(texts):
        raise ValueError(f"{len(text_vectors)} vectors for {len(texts)} texts")
    ok = texts["item_id"].notna().to_numpy()
    if not ok.any():
        return pd.DataFrame(index=pd.Index([], name="item_id"))
    codes, items = pd.factorize(texts["item_id"].astype(str).to_numpy()[ok])
    prof, has = pool_by_user(codes, text_vectors[ok], len(items))
    return pd.DataFrame(prof[has], index=pd.Index(np.asarray(items)[has], name="item_id"))
