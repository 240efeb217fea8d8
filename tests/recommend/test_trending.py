"""Recency-weighted ("trending") popularity: the pop option, the hybrid component, the reason;
and popularity is never explained as similarity."""

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.recommend import FitContext, HybridRecommender, get_recommender
from segrec.recommend._reasons import reason_index
from segrec.recommend._recency import recent_popularity
from segrec.testing._recommenders import tiny_context

DAY = 86400


def _shop(timed: bool = True) -> FitContext:
    """'old' was bought by 6 users 100 days ago; 'new' by 3 users in the last day; 'mid' by 4
    users 50 days ago. One user buys 'new' twice (one count per user and item)."""
    rows = []
    for u in range(6):
        rows.append((f"a{u}", "old", 0))
    for u in range(4):
        rows.append((f"b{u}", "mid", 50 * DAY))
    for u in range(3):
        rows.append((f"c{u}", "new", 100 * DAY - u))
    rows.append(("c0", "new", 100 * DAY))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    if not timed:
        inter["timestamp"] = 0
    inter["event"] = "purchase"
    return FitContext(train=Dataset(interactions=inter, name="trend"))


def _ranking(scores: np.ndarray, ctx: FitContext) -> list[str]:
    return [str(ctx.train.item_ids[i]) for i in np.argsort(-scores, kind="stable")]


def test_plain_counts_without_half_life_or_time():
    ctx = _shop()
    counts = recent_popularity(ctx, None)
    assert dict(zip(ctx.train.item_ids, counts, strict=True)) == {"mid": 4, "new": 3, "old": 6}
    untimed = _shop(timed=False)
    np.testing.assert_array_equal(recent_popularity(untimed, 0.05), [4, 3, 6])


def test_recent_items_outrank_older_bigger_ones():
    ctx = _shop()
    w = recent_popularity(ctx, 0.1)
    assert _ranking(w, ctx) == ["new", "mid", "old"]
    assert w.sum() == pytest.approx(13)  # rescaled to the number of (user, item) pairs
    # a long half-life brings back the all-time order
    assert _ranking(recent_popularity(ctx, 100.0), ctx) == ["old", "mid", "new"]


def test_pop_half_life_option_ranks_by_trend():
    ctx = _shop()
    classic = get_recommender("pop").fit(ctx).recommend(["zz"], k=3)
    trending = get_recommender("pop", half_life=0.1).fit(ctx).recommend(["zz"], k=3)
    assert list(classic.items[0]) == ["old", "mid", "new"]
    assert list(trending.items[0]) == ["new", "mid", "old"]
    assert classic.reasons[0][0] == "popular with shoppers overall (6 buyers)"
    assert trending.reasons[0][0] == "trending: 3 buyers in the last 10 days"


def test_trending_reason_counts_recent_buyers():
    ctx = _shop()
    idx = reason_index(ctx)
    assert idx.explain("a0", "new", "trending") == "trending: 3 buyers in the last 10 days"
    # nobody bought 'old' lately: the reason falls back to overall popularity
    assert idx.explain("c0", "old", "trending").startswith("popular with shoppers overall")


@pytest.mark.filterwarnings("ignore::segrec.diagnostics.FallbackWarning")
def test_hybrid_recent_component_moves_cold_users_to_trending_items():
    ctx = _shop()
    h = HybridRecommender(
        base="pop",
        w_segment=0.0,
        w_text=0.0,
        cold_shift=0.0,
        cold_weights={"recent": 1.0},
    ).fit(ctx)
    lists = h.recommend(["a0"], k=2)  # one old purchase: a cold user
    assert list(lists.items[0]) == ["new", "mid"]
    assert lists.reasons[0][0].startswith("trending: 3 buyers")


def test_similar_never_names_an_item_nobody_chose_beside_it():
    # in this shop nobody who bought 'old' bought anything else: a latent model's pick of
    # 'new' for a0 has no history item to point at
    idx = reason_index(_shop())
    assert idx.explain("a0", "new", "similar") == "chosen by people with tastes like yours"
    assert "you bought" not in idx.explain("a0", "mid", "similar")
    # an unknown user has no history and no taste: the item's popularity is the reason
    assert idx.explain("zz", "new", "similar").startswith("popular with shoppers overall")


def test_a_popularity_base_is_explained_as_popularity():
    ctx = tiny_context(n_users=60, seed=3)
    users = [str(u) for u in ctx.train.user_ids[:20]]
    pop = HybridRecommender(base="pop", w_segment=0.0, w_text=0.0, cold_shift=0.0)
    knn = HybridRecommender(base="itemknn", w_segment=0.0, w_text=0.0, cold_shift=0.0)
    pop_reasons = [r for rs in pop.fit(ctx).recommend(users, k=5).reasons for r in rs]
    knn_reasons = [r for rs in knn.fit(ctx).recommend(users, k=5).reasons for r in rs]
    assert not any("you bought" in r or "tastes like yours" in r for r in pop_reasons)
    assert all(r.startswith("popular with shoppers overall") for r in pop_reasons)
    assert sum("you bought" in r for r in knn_reasons) > len(knn_reasons) / 2
