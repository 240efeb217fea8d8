"""Text neighbours: the recommender, its reason, both text sources, the hybrid's component."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.recommend import FitContext, HybridRecommender, get_recommender
from segrec.testing._recommenders import tiny_context


@pytest.fixture(scope="module")
def ctx() -> FitContext:
    return tiny_context(n_users=90, seed=3)


def _own_share(users: list[str], items: list[np.ndarray]) -> float:
    """Share of recommended items from the user's own planted group (item i, user u: i % 3)."""
    hits = [
        int(i[1:]) % 3 == int(u[1:]) % 3 for u, its in zip(users, items, strict=True) for i in its
    ]
    return float(np.mean(hits))


def _writers(ctx: FitContext) -> tuple[list[str], list[str]]:
    wrote = set(ctx.train.texts.user_id.astype(str))
    users = [str(u) for u in ctx.train.user_ids]
    return [u for u in users if u in wrote], [u for u in users if u not in wrote]


def test_writers_get_the_items_of_people_who_write_alike(ctx):
    # the three planted groups write their own words and buy their own items
    rec = get_recommender("textknn", neighbours=20).fit(ctx)
    writers, silent = _writers(ctx)
    lists = rec.recommend(writers, k=5)
    own = _own_share(writers, lists.items)
    assert own > 0.9
    # a control without the text signal: popularity is far less group-specific
    pop = get_recommender("pop").fit(ctx).recommend(writers, k=5)
    own_pop = _own_share(writers, pop.items)
    assert own > own_pop + 0.3
    # a user who wrote nothing has no neighbours: the MostPop order of unseen items
    quiet = silent[0]
    assert rec.neighbours(rec.user_codes([quiet])).nnz == 0
    mostpop = get_recommender("pop").fit(ctx).recommend([quiet], k=3).items[0]
    assert list(rec.recommend([quiet], k=3).items[0]) == list(mostpop)


def test_reason_counts_the_neighbours_who_chose_the_item(ctx):
    rec = get_recommender("textknn", neighbours=10).fit(ctx)
    writers, _ = _writers(ctx)
    lists = rec.recommend(writers[:5], k=3)
    for u, its, reasons in zip(writers[:5], lists.items, lists.reasons, strict=True):
        for item, reason in zip(its, reasons, strict=True):
            n = rec.count(u, item)
            assert 1 <= n <= 10
            want = "one person who writes" if n == 1 else f"{n} people who write"
            assert reason.startswith(f"chosen by {want} like you")


def test_features_text_block_is_used_when_the_context_has_one(ctx):
    from segrec.features import TextEmbedder, build_user_features

    feats = build_user_features(ctx.train, TextEmbedder(backend="tfidf-svd", use_cache=False))
    with_feats = dataclasses.replace(ctx, features=feats, cache={})
    rec = get_recommender("textknn", neighbours=20).fit(with_feats)
    writers, _ = _writers(ctx)
    lists = rec.recommend(writers, k=5)
    own = _own_share(writers, lists.items)
    assert own > 0.9


def test_no_text_is_a_clear_error():
    inter = pd.DataFrame(
        {"user_id": ["a", "b"], "item_id": ["x", "y"], "timestamp": [0, 1], "event": "view"}
    )
    with pytest.raises(UsageError, match="user-written text"):
        get_recommender("textknn").fit(FitContext(train=Dataset(interactions=inter)))


def test_hybrid_peers_component_and_cold_grid(ctx):
    only_peers = dict.fromkeys(
        ("personal", "cold_base", "segment", "text", "pop", "recent", "social"), 0.0
    ) | {"peers": 1.0}
    h = HybridRecommender(base="pop", cold_max=10**6, cold_weights=only_peers).fit(ctx)
    writers, silent = _writers(ctx)
    parts = h.components(writers[:3] + silent[:1])
    assert parts.z["peers"][:3].std(axis=1).min() > 0
    assert np.allclose(parts.z["peers"][3], 0.0)  # no text: no signal, not a constant bias
    lists = h.recommend(writers[:3], k=3)
    alone = get_recommender("textknn").fit(ctx).recommend(writers[:3], k=3)
    assert [list(x) for x in lists.items] == [list(x) for x in alone.items]
    assert all(r.startswith("chosen by") for rs in lists.reasons for r in rs)
