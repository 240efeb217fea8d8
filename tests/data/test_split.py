"""Temporal and leave-last-out splits: proportions, time order, texts, cold/warm slices."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segrec.data import Dataset, Split, leave_last_out, temporal_split
from segrec.data.synthetic import generate
from segrec.diagnostics import UsageError


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return generate(users=1500, seed=3)


def _key(df: pd.DataFrame) -> np.ndarray:
    """(timestamp, seq) as one sortable complex-free key: timestamp * big + seq."""
    return df.timestamp.to_numpy().astype(object) * 10**12 + df.seq.to_numpy().astype(object)


def _tiny() -> Dataset:
    """Four users, hand-made: timestamps tie across the cut, undated and dated texts."""
    rows = [
        # user, item, ts
        ("a", "x", 1), ("a", "y", 2), ("a", "z", 3), ("a", "x", 9),
        ("b", "x", 2), ("b", "y", 5), ("b", "z", 5), ("b", "y", 5),
        ("c", "z", 7), ("c", "x", 8),
        ("d", "y", 4),
    ]  # fmt: skip
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"] = "view"
    texts = pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "c", "c", "d"],
            "item_id": ["x", "y", "y", "x", "z", "y"],
            "timestamp": pd.array([1, 9, None, None, 8, 4], dtype="Int64"),
            "text": ["early", "late", "undated b-y", "undated c-x", "c-z dated 8", "d dated"],
            "kind": "review",
        }
    )
    return Dataset(interactions=inter, texts=texts)


def test_temporal_proportions_and_order(shop: Dataset) -> None:
    sp = temporal_split(shop)
    n = len(shop.interactions)
    s = sp.stats()
    assert s["n_test"] == round(0.2 * n)
    assert s["n_val"] == round(0.1 * s["n_train"])
    assert s["n_fit"] + s["n_val"] == s["n_train"] and s["n_train"] + s["n_test"] == n
    idx = [set(p.index) for p in (sp.fit, sp.val, sp.test)]
    assert not (idx[0] & idx[1]) and not (idx[0] & idx[2]) and not (idx[1] & idx[2])
    assert set().union(*idx) == set(range(n))
    # global time order: no test row before any train row, no val row before any fit row
    assert _key(sp.train).max() < _key(sp.test).min()
    assert _key(sp.fit).max() < _key(sp.val).min()
    assert sp.train.timestamp.max() <= sp.train_cutoff <= sp.test.timestamp.min()
    assert sp.fit.timestamp.max() <= sp.fit_cutoff <= sp.val.timestamp.min()


def test_temporal_deterministic(shop: Dataset) -> None:
    a, b = temporal_split(shop), temporal_split(shop)
    pd.testing.assert_frame_equal(a.test, b.test)
    pd.testing.assert_frame_equal(a.fit, b.fit)
    assert a.stats() == b.stats()


def test_tied_timestamps_split_by_seq() -> None:
    ds = _tiny()
    sp = temporal_split(ds, test_frac=0.3, val_frac=0.0)
    # 11 rows, 3 test rows: the last three by (timestamp, seq)
    order = ds.interactions.sort_values(["timestamp", "seq"])
    assert list(sp.test.index) == list(order.index[-3:])
    assert len(sp.val) == 0
    same = pd.DataFrame({"user_id": ["u"] * 5, "item_id": list("abcde"), "timestamp": 7})
    sp2 = temporal_split(Dataset(interactions=same), test_frac=0.4, val_frac=0.0)
    assert sp2.test.seq.tolist() == [3, 4] and sp2.train_cutoff == 7  # one timestamp straddles


def test_train_dataset_texts_restricted(shop: Dataset) -> None:
    sp = temporal_split(shop)
    tr = sp.train_dataset()
    assert len(tr.interactions) == len(sp.train)
    assert tr.texts.timestamp.max() < sp.train_cutoff
    # nothing written before the cutoff was dropped
    before = shop.texts[shop.texts.timestamp < sp.train_cutoff]
    assert len(tr.texts) == len(before) > 0
    fd = sp.fit_dataset()
    assert len(fd.interactions) == len(sp.fit)
    assert fd.texts.timestamp.max() < sp.fit_cutoff
    # ids and codes stay put, so models fitted on a period line up with the full dataset
    assert tr.user_ids.equals(shop.user_ids) and tr.item_ids.equals(shop.item_ids)
    assert len(tr.social) == len(shop.social) and tr.truth.equals(shop.truth)


def test_undated_texts_follow_kept_pairs() -> None:
    ds = _tiny()
    sp = temporal_split(ds, test_frac=0.3, val_frac=0.0)
    kept = set(sp.train_dataset().texts.text)
    # train rows end at ts=5 (b's rows), test holds c@7, c@8, a@9
    assert "early" in kept and "d dated" in kept and "undated b-y" in kept
    assert "late" not in kept and "c-z dated 8" not in kept
    assert "undated c-x" not in kept  # c bought x only in the test period


def test_cold_and_warm_users(shop: Dataset) -> None:
    for sp in (temporal_split(shop), temporal_split(shop, cold_threshold=5)):
        n_train = sp.train.user_id.astype(str).value_counts()
        test_u = set(sp.test.user_id.astype(str))
        expect = sorted(u for u in test_u if n_train.get(u, 0) > 0)
        assert list(sp.test_users) == expect
        assert all(n_train[u] <= sp.cold_threshold for u in sp.cold_users)
        assert all(n_train[u] > sp.cold_threshold for u in sp.warm_users)
        assert len(sp.cold_users) + len(sp.warm_users) == len(sp.test_users)
        assert set(sp.new_test_users) == test_u - set(n_train.index)
        assert len(sp.cold_users) > 0 and len(sp.warm_users) > 0


def test_leave_last_out(shop: Dataset) -> None:
    sp = leave_last_out(shop)
    assert isinstance(sp, Split) and sp.method == "leave_last_out"
    inter = shop.interactions
    size = inter.user_id.astype(str).value_counts()
    eligible = set(size[size >= 3].index)
    assert set(sp.test.user_id.astype(str)) == eligible
    assert sp.test.user_id.astype(str).is_unique and sp.val.user_id.astype(str).is_unique
    ordered = inter.assign(u=inter.user_id.astype(str)).sort_values(["u", "timestamp", "seq"])
    last = ordered.groupby("u").tail(1).set_index("u")
    second = ordered.groupby("u").nth(-2).set_index("u")
    got = sp.test.assign(u=sp.test.user_id.astype(str)).set_index("u")
    assert (got.seq == last.seq.reindex(got.index)).all()
    gv = sp.val.assign(u=sp.val.user_id.astype(str)).set_index("u")
    assert (gv.seq == second.seq.reindex(gv.index)).all()
    assert len(sp.train) + len(sp.test) == len(inter)
    assert sp.cold_users.size + sp.warm_users.size == len(eligible)
    tr = sp.train_dataset()  # per user: no text written at or after the held-out interaction
    t = tr.texts.assign(u=tr.texts.user_id.astype(str))
    limit = got.timestamp.reindex(t.u).to_numpy(dtype=float)
    assert (np.isnan(limit) | (t.timestamp.to_numpy(dtype=float) < limit)).all()


def test_leave_last_out_small_users_train_only() -> None:
    sp = leave_last_out(_tiny())
    assert set(sp.test.user_id.astype(str)) == {"a", "b"}  # c has 2 rows, d has 1
    assert set(sp.train.user_id.astype(str)) == {"a", "b", "c", "d"}
    assert sp.stats()["n_test"] == 2 and sp.stats()["train_cutoff"] is None


def test_leave_last_item_out(shop: Dataset) -> None:
    sp = leave_last_out(shop, by_item=True)
    inter = shop.interactions.assign(
        u=lambda d: d.user_id.astype(str), i=lambda d: d.item_id.astype(str)
    )
    first = inter.sort_values(["timestamp", "seq"]).drop_duplicates(["u", "i"])
    n_items = first.u.value_counts()
    last_item = first.groupby("u").tail(1).set_index("u").i
    test = sp.test.assign(u=sp.test.user_id.astype(str), i=sp.test.item_id.astype(str))
    assert set(test.u) == set(n_items[n_items >= 3].index)
    assert (test.groupby("u").i.nunique() == 1).all()
    assert (test.groupby("u").i.first() == last_item.reindex(test.u.unique())).all()
    # every row of a held-out item is held out: no train row shares a (user, item) with test
    train_pairs = set(zip(sp.train.user_id.astype(str), sp.train.item_id.astype(str), strict=True))
    assert not train_pairs & set(zip(test.u, test.i, strict=True))
    val_pairs = set(zip(sp.val.user_id.astype(str), sp.val.item_id.astype(str), strict=True))
    assert not val_pairs & set(
        zip(sp.fit.user_id.astype(str), sp.fit.item_id.astype(str), strict=True)
    )
    assert len(sp.fit) + len(sp.val) + len(sp.test) == len(inter)


def test_bad_fractions() -> None:
    with pytest.raises(UsageError, match="test_frac"):
        temporal_split(_tiny(), test_frac=1.0)
    with pytest.raises(UsageError, match="val_frac"):
        temporal_split(_tiny(), val_frac=-0.1)


@settings(max_examples=40, deadline=None)
@given(
    ts=st.lists(st.integers(0, 20), min_size=2, max_size=60),
    test_frac=st.floats(0.0, 0.9),
    val_frac=st.floats(0.0, 0.9),
)
def test_temporal_invariants(ts: list[int], test_frac: float, val_frac: float) -> None:
    n = len(ts)
    inter = pd.DataFrame(
        {
            "user_id": [f"u{i % 4}" for i in range(n)],
            "item_id": [f"i{i % 7}" for i in range(n)],
            "timestamp": ts,
        }
    )
    sp = temporal_split(Dataset(interactions=inter), test_frac=test_frac, val_frac=val_frac)
    assert len(sp.fit) + len(sp.val) + len(sp.test) == n
    if len(sp.test) and len(sp.train):
        assert _key(sp.train).max() < _key(sp.test).min()
        assert sp.train.timestamp.max() <= sp.train_cutoff <= sp.test.timestamp.min()
    if len(sp.val) and len(sp.fit):
        assert _key(sp.fit).max() < _key(sp.val).min()
