"""A hand-built planted-partition world: groups of users with their own items, words and friends."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.features import UserFeatures

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def planted_world(
    groups: int = 6,
    per_group: int = 50,
    seed: int = 0,
    p_text: float = 0.2,
    p_item: float = 0.6,
    p_tie: float = 0.8,
    silent: float = 0.1,
) -> Dataset:
    """``groups`` personas; each user buys items (``p_item`` from the group's own items), writes
    reviews whose words are ``p_text`` from the group vocabulary and otherwise shared noise, and
    has friends, ``p_tie`` of them inside the group. ``silent`` of users write nothing."""
    rng = np.random.default_rng(seed)
    n = groups * per_group
    group = np.repeat(np.arange(groups), per_group)
    users = [f"u{i:04d}" for i in range(n)]
    items_per = 30
    inter, texts, social = [], [], []
    vocab = {g: [f"g{g}w{j}" for j in range(40)] for g in range(groups)}
    noise = [f"common{j}" for j in range(300)]
    for i, u in enumerate(users):
        g = group[i]
        for t in range(8):
            own = rng.random() < p_item
            gi = g if own else rng.integers(groups)
            item = f"i{gi}_{rng.integers(items_per):02d}"
            inter.append((u, item, 1_000_000 + 1000 * i + t, "purchase", 1.0))
        if rng.random() >= silent:
            for _ in range(3):
                words = [
                    rng.choice(vocab[g]) if rng.random() < p_text else rng.choice(noise)
                    for _ in range(12)
                ]
                texts.append((u, " ".join(words)))
        for _ in range(2):
            same = rng.random() < p_tie
            pool = np.flatnonzero(group == g) if same else np.arange(n)
            j = int(rng.choice(pool))
            if j != i:
                social.append((u, users[j], "friend", 1.0))
    di = pd.DataFrame(inter, columns=["user_id", "item_id", "timestamp", "event", "weight"])
    di["rating"] = np.nan
    di["amount"] = 10.0
    dt = pd.DataFrame(texts, columns=["user_id", "text"])
    dt["kind"] = "review"
    ds_ = pd.DataFrame(social, columns=["src", "dst", "kind", "weight"])
    truth = pd.Series(group, index=users, name="truth")
    return Dataset(interactions=di, texts=dt, social=ds_, truth=truth, name="planted")


def text_features(ds: Dataset, dim: int = 32, seed: int = 0) -> UserFeatures:
    """TF-IDF + TruncatedSVD of each user's concatenated texts (missing for silent users)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = ds.texts.groupby(ds.texts.user_id.astype(str))["text"].agg(" ".join)
    docs = docs.reindex(ds.user_ids).fillna("")
    tf = TfidfVectorizer().fit_transform(docs.astype(str).tolist())
    z = TruncatedSVD(dim, random_state=seed).fit_transform(tf).astype(np.float32)
    missing = (docs.str.len() == 0).to_numpy()
    return UserFeatures(ds.user_ids, {"text": z}, {"text": missing})
