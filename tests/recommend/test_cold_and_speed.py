"""Cold-user blend of the hybrid, the cheaper LightGCN schedule and the float32 EASE solve."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest

from segrec.recommend import EASERecommender, HybridRecommender, get_recommender
from segrec.recommend._hybrid import COLD_KEYS
from segrec.recommend._shared import shared_cache
from segrec.testing._recommenders import tiny_context


@pytest.fixture(scope="module")
def ctx():
    return tiny_context(n_users=90, seed=2)


def _val(ctx) -> pd.DataFrame:
    """One unseen item of the user's planted group (item index % 3 == user index % 3)."""
    rows = []
    m = ctx.matrix
    for r, u in enumerate(ctx.train.user_ids):
        seen = set(m.indices[m.indptr[r] : m.indptr[r + 1]])
        for c, i in enumerate(ctx.train.item_ids):
            if c not in seen and int(i[1:]) % 3 == int(u[1:]) % 3:
                rows.append((str(u), str(i)))
                break
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


def test_split_tuning_learns_separate_cold_weights(ctx):
    h = HybridRecommender(base_params={"l2": 5.0}, cold_max=4, min_cold_val=1)
    h.tune(ctx, _val(ctx), grid={"w_segment": [0.0, 1.0], "cold_shift": [0.0]})
    groups = set(h.tuning_.group)
    n = h.n_history_[h.user_codes([str(u) for u in ctx.train.user_ids])]
    if (n <= 4).any() and (n > 4).any():
        assert groups == {"warm", "cold"}
        cw = h.config.cold_weights
        assert cw is not None and set(cw) == set(COLD_KEYS) and any(cw.values())
        cold = h.tuning_[h.tuning_.group == "cold"]
        assert cold.objective.max() > cold.objective.min()  # the weights matter on this data
        assert cold.objective.max() == pytest.approx(
            cold[np.logical_and.reduce([cold[c] == cw[c] for c in COLD_KEYS])].objective.iloc[0]
        )
        # without a cold base model the cold base weight is never tried
        assert set(cold.cold_base) == {0.0}
    else:  # pragma: no cover - depends on the tiny data's history lengths
        assert groups == {"all"}


def test_cold_weights_score_cold_users_with_their_own_blend(ctx):
    users = [str(u) for u in ctx.train.user_ids]
    pop_only = {"personal": 0.0, "cold_base": 0.0, "segment": 0.0, "text": 0.0, "pop": 1.0}
    h = HybridRecommender(base_params={"l2": 5.0}, cold_max=10**6, cold_weights=pop_only).fit(ctx)
    s = h.score(users[:5])
    # every user counts as cold: scores are the popularity z-scores, identical across users
    assert np.allclose(s, s[0][None, :])
    order = np.argsort(-s[0][h.candidates_])
    pop = h.popularity_[h.candidates_]
    assert pop[order[0]] == pop.max()
    # no cold user: the cold weights change nothing
    h0 = HybridRecommender(base_params={"l2": 5.0}, cold_max=0, cold_weights=pop_only).fit(ctx)
    h1 = HybridRecommender(base_params={"l2": 5.0}, cold_max=0).fit(ctx)
    assert np.allclose(h0.score(users[:5]), h1.score(users[:5]))


def test_cold_base_model_is_fitted_and_shared(ctx):
    h = HybridRecommender(base="pop", cold_base="itemknn", cold_base_params={}).fit(ctx)
    assert h.cold_model_ is not None and h.cold_model_.name == "itemknn"
    assert any(k.startswith("base:itemknn") for k in shared_cache(ctx.train))
    parts = h.components([str(ctx.train.user_ids[0])])
    zp, zc = parts.z["personal"], parts.z["cold_base"]
    assert not np.allclose(zp, zc)
    recs = h.recommend([str(ctx.train.user_ids[0])], k=3)
    assert len(recs.items[0]) == 3 and recs.reasons is not None


