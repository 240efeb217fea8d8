"""Behaviour beyond the contract: planted structure is recovered, filters and tuning work."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest

from segrec.diagnostics import UsageError
from segrec.recommend import (
    EASERecommender,
    HybridRecommender,
    SegmentPopRecommender,
    SegmentStrategyRecommender,
    get_recommender,
    top_k,
)
from segrec.testing._recommenders import tiny_context


def _group_share(recs, users) -> float:
    """Share of recommended items from the user's planted group (item index % 3)."""
    hits = [
        int(i[1:]) % 3 == int(u[1:]) % 3
        for u, it in zip(users, recs.items, strict=True)
        for i in it
    ]
    return float(np.mean(hits))


@pytest.fixture(scope="module")
def ctx():
    return tiny_context(n_users=90, seed=1)


def test_top_k_breaks_ties_by_lower_index():
    s = np.array([[1.0, 3.0, 3.0, -np.inf, 3.0]])
    idx, sc = top_k(s, 2)
    assert idx[0].tolist() == [1, 2] and sc[0].tolist() == [3.0, 3.0]
    idx, _ = top_k(s, 10)
    assert idx[0].tolist() == [1, 2, 4, 0]  # -inf dropped


@pytest.mark.parametrize("name", ["segment_pop", "ease", "content", "itemknn"])
def test_models_recover_planted_groups(ctx, name):
    users = [str(u) for u in ctx.train.user_ids]
    recs = get_recommender(name).fit(ctx).recommend(users, k=3, reasons=False)
    assert _group_share(recs, users) > 0.6  # chance is 1/3


def test_segment_pop_unknown_user_in_segmentation_gets_segment_list(ctx):
    from dataclasses import replace

    seg = ctx.segmentation
    ids = pd.Index([*seg.user_ids, "newbie"], dtype="object")
    seg2 = replace(
        seg, user_ids=ids, labels=np.append(seg.labels, 2), strength=np.append(seg.strength, 1.0)
    )
    ctx2 = replace(ctx, segmentation=seg2, cache={})
    rec = SegmentPopRecommender(shrinkage=0.0).fit(ctx2)
    items = rec.recommend(["newbie"], k=5).items[0]
    assert all(int(i[1:]) % 3 == 2 for i in items)
    assert "Pedal fans" in rec.recommend(["newbie"], k=1).reasons[0][0]


def test_strategy_price_tier_filter(ctx):
    rec = SegmentStrategyRecommender(
        segments={
            0: {"model": "pop", "price_tier": "premium"},
            1: {"model": "pop", "price_tier": "budget"},
        }
    ).fit(ctx)
    users = [str(u) for u in ctx.train.user_ids]
    recs = rec.recommend(users, k=3, reasons=False)
    prices = ctx.train.items.set_index(ctx.train.items.item_id.astype(str)).price
    lo, hi = rec.tier_edges_
    for u, it in zip(users, recs.items, strict=True):
        if int(u[1:]) % 3 == 0:
            assert (prices[it] > hi).all()
        elif int(u[1:]) % 3 == 1:
            assert (prices[it] <= lo).all()


def test_strategy_rejects_unknown_model():
    with pytest.raises(UsageError, match="unknown"):
        SegmentStrategyRecommender(default={"model": "nope"}).fit(tiny_context())


def test_unknown_name_and_bad_params():
    with pytest.raises(UsageError, match="expected one of"):
        get_recommender("nope")
    with pytest.raises(UsageError, match="l2"):
        get_recommender("ease", l2=-1.0)


def test_ease_max_items_restricts_model(ctx):
    rec = EASERecommender(max_items=10).fit(ctx)
    assert rec.params()["n_modelled_items"] == 10
    s = rec.score([str(ctx.train.user_ids[0])])[0]
    rest = np.setdiff1d(np.flatnonzero(rec.candidates_), rec.modelled_)
    assert s[rest].max() < s[rec.modelled_].min()


def test_hybrid_tune_on_validation_and_cold_weight(ctx):
    df = ctx.train.interactions
    last = df.sort_values("timestamp").groupby(df.user_id.astype(str), observed=True).tail(1)
    val = pd.DataFrame({"user_id": last.user_id.astype(str), "item_id": last.item_id.astype(str)})
    grid = {
        "w_segment": [0.0, 1.0],
        "w_text": [0.0, 0.5],
        "cold_shift": [0.0, 5.0],
        "cold_mix": [1.0],
    }
    h = HybridRecommender(base_params={"l2": 5.0}).tune(ctx, val, grid=grid)
    assert len(h.tuning_) == 8
    best = h.tuning_.objective.max()
    chosen = h.tuning_[
        (h.tuning_.w_segment == h.config.w_segment)
        & (h.tuning_.w_text == h.config.w_text)
        & (h.tuning_.cold_shift == h.config.cold_shift)
    ]
    assert chosen.objective.iloc[0] == best
    w = HybridRecommender._weights(
        np.array([0.0, 1.0, 50.0]),
        {"cold_shift": 5.0, "cold_mix": 1.0, "w_segment": 0.0, "w_text": 0.0},
    )
    wp, ws = w["personal"], w["segment"]
    assert wp[0, 0] == 0.0 and wp[1, 0] < wp[2, 0] and ws[0, 0] > ws[2, 0]


