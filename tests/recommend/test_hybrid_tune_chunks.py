"""The hybrid's tuning set built in user chunks is the one-block set, value for value.

Without user text every component is computed row by row, so chunks change nothing at all.
The text components (content, peers) are matrix products whose last bits depend on the block
shape BLAS picks; :func:`~segrec.recommend._hybrid_tune.tune_rows` keeps the published datasets'
validation sets in one block, and the chunked values agree to float32 precision.
"""

import dataclasses
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.recommend import HybridRecommender
from segrec.recommend import _hybrid_tune as ht
from segrec.recommend._shared import shared_cache
from segrec.testing._recommenders import tiny_context

ONE_BLOCK, CHUNKS = 10**9, 1  # cells per chunk: every user at once, 16 users per chunk


@pytest.fixture(scope="module")
def texted():
    return tiny_context(n_users=90, seed=4)


@pytest.fixture(scope="module")
def ctx(texted):
    """The same shop without user text (no content or peers component)."""
    ds = texted.train
    plain = Dataset(interactions=ds.interactions, items=ds.items, name="tiny-plain")
    return dataclasses.replace(texted, train=plain, _matrix=None, cache={})


def _held(ctx, seed: int) -> pd.DataFrame:
    """Two unseen items per user."""
    rng = np.random.default_rng(seed)
    m = ctx.matrix
    rows = []
    for r, u in enumerate(ctx.train.user_ids):
        seen = set(m.indices[m.indptr[r] : m.indptr[r + 1]])
        pool = [i for c, i in enumerate(ctx.train.item_ids) if c not in seen]
        rows += [(str(u), str(i)) for i in rng.choice(pool, size=2, replace=False)]
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


def _hybrid(ctx) -> HybridRecommender:
    # a shortlist of 3 items per component cuts the 40-item catalogue (3 x 8 < 40)
    return HybridRecommender(base_params={"l2": 5.0}, tune_shortlist=3, cold_max=4, min_cold_val=1)


def _eval_set(h, held, cells, monkeypatch):
    monkeypatch.setattr(ht, "BATCH_CELLS", cells)
    ev = h._eval_set(held, 5)
    assert ev is not None
    return ev


def test_chunked_tuning_set_equals_one_block(ctx, monkeypatch):
    held = _held(ctx, 0)
    h = _hybrid(ctx).fit(ctx)
    ids, parts, mask, rel = _eval_set(h, held, ONE_BLOCK, monkeypatch)
    ids_c, parts_c, mask_c, rel_c = _eval_set(h, held, CHUNKS, monkeypatch)
    assert ht.tune_rows(len(h.item_ids_)) == 16 and len(ids) > 5 * 16  # six chunks
    assert ids_c == ids and mask.shape[1] < len(h.item_ids_)  # the shortlist cuts
    assert np.array_equal(mask_c, mask) and np.array_equal(parts_c.n, parts.n)
    assert list(parts_c.z) == list(parts.z)
    for name, v in parts.z.items():
        assert np.array_equal(parts_c.z[name], v), name
    assert np.array_equal(rel_c[0], rel[0]) and np.array_equal(rel_c[1], rel[1])
    assert rel[0].any() and not np.isfinite(mask).all()


def test_which_components_count_is_decided_over_all_users(ctx, monkeypatch):
    """A component constant within one chunk but not over all users still joins that chunk's
    shortlist, as it does in one block."""
    h = _hybrid(ctx).fit(ctx)
    real = HybridRecommender.components

    def flat_first_chunk(self, ids):
        parts = real(self, ids)
        parts.z["segment"][np.array([u < "u16" for u in ids])] = 0.0
        return parts

    monkeypatch.setattr(HybridRecommender, "components", flat_first_chunk)
    held = _held(ctx, 1)
    whole = _eval_set(h, held, ONE_BLOCK, monkeypatch)
    chunked = _eval_set(h, held, CHUNKS, monkeypatch)
    assert np.ptp(chunked[1].z["segment"][:16]) == 0 < np.ptp(chunked[1].z["segment"])
    assert np.array_equal(whole[2], chunked[2])
    for name, v in whole[1].z.items():
        assert np.array_equal(chunked[1].z[name], v), name


def _tuned(ctx, held, cells, monkeypatch) -> HybridRecommender:
    monkeypatch.setattr(ht, "BATCH_CELLS", cells)
    shared_cache(ctx.train).clear()  # each run fits its own personal model
    grid = {"w_segment": [0.0, 1.0], "w_pop": [0.0, 0.5], "cold_shift": [0.0, 2.0]}
    half = set(ctx.train.user_ids[:45])
    window = (ctx, held[held.user_id.isin(half)])
    return _hybrid(ctx).tune(ctx, held, grid=grid, k=5, windows=[window])


def test_chunked_tuning_picks_the_same_weights_and_ndcg(ctx, monkeypatch):
    held = _held(ctx, 2)
    one = _tuned(ctx, held, ONE_BLOCK, monkeypatch)
    many = _tuned(ctx, held, CHUNKS, monkeypatch)
    assert one.config == many.config
    assert {"warm", "cold"} <= set(one.tuning_.group)
    assert one.tuning_.objective.notna().all() and one.tuning_.objective.max() > 0
    pd.testing.assert_frame_equal(one.tuning_, many.tuning_, check_exact=True)