def test_lightgcn_caps_steps_per_epoch(ctx):
    n = ctx.matrix.nnz
    rec = get_recommender("lightgcn", epochs=2, batch_size=16, max_steps_per_epoch=2, dim=8)
    rec.fit(ctx)
    sch = rec.params()["schedule"]
    assert sch["batch_size"] == -(-n // 2) and sch["steps"] == 4
    assert sch["learning_rate"] == pytest.approx(0.005 * np.sqrt(sch["batch_size"] / 16))
    plain = get_recommender("lightgcn", epochs=1, batch_size=16, max_steps_per_epoch=None, dim=8)
    assert plain.fit(ctx).params()["schedule"]["batch_size"] == 16


def test_ease_float32_ranks_like_float64(ctx):
    users = [str(u) for u in ctx.train.user_ids[:20]]
    a = EASERecommender(l2=10.0, dtype="float32").fit(ctx).recommend(users, k=5, reasons=False)
    b = EASERecommender(l2=10.0, dtype="float64").fit(ctx).recommend(users, k=5, reasons=False)
    same = np.mean([len(set(x) & set(y)) / 5 for x, y in zip(a.items, b.items, strict=True)])
    assert same >= 0.95


def test_ease_weights_are_row_major_for_the_sparse_product(ctx):
    """Scoring is ``history @ weights`` (sparse @ dense): scipy reads the dense side row-major,
    so column-major weights (what LAPACK's inverse leaves) were copied whole on every call:
    at 6,000 modelled items, 144 MB and 50 ms per scoring chunk."""
    rec = EASERecommender(l2=10.0).fit(ctx)
    assert rec.weights_.flags.c_contiguous


def test_lightgcn_refit_starts_from_the_previous_embeddings(ctx):
    rec = get_recommender("lightgcn", epochs=3, refit_epochs=1, dim=8)
    rec.fit(ctx)
    first = rec.params()["schedule"]
    assert first["epochs"] == 3 and first["warm_started_rows"] == 0
    before = rec.emb0_.copy()
    rec.fit(ctx)  # same period: every user and item starts where the last fit ended
    second = rec.params()["schedule"]
    assert second["epochs"] == 1
    assert second["warm_started_rows"] == len(ctx.train.user_ids) + len(ctx.train.item_ids)
    # one epoch from the previous solution stays close to it (a fresh start would not)
    fresh = get_recommender("lightgcn", epochs=1, dim=8, random_state=5).fit(ctx).emb0_
    assert np.abs(rec.emb0_ - before).mean() < np.abs(fresh - before).mean()
    scratch = get_recommender("lightgcn", epochs=1, refit_epochs=None, dim=8)
    scratch.fit(ctx)
    assert scratch.fit(ctx).params()["schedule"]["warm_started_rows"] == 0


def test_tuning_shortlist_scores_like_the_whole_catalogue():
    """Tuning ranks each user's shortlist (union of every component's top items): on
    components that share a signal, each blend's NDCG is the full-catalogue NDCG."""
    from segrec.recommend._hybrid import Parts, _cold_blend, _ndcg, _relevance, _shortlist

    rng = np.random.default_rng(0)
    n_users, n_items, k = 40, 3000, 10
    taste = rng.normal(size=(n_users, n_items)).astype(np.float32)
    z = {c: 2 * taste + rng.normal(size=taste.shape).astype(np.float32) for c in COLD_KEYS[:4]}
    z["pop"] = rng.normal(size=(1, n_items)).astype(np.float32)
    parts = Parts(z, np.full(n_users, 5))
    mask = np.zeros((n_users, n_items), np.float32)
    mask[:, :50] = -np.inf  # seen
    # each user's three best unseen items by taste, plus one item of no taste (off the list)
    best = np.argsort(-(taste + mask), axis=1)[:, :3]
    off = np.argsort(taste + mask, axis=1)[:, 60]
    rel = [set(best[u].tolist()) | {int(off[u])} for u in range(n_users)]
    sub_parts, sub_mask, sub_rel = _shortlist(parts, mask, rel, k, 100)
    assert sub_mask.shape == (n_users, 500) and sub_parts.z["pop"].shape == (n_users, 500)
    assert not np.isfinite(sub_mask).all()  # repeats masked out
    for w in ({"personal": 1.0}, {"segment": 0.5, "pop": 1.0}, {"text": 1.0, "cold_base": 0.2}):
        full = _ndcg(_cold_blend(parts, w) + mask, _relevance(rel, n_items, k), k)
        short = _ndcg(_cold_blend(sub_parts, w) + sub_mask, sub_rel, k)
        assert full.sum() > 0 and np.array_equal(full, short)
    # a catalogue the shortlist would cover is left whole
    small = Parts({c: v[:, :300] for c, v in z.items()}, parts.n)
    same, _, _ = _shortlist(small, mask[:, :300], [{51}] * n_users, k, 100)
    assert same is small