def test_reasons_kinds(ctx):
    u = str(ctx.train.user_ids[0])
    knn = get_recommender("itemknn").fit(ctx).recommend([u], k=3)
    assert all("you bought" in r for r in knn.reasons[0])
    seg = get_recommender("segment_pop").fit(ctx).recommend([u], k=2)
    assert all(r == "popular with Tone seekers" for r in seg.reasons[0])
    txt = get_recommender("content").fit(ctx).recommend([u], k=3)
    assert any("wrote about" in r for r in txt.reasons[0])


def test_bad_params_name_field_value_and_known_keys():
    with pytest.raises(UsageError, match=r"l2=-1\.0: Input should be greater"):
        get_recommender("ease", l2=-1.0)
    with pytest.raises(UsageError, match=r"unknown setting 'lambda' \(known: .*l2"):
        get_recommender("ease", **{"lambda": 3.0})


def test_strategy_tune_gives_a_segment_its_own_model_and_carries_it_to_new_ids(ctx):
    from dataclasses import replace

    from segrec.recommend import PopRecommender

    users = [str(u) for u in ctx.train.user_ids]
    group = {u: int(u[1:]) % 3 for u in users}
    # held out: groups 0 and 1 choose an unseen item of their own group (the segment's list
    # finds it); group 2 chooses the globally most popular unseen item (popularity finds it)
    own = SegmentPopRecommender(shrinkage=0.0).fit(ctx).recommend(users, k=1, reasons=False)
    top = PopRecommender().fit(ctx).recommend(users, k=1, reasons=False)
    val = pd.DataFrame(
        {
            "user_id": users,
            "item_id": [
                (t if group[u] == 2 else o)[0]
                for u, o, t in zip(users, own.items, top.items, strict=True)
            ],
        }
    )
    rec = SegmentStrategyRecommender(
        candidates=[{"model": "segment_pop", "params": {"shrinkage": 0.0}}, {"model": "pop"}],
        min_val_users=10,
    ).tune(ctx, val, k=5)
    # popularity wins over all users (it is perfect on group 2 and fair on group 0), so it is
    # the default; groups 0 and 1 gain more than 10% with their segment's list
    sp = "segment_pop(shrinkage=0.0)"
    assert rec.params()["chosen"] == {"-1": "pop()", "0": sp, "1": sp}
    table = rec.tuning_.set_index(["segment", "candidate"])["val_ndcg@5"]
    assert table[(2, "pop()")] == pytest.approx(1.0)
    assert table[(1, sp)] > 1.1 * table[(1, "pop()")]

    # refit on a segmentation whose ids changed: groups 0, 1, 2 now carry ids 5, 6, 7
    seg = ctx.segmentation
    relabelled = replace(seg, labels=np.array([{0: 5, 1: 6, 2: 7}[int(x)] for x in seg.labels]))
    rec.fit(replace(ctx, segmentation=relabelled, cache={}))
    assert rec.params()["chosen"] == {"-1": "pop()", "5": sp, "6": sp}
    g1 = [u for u in users if group[u] == 1]
    got = rec.recommend(g1, k=3, reasons=False).items
    want = SegmentPopRecommender(shrinkage=0.0).fit(ctx).recommend(g1, k=3, reasons=False).items
    assert all(a.tolist() == b.tolist() for a, b in zip(got, want, strict=True))


def test_strategy_gives_no_own_rule_where_the_default_is_best(ctx):
    users = [str(u) for u in ctx.train.user_ids]
    own = SegmentPopRecommender(shrinkage=0.0).fit(ctx).recommend(users, k=1, reasons=False)
    val = pd.DataFrame({"user_id": users, "item_id": [o[0] for o in own.items]})
    rec = SegmentStrategyRecommender(
        candidates=[{"model": "pop"}, {"model": "segment_pop", "params": {"shrinkage": 0.0}}],
        min_val_users=10,
    ).tune(ctx, val, k=5)
    assert rec.params()["chosen"] == {"-1": "segment_pop(shrinkage=0.0)"}


def test_strategy_tune_without_validation_users_keeps_its_rules(ctx):
    val = pd.DataFrame({"user_id": ["nobody"], "item_id": ["i00"]})
    rec = SegmentStrategyRecommender(candidates=[{"model": "pop"}]).tune(ctx, val)
    assert rec.tuning_.empty and "chosen" not in rec.params()
    assert rec.params()["default"]["model"] == "segment_pop"
    assert len(rec.recommend(["u00"], k=3, reasons=False).items[0]) == 3


def test_content_without_any_text_is_a_clear_error_and_the_hybrid_does_without(ctx):
    # FilmTrust: no reviews, no titles, no categories; its content lists used to be tie order
    silent = ctx.train.replace(
        texts=ctx.train.texts.iloc[:0], items=ctx.train.items[["item_id", "price"]]
    )
    from segrec.recommend import FitContext

    bare = FitContext(train=silent, segmentation=ctx.segmentation)
    with pytest.raises(UsageError, match=r"recommender 'content': no item .* has text"):
        get_recommender("content").fit(bare)
    h = HybridRecommender(base="pop").fit(bare)
    assert h.content_ is None
    users = [str(u) for u in silent.user_ids[:5]]
    assert np.allclose(h.components(users).z["text"], 0.0)
    assert all(len(x) == 3 for x in h.recommend(users, k=3).items)
