"""Social popularity: the recommender, the hybrid's friends component, its reason and tuning."""

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.recommend import FitContext, HybridRecommender, get_recommender


def _social_shop(ties: bool = True) -> FitContext:
    """'h0' bought 'z' and has friends a1-a3: all three chose 'x', two chose 'y'. Eight users
    with no ties to h0 made 'pop' the global best seller. 'l0' has no friends."""
    rows = [("h0", "z", 0), ("l0", "z", 1)]
    rows += [(f"a{k}", "x", 10 + k) for k in range(1, 4)]
    rows += [(f"a{k}", "y", 20 + k) for k in range(1, 3)]
    rows += [(f"p{k}", "pop", 30 + k) for k in range(8)]
    rows += [(f"p{k}", "w", 40 + k) for k in range(4)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"] = "purchase"
    social = pd.DataFrame({"src": ["h0", "a2", "h0"], "dst": ["a1", "h0", "a3"]})
    social["kind"] = "friend"
    return FitContext(
        train=Dataset(
            interactions=inter, social=social if ties else social.iloc[:0], name="social-shop"
        )
    )


def test_friends_items_rank_first_then_popularity():
    ctx = _social_shop()
    rec = get_recommender("social").fit(ctx)
    counts = rec.friend_counts(["h0"])[0]
    got = dict(zip(ctx.train.item_ids, counts, strict=True))
    # a directed tie (a2 -> h0) counts both ways
    assert got == {"pop": 0, "w": 0, "x": 3, "y": 2, "z": 0}
    lists = rec.recommend(["h0", "l0"], k=4)
    assert list(lists.items[0]) == ["x", "y", "pop", "w"]
    # no friends: the MostPop list
    assert list(lists.items[1][:2]) == ["pop", "w"]
    assert lists.reasons[0][0] == "chosen by 3 of your friends"
    assert lists.reasons[0][1] == "chosen by 2 of your friends"
    assert lists.reasons[0][2].startswith("popular with shoppers overall")


def test_no_ties_is_a_clear_error():
    with pytest.raises(UsageError, match="no social ties"):
        get_recommender("social").fit(_social_shop(ties=False))


def test_hybrid_friends_component_and_reason():
    ctx = _social_shop()
    only_friends = dict.fromkeys(
        ("personal", "cold_base", "segment", "text", "pop", "recent"), 0.0
    ) | {"social": 1.0}
    h = HybridRecommender(base="pop", cold_weights=only_friends).fit(ctx)
    parts = h.components(["h0", "l0"])
    assert parts.z["social"][0, ctx.train.item_ids.get_loc("x")] > 0
    assert np.allclose(parts.z["social"][1], 0.0)  # no friends: no signal, not a constant bias
    lists = h.recommend(["h0"], k=2)
    assert list(lists.items[0]) == ["x", "y"]
    assert lists.reasons[0] == ["chosen by 3 of your friends", "chosen by 2 of your friends"]
    # without ties the component is all zeros and tuning never tries a friends weight
    h0 = HybridRecommender(base="pop").fit(_social_shop(ties=False))
    assert h0.social_ is None
    assert not h0.components(["h0"]).z["social"].any()


def test_tuning_picks_friends_weight_when_friends_predict_cold_users():
    """Cold users (one purchase each) whose next item is what their friends chose: the cold
    blend must put weight on the friends component, and only then."""
    rng = np.random.default_rng(0)
    rows, ties, val = [], [], []
    items = [f"i{k:02d}" for k in range(30)]
    for g in range(20):  # 20 cold users, each with 3 friends sharing a favourite item
        fav = items[(g * 7) % 30]
        rows.append((f"c{g:02d}", items[(g * 7 + 1) % 30], g))
        for f in range(3):
            friend = f"f{g:02d}{f}"
            ties.append((f"c{g:02d}", friend))
            rows.append((friend, fav, 100 + g))
            rows.append((friend, items[int(rng.integers(30))], 200 + g))
        val.append((f"c{g:02d}", fav))
    for p in range(40):  # popular items unrelated to the cold users' next choices
        rows.append((f"p{p:02d}", items[p % 3 + 27], 300 + p))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"] = "purchase"
    social = pd.DataFrame(ties, columns=["src", "dst"])
    social["kind"] = "friend"
    ctx = FitContext(train=Dataset(interactions=inter, social=social, name="friends-predict"))
    v = pd.DataFrame(val, columns=["user_id", "item_id"])
    h = HybridRecommender(base="pop", min_cold_val=5).tune(
        ctx, v, grid={"w_segment": [0.0], "w_text": [0.0]}
    )
    cw = h.config.cold_weights
    assert cw is not None and cw["social"] > 0
    cold = h.tuning_[h.tuning_.group == "cold"]
    assert set(cold.social) == {0.0, 1.0}
    assert cold[cold.social > 0].objective.max() > cold[cold.social == 0].objective.max()
    assert (cold.n_cold == 20).all()
