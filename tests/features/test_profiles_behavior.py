"""Per-user pooling, behaviour/RFM features and classic RFM segments on hand-built data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.features import (
    BehaviorFeaturizer,
    item_texts,
    rfm_scores,
    rfm_segments,
    rfm_table,
    user_text_profiles,
)

DAY = 86400


def _unit(v):
    return v / np.linalg.norm(v)


def test_mean_recency_rating_pooling(tiny_ds):
    vecs = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)  # u1: old 5-star, recent 1-star
    mean = user_text_profiles(tiny_ds, vecs, "mean")
    rec = user_text_profiles(tiny_ds, vecs, "recency", half_life_days=5)
    rat = user_text_profiles(tiny_ds, vecs, "rating")
    u1 = tiny_ds.user_ids.get_loc("u1")
    np.testing.assert_allclose(mean.vectors[u1], _unit(np.array([0.5, 0.5])), rtol=1e-6)
    # half-life 5 days, 10 days apart: weights 0.25 vs 1
    np.testing.assert_allclose(rec.vectors[u1], _unit(np.array([0.25, 1.0])), rtol=1e-6)
    # ratings 5 and 1 -> weights 5 and 1 (shifted so the lowest rating counts 1)
    np.testing.assert_allclose(rat.vectors[u1], _unit(np.array([5.0, 1.0])), rtol=1e-6)


def test_silent_users_missing_or_from_items(tiny_ds):
    vecs = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    prof = user_text_profiles(tiny_ds, vecs)
    assert list(prof.source) == ["reviews", "missing", "missing"]
    items = pd.DataFrame([[0.0, 1.0], [1.0, 1.0]], index=["i1", "i2"])
    prof = user_text_profiles(tiny_ds, vecs, item_vectors=items)
    assert list(prof.source) == ["reviews", "items", "missing"]
    np.testing.assert_allclose(prof.vectors[1], [0.0, 1.0])  # u2 consumed only i1
    assert not prof.has_text[1] and prof.missing[2]


def test_item_texts_join_title_and_categories(tiny_ds):
    t = item_texts(tiny_ds)
    assert t["i1"] == "Bright guitar strings. guitars, strings"
    assert t["i3"] == "guitars"


def test_rfm_raw_values(tiny_ds):
    raw, basis = rfm_table(tiny_ds)
    assert basis == "amount"
    now = 30 * DAY
    assert raw.loc["u1", "frequency"] == 3
    assert raw.loc["u1", "recency_days"] == 0
    assert raw.loc["u3", "recency_days"] == (now - 5 * DAY) / DAY
    assert raw.loc["u1", "monetary"] == 60.0
    assert raw.loc["u3", "monetary"] == 0.0  # unknown amount, no price for i9


def test_monetary_basis_falls_back_to_rating():
    inter = pd.DataFrame(
        {
            "user_id": ["a", "a", "b"],
            "item_id": ["x", "y", "x"],
            "timestamp": [0, 1, 2],
            "event": "rating",
            "rating": [4.0, 2.0, 5.0],
        }
    )
    raw, basis = rfm_table(Dataset(interactions=inter))
    assert basis == "rating"
    assert raw.loc["a", "monetary"] == 6.0


def test_rfm_scores_and_named_segments():
    rng = np.random.default_rng(0)
    n = 200
    users = [f"u{i:03d}" for i in range(n)]
    freq = rng.integers(1, 30, n)
    last = rng.integers(0, 365, n)
    rows = []
    for u, f, t in zip(users, freq, last, strict=True):
        rows += [(u, f"i{j}", int(t) * DAY - j, 10.0) for j in range(f)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "amount"])
    inter["event"] = "purchase"
    s = rfm_scores(Dataset(interactions=inter))
    assert s.attrs["monetary_basis"] == "amount"
    assert set(s["R"]) <= set(range(1, 6)) and set(s["F"]) <= set(range(1, 6))
    # more recent -> higher R; more frequent -> higher F (monotone)
    by_last = pd.Series(last, index=users)
    assert s["R"].groupby(by_last.reindex(s.index)).mean().is_monotonic_increasing
    seg = rfm_segments(s)
    assert (seg != "Unscored").all()
    manual = pd.DataFrame({"R": [5, 1, 1, 4, 5, 3], "F": [5, 1, 5, 1, 1, 3]})
    assert list(rfm_segments(manual)) == [
        "Champions",
        "Hibernating",
        "Can't Lose Them",
        "Promising",
        "New Customers",
        "Need Attention",
    ]


def test_behavior_features_named_and_complete(tiny_ds):
    f, missing, _basis = BehaviorFeaturizer(n_categories=3).fit_transform(tiny_ds)
    assert list(f.index) == ["u1", "u2", "u3"] and not missing.any()
    assert np.isfinite(f.to_numpy()).all()
    assert f.loc["u1", "span_days"] == 30 and f.loc["u1", "max_gap_days"] == 20
    assert f.loc["u1", "rating_mean"] == 3.0 and f.loc["u1", "n_ratings"] == 2
    assert f.loc["u1", "cat:guitars"] == 2 / 3  # i1 and i3 of 3 interactions
    # price percentiles of items 10, 20, 30 -> 1/3, 2/3, 1: u1 bought all three
    assert abs(f.loc["u1", "price_level"] - 2 / 3) < 1e-9
    assert f.loc["u2", "price_level"] == 1 / 3
