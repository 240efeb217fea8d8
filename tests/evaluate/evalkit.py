"""Small hand-built datasets and a plain popularity recommender for evaluation/report tests.

The popularity recommender here exists so the protocol and pipeline can be tested on their
own; the real recommenders are tested in tests/recommend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.recommend import FitContext, RecLists


class PlainPop:
    """Most popular unseen train items; segment-aware when the context has a segmentation."""

    name = "plainpop"

    def __init__(self, per_segment: bool = False, damp: float = 0.0) -> None:
        self.per_segment = per_segment
        self.damp = damp

    def params(self) -> dict:
        return {"per_segment": self.per_segment, "damp": self.damp}

    def fit(self, ctx: FitContext) -> PlainPop:
        self.m_ = ctx.matrix.tocsr()
        self.items_ = ctx.train.item_ids.to_numpy()
        self.users_ = ctx.train.user_ids
        self.pop_ = np.asarray(self.m_.sum(axis=0)).ravel() + self.damp
        self.seg_pop_: dict[int, np.ndarray] = {}
        self.seg_of_: dict[str, int] = {}
        if self.per_segment and ctx.segmentation is not None:
            s = ctx.segmentation.series()
            codes = self.users_.get_indexer(pd.Index(s.index))
            for lab in np.unique(s.to_numpy()):
                rows = codes[(s.to_numpy() == lab) & (codes >= 0)]
                self.seg_pop_[int(lab)] = np.asarray(self.m_[rows].sum(axis=0)).ravel()
            self.seg_of_ = {str(u): int(v) for u, v in s.items()}
        return self

    def recommend(self, user_ids: Sequence[str], k: int = 10) -> RecLists:
        items, scores = [], []
        for u in user_ids:
            sc = self.pop_.astype(float).copy()
            seg = self.seg_of_.get(str(u))
            if seg is not None:
                sc = self.seg_pop_[seg] + 1e-3 * sc
            sc[self.pop_ - self.damp <= 0] = -np.inf
            c = self.users_.get_indexer([str(u)])[0]
            if c >= 0:
                sc[self.m_.indices[self.m_.indptr[c] : self.m_.indptr[c + 1]]] = -np.inf
            top = np.argsort(-sc, kind="stable")[:k]
            top = top[np.isfinite(sc[top])]
            items.append(self.items_[top])
            scores.append(sc[top])
        return RecLists(pd.Index(list(user_ids), dtype="object"), items, scores, method=self.name)


def planted_dataset(n_users: int = 240, n_items: int = 80, seed: int = 0) -> Dataset:
    """Users in 4 planted groups, each favouring its own quarter of the items, with reviews,
    amounts, user attributes and timestamps spread so a temporal split has test users."""
    rng = np.random.default_rng(seed)
    words = [
        ["tone", "warm", "tube"],
        ["budget", "cheap", "starter"],
        ["strings", "bright", "acoustic"],
        ["drum", "stick", "beat"],
    ]
    rows, texts = [], []
    group = rng.integers(0, 4, n_users)
    for u in range(n_users):
        g = group[u]
        n = int(rng.integers(2, 14))
        pref = np.arange(g * n_items // 4, (g + 1) * n_items // 4)
        pool = np.where(rng.random(n) < 0.8, rng.choice(pref, n), rng.integers(0, n_items, n))
        t0 = int(rng.integers(0, 300))
        for j, it in enumerate(pool):
            ts = t0 + 25 * j + int(rng.integers(0, 20))
            rows.append((f"u{u:03d}", f"i{it:03d}", ts, float(rng.integers(5, 50))))
            texts.append((f"u{u:03d}", f"i{it:03d}", ts, " ".join(rng.choice(words[g], 4))))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "amount"])
    inter["event"] = "purchase"
    inter["rating"] = np.nan
    tx = pd.DataFrame(texts, columns=["user_id", "item_id", "timestamp", "text"])
    tx["kind"] = "review"
    users = pd.DataFrame(
        {
            "user_id": [f"u{u:03d}" for u in range(n_users)],
            "gender": rng.choice(["F", "M"], n_users),
            "age": rng.integers(18, 70, n_users),
        }
    )
    items = pd.DataFrame(
        {
            "item_id": [f"i{i:03d}" for i in range(n_items)],
            "title": [f"item {i}" for i in range(n_items)],
        }
    )
    truth = pd.Series(group, index=[f"u{u:03d}" for u in range(n_users)])
    return Dataset(
        interactions=inter, texts=tx, users=users, items=items, truth=truth, name="planted"
    )


def pop_factories() -> dict:
    """Factories for ``run_evaluation(recommenders=...)`` built on :class:`PlainPop`."""
    return {
        "pop": lambda **p: PlainPop(**p),
        "segment_pop": lambda **p: PlainPop(per_segment=True, **p),
        "hybrid": lambda **p: PlainPop(per_segment=True, **p),
    }
