"""Contract tests every recommender passes; a model's test is a three-line subclass::

class TestEASE(RecommenderContract):
    name = "ease"
    params = {"l2": 10.0}
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.recommend._base import FitContext
from segrec.segment import Segmentation

__all__ = ["RecommenderContract", "tiny_context"]

_WORDS = [
    ["tone", "warm", "amp", "tube"],
    ["strings", "bright", "acoustic", "nickel"],
    ["pedal", "fuzz", "distortion", "noise"],
]


def tiny_context(n_users: int = 60, n_items: int = 40, seed: int = 0) -> FitContext:
    """A small shop with three planted groups of users and items (group g prefers items of
    group g and writes about group g's words), item prices by group, and the true groups as the
    segmentation. Item ``i39`` is never interacted with (it must never be recommended)."""
    rng = np.random.default_rng(seed)
    rows, texts = [], []
    for u in range(n_users):
        g = u % 3
        n = int(rng.integers(1, 9))
        own = [i for i in range(n_items - 1) if i % 3 == g]
        other = [i for i in range(n_items - 1) if i % 3 != g]
        picks = set(rng.choice(own, size=min(n, len(own)), replace=False).tolist())
        if rng.random() < 0.5:
            picks.add(int(rng.choice(other)))
        for j, i in enumerate(sorted(picks)):
            rows.append((f"u{u:02d}", f"i{i:02d}", 1000 * u + j))
        if u % 4 != 3:  # a quarter of users wrote nothing
            words = rng.choice(_WORDS[g], size=3).tolist()
            texts.append((f"u{u:02d}", f"i{sorted(picks)[0]:02d}", " ".join(words)))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"], inter["rating"], inter["amount"] = "purchase", np.nan, 10.0
    tx = pd.DataFrame(texts, columns=["user_id", "item_id", "text"])
    tx["timestamp"], tx["kind"] = 0, "review"
    items = pd.DataFrame(
        {
            "item_id": [f"i{i:02d}" for i in range(n_items)],
            "title": [f"Item {i} {_WORDS[i % 3][0]}" for i in range(n_items)],
            "categories": [f"cat{i % 3}" for i in range(n_items)],
            "price": [10.0 * (1 + i % 3) + i * 0.1 for i in range(n_items)],
        }
    )
    ds = Dataset(interactions=inter, texts=tx, items=items, name="tiny")
    users = ds.user_ids
    labels = np.array([int(u[1:]) % 3 for u in users])
    seg = Segmentation(
        user_ids=users,
        labels=labels,
        strength=np.ones(len(users)),
        method="truth",
        names={0: "Tone seekers", 1: "String buyers", 2: "Pedal fans"},
    )
    return FitContext(train=ds, segmentation=seg, segment_names=dict(seg.names), random_state=0)


class RecommenderContract:
    """Subclass and set ``name`` (registry name) and optionally ``params``."""

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Any]] = {}
    k: ClassVar[int] = 5

    @pytest.fixture(scope="class")
    @classmethod
    def ctx(cls) -> FitContext:
        return tiny_context()

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, ctx: FitContext) -> Any:
        from segrec.recommend import get_recommender

        return get_recommender(cls.name, **cls.params).fit(ctx)

    def _users(self, ctx: FitContext) -> list[str]:
        return [str(u) for u in ctx.train.user_ids[:20]]

    def test_k_items_per_user(self, fitted: Any, ctx: FitContext) -> None:
        recs = fitted.recommend(self._users(ctx), k=self.k)
        assert len(recs) == 20
        assert all(len(it) == self.k for it in recs.items)
        assert all(len(set(it.tolist())) == self.k for it in recs.items)

    def test_excludes_train_items(self, fitted: Any, ctx: FitContext) -> None:
        df = ctx.train.interactions
        seen = df.groupby(df.user_id.astype(str)).item_id.agg(lambda s: set(s.astype(str)))
        recs = fitted.recommend(self._users(ctx), k=self.k)
        for u, it in zip(recs.user_ids, recs.items, strict=True):
            assert not (set(it.tolist()) & seen[u])

    def test_scores_non_increasing(self, fitted: Any, ctx: FitContext) -> None:
        recs = fitted.recommend(self._users(ctx), k=self.k)
        for s in recs.scores:
            assert np.all(np.diff(s) <= 1e-6)

    def test_items_are_train_items(self, fitted: Any, ctx: FitContext) -> None:
        train_items = set(ctx.train.interactions.item_id.astype(str))
        recs = fitted.recommend([*self._users(ctx), "nobody"], k=self.k)
        for it in recs.items:
            assert set(it.tolist()) <= train_items
            assert "i39" not in set(it.tolist())

    def test_unknown_user_gets_fallback(self, fitted: Any) -> None:
        recs = fitted.recommend(["nobody", "nobody-else"], k=self.k)
        assert [len(it) for it in recs.items] == [self.k, self.k]

    def test_reasons_one_per_item(self, fitted: Any, ctx: FitContext) -> None:
        recs = fitted.recommend(self._users(ctx)[:5], k=self.k)
        assert recs.reasons is not None
        for it, why in zip(recs.items, recs.reasons, strict=True):
            assert len(why) == len(it)
            assert all(isinstance(w, str) and 0 < len(w) <= 100 for w in why)

    def test_deterministic_with_seed(self, ctx: FitContext) -> None:
        from segrec.recommend import get_recommender

        users = self._users(ctx)
        a = get_recommender(self.name, **self.params).fit(ctx).recommend(users, k=self.k)
        b = get_recommender(self.name, **self.params).fit(ctx).recommend(users, k=self.k)
        for x, y in zip(a.items, b.items, strict=True):
            assert x.tolist() == y.tolist()

    def test_state_round_trip_without_pickle(
        self, fitted: Any, ctx: FitContext, tmp_path: Any
    ) -> None:
        import json

        from segrec.recommend import recommender_from_state, recommender_to_state

        meta, arrays = recommender_to_state(fitted)
        (tmp_path / "model.json").write_text(json.dumps(meta))
        np.savez(tmp_path / "arrays.npz", **arrays)  # type: ignore[arg-type]
        with np.load(tmp_path / "arrays.npz", allow_pickle=False) as z:
            loaded = recommender_from_state(
                json.loads((tmp_path / "model.json").read_text()), {k: z[k] for k in z.files}
            )
        users = [*self._users(ctx), "nobody"]
        a, b = fitted.recommend(users, k=self.k), loaded.recommend(users, k=self.k)
        assert [x.tolist() for x in a.items] == [x.tolist() for x in b.items]
        assert a.reasons == b.reasons
        for x, y in zip(a.scores, b.scores, strict=True):
            np.testing.assert_array_equal(x, y)

    def test_known_rows_recommend_as_recommend(self, fitted: Any, ctx: FitContext) -> None:
        from segrec.recommend import UserRows

        users = [*self._users(ctx), "nobody"]
        a = fitted.recommend(users, k=self.k)
        b = fitted.recommend_rows(UserRows.known(fitted, users), k=self.k)
        assert [x.tolist() for x in a.items] == [x.tolist() for x in b.items]
        assert a.reasons == b.reasons

    def test_new_rows_never_get_their_history(self, fitted: Any, ctx: FitContext) -> None:
        from segrec.recommend import UserRows

        events = [["i00", "i03", "i06"], ["i01"], []]
        rows = UserRows.new(fitted, ["n0", "n1", "n2"], events, texts=[["warm tube amp"], [], []])
        recs = fitted.recommend_rows(rows, k=self.k)
        for it, ev in zip(recs.items, events, strict=True):
            assert len(it) == self.k and not set(it.tolist()) & set(ev)
            assert "i39" not in set(it.tolist())
        assert recs.reasons is not None and all(len(w) == self.k for w in recs.reasons)