def test_text_products_agree_to_float32_precision(texted, monkeypatch):
    held = _held(texted, 3)
    h = _hybrid(texted).fit(texted)
    whole = _eval_set(h, held, ONE_BLOCK, monkeypatch)
    chunked = _eval_set(h, held, CHUNKS, monkeypatch)
    assert whole[0] == chunked[0] and whole[2].shape == chunked[2].shape
    ids = whole[0]
    parts = h.components(ids)
    assert np.ptp(parts.z["text"]) > 0 and np.ptp(parts.z["peers"]) > 0
    blocks = [h.components(ids[s : s + 16]) for s in range(0, len(ids), 16)]
    for name, v in parts.z.items():
        got = np.concatenate([b.z[name] for b in blocks]) if v.shape[0] > 1 else blocks[0].z[name]
        np.testing.assert_allclose(got, v, rtol=1e-5, atol=1e-5)


def test_leading_sum_adds_exactly_as_the_plain_sum():
    """The weight search reuses the sum of the components its outer loops fix: same values."""
    import itertools

    from segrec.recommend._hybrid import (
        _WARM_LEAD,
        DEFAULT_HYBRID_GRID,
        LeadingSum,
        _lead_key,
        _weighted_sum,
    )

    rng = np.random.default_rng(0)
    names = ["personal", "cold_base", "segment", "text", "pop", "recent", "social", "peers"]
    z = {c: rng.normal(size=(30, 50)).astype(np.float32) for c in names}
    z["pop"] = rng.normal(size=(1, 50)).astype(np.float32)
    parts = ht.Parts(z, rng.integers(0, 6, 30).astype(np.float32))
    lead, grid = LeadingSum(), DEFAULT_HYBRID_GRID
    for combo in itertools.product(*grid.values()):
        w = dict(zip(grid, combo, strict=True))
        weights = HybridRecommender._weights(parts.n, w)
        got = lead.weighted_sum(parts, weights, _WARM_LEAD, _lead_key(w))
        assert np.array_equal(got, _weighted_sum(parts, weights)), w


def test_a_scored_block_computes_its_components_once_for_scores_and_reasons(texted, monkeypatch):
    """Publishing lists with reasons: a block of rows reuses its scoring's components for its
    reasons (they were computed twice), with the same lists and reasons, and does not keep them."""
    from segrec.recommend._hybrid import MEMO_ROWS
    from segrec.recommend._rows import UserRows

    model = HybridRecommender(w_social=0.5, cold_weights=None).fit(texted)
    users = [str(u) for u in texted.train.user_ids]
    assert len(users) > MEMO_ROWS
    want = model.recommend(users, k=5)  # scores and reasons computed apart
    calls = []
    inner = HybridRecommender._components_rows

    def counted(self, rows):
        calls.append(len(rows))
        return inner(self, rows)

    monkeypatch.setattr(HybridRecommender, "_components_rows", counted)
    got = model.recommend_rows(UserRows.known(model, users), k=5)
    assert calls == [len(users)]
    assert model._memo is None and model._memo_rows == MEMO_ROWS
    assert [list(x) for x in got.items] == [list(x) for x in want.items]
    assert got.reasons == want.reasons
    for a, b in zip(got.scores, want.scores, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cells", [ONE_BLOCK, CHUNKS])
def test_segment_free_tops_are_shared_between_segmentations(texted, cells, monkeypatch):
    """A hybrid on another segmentation of the same training data (the evaluation's
    ``hybrid:<segmentation>`` rows) takes the shortlist tops of every component but the segment
    prior from the first one's, and builds the same tuning set as with nothing shared."""
    from segrec.segment import Segmentation

    shared_cache(texted.train).clear()
    seg = texted.segmentation
    other = Segmentation(
        user_ids=seg.user_ids,
        labels=(np.asarray(seg.labels) + np.arange(len(seg.labels))) % 4,
        strength=np.ones(len(seg.labels)),
        method="other",
    )
    ctx2 = dataclasses.replace(texted, segmentation=other, cache={})
    held = _held(texted, 5)
    computed = []
    top_columns = ht.top_columns

    def counted(v, size):
        computed.append(len(v))
        return top_columns(v, size)

    monkeypatch.setattr(ht, "top_columns", counted)
    first = _hybrid(texted).fit(texted)
    _eval_set(first, held, cells, monkeypatch)
    n_first = len(computed)
    second = _hybrid(ctx2).fit(ctx2)
    assert second._tops is first._tops and len(first._tops) > 0
    got = _eval_set(second, held, cells, monkeypatch)
    n_blocks = -(-len(got[0]) // ht.tune_rows(len(second.item_ids_))) if cells == CHUNKS else 1
    assert len(computed) - n_first == n_blocks  # per block, the segment prior's top alone
    assert n_first >= 5 * n_blocks  # personal, segment, text, pop, recent, peers: computed
    alone = _hybrid(ctx2).fit(ctx2)
    alone._tops = None
    want = _eval_set(alone, held, cells, monkeypatch)
    assert got[0] == want[0]
    assert np.array_equal(got[2], want[2]) and np.array_equal(got[3].mat, want[3].mat)
    for name, v in want[1].z.items():
        assert np.array_equal(got[1].z[name], v), name
    first_z = _eval_set(first, held, cells, monkeypatch)[1].z["segment"]
    assert first_z.shape != want[1].z["segment"].shape or not np.array_equal(
        first_z, want[1].z["segment"]
    )  # the segmentations do differ
