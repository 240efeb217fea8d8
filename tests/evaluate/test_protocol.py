"""Protocol v1 and leave-last-out: counts, filters and that no held-out row leaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.evaluate import dedupe_interactions, make_split


def _ds(rows, texts=None) -> Dataset:
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"] = "purchase"
    inter["rating"] = np.nan
    tx = None
    if texts is not None:
        tx = pd.DataFrame(texts, columns=["user_id", "item_id", "timestamp", "text"])
        tx["timestamp"] = tx["timestamp"].astype("Int64")
        tx["kind"] = "review"
    return Dataset(interactions=inter, texts=tx)


def test_dedupe_keeps_earliest_pair_with_file_order_tiebreak() -> None:
    ds = _ds([("u1", "a", 5), ("u1", "a", 3), ("u1", "b", 3), ("u1", "b", 3)])
    d = dedupe_interactions(ds.interactions)
    assert len(d) == 2
    assert d[d.item_id == "a"].timestamp.item() == 3
    assert d[d.item_id == "b"].seq.item() == 2  # the first of two identical rows in file order


def test_v1_split_sizes_and_test_filters() -> None:
    # 20 rows sorted by time: 16 train (first 14 fit (floor(16*0.9)), 2 val), 4 test
    rows = [("u1", f"i{j}", j) for j in range(8)]  # u1 is warm
    rows += [("u2", "i0", 8), ("u3", "i1", 9)]  # u2, u3 cold (one train row each)
    rows += [(f"u{5 + j}", f"i{j}", 10 + j) for j in range(6)]  # never in test
    rows += [("u2", "i5", 16), ("u3", "new_item", 17), ("u4", "i1", 18), ("u1", "i9", 19)]
    sp = make_split(_ds(rows))
    assert (len(sp.fit), len(sp.train)) == (14, 16)
    assert sp.fit.timestamp.max() <= sp.train.timestamp.max()
    # the two validation rows belong to users with no fit history, so none is evaluable
    assert len(sp.val) == 0
    # u3's item is new (dropped); u4 has no train history; u1's i9 is unseen in train
    assert sp.test_users.tolist() == ["u2"]
    assert sp.counts()["n_test_rows_dropped_unseen_item"] == 2
    assert sp.cold_users.tolist() == ["u2"] and len(sp.warm_users) == 0


def test_v1_cold_and_warm_thresholds() -> None:
    rows = [("w", f"i{j}", j) for j in range(3)] + [("c", "i0", 3), ("c", "i1", 4)]
    rows += [(f"x{j}", "i2", 5 + j) for j in range(3)]
    rows += [("w", "i4", 100), ("c", "i2", 101), ("w", "i0b", 102)]
    rows += [("x0", "i4", 99)]
    sp = make_split(_ds(rows), test_frac=0.25)
    counts = sp.train_counts()
    assert counts["c"] == 2 and counts["w"] >= 3
    assert "c" in set(sp.cold_users) and "w" in set(sp.warm_users)


def test_train_dataset_has_no_test_rows_or_later_text() -> None:
    rows = [(f"u{j % 4}", f"i{j % 6}", j) for j in range(40)]
    texts = [
        ("u0", "i0", 1, "early review"),
        ("u1", "i3", 38, "written in the test period"),
        ("u2", None, 39, "late comment without item"),
        ("u3", "i1", None, "undated, on a train pair"),
        ("u3", "i9", None, "undated, on an item never bought"),
    ]
    ds = _ds(rows, texts)
    sp = make_split(ds)
    tr = sp.train_dataset()
    cut = sp.test.timestamp.min() if len(sp.test) else sp.meta["_test_raw"].timestamp.min()
    assert tr.interactions.timestamp.max() <= cut
    assert len(tr.interactions) == len(sp.train)
    kept = set(tr.texts.text.astype(str))
    assert kept == {"early review", "undated, on a train pair"}
    fit = sp.fit_dataset()
    assert len(fit.interactions) == len(sp.fit)
    assert fit.interactions.timestamp.max() <= sp.val.timestamp.min()
    # candidate items of the training period are exactly the items with a train interaction
    assert set(tr.item_ids) == set(sp.train.item_id.astype(str))


def test_llo_holds_out_last_and_previous_per_user() -> None:
    rows = [("a", f"i{j}", 10 * j) for j in range(5)]  # 5 interactions
    rows += [("b", "i0", 1), ("b", "i1", 2)]  # fewer than 3: train only
    rows += [("c", "i2", 3), ("c", "i3", 4), ("c", "i4", 5)]
    rows += [("b", "i4", 0)]  # i4 is also a train item (b has 3 now: b's i1 is test)
    sp = make_split(_ds(rows), "llo")
    test = dict(zip(sp.test.user_id.astype(str), sp.test.item_id.astype(str), strict=True))
    val = dict(zip(sp.val.user_id.astype(str), sp.val.item_id.astype(str), strict=True))
    # b: i4 (t=0), i0, i1 -> test i1, val i0; a: test i4, val i3; c: test i4, val i3
    assert test == {"a": "i4", "b": "i1", "c": "i4"}
    # i3 is held out for a and c and never in the fit period, so only b's val row survives
    assert val == {"b": "i0"}
    assert len(sp.train) == len(rows) - 3 and len(sp.fit) == len(rows) - 6
    # per-user cutoffs: a's texts after its test time would be cut, b keeps everything
    assert sp.cutoff_test["a"] == 40.0


def test_llo_users_with_fewer_than_three_are_train_only() -> None:
    rows = [("a", f"i{j}", j) for j in range(4)] + [("b", "i3", 10), ("b", "i1", 11)]
    sp = make_split(_ds(rows), "llo")
    assert set(sp.test_users) == {"a"}
    assert (sp.train.user_id.astype(str) == "b").sum() == 2


def test_llo_texts_cut_per_user() -> None:
    rows = [("a", f"i{j}", 10 * j) for j in range(4)] + [("b", "i0", 100), ("b", "i1", 200)]
    texts = [("a", "i3", 30, "a's test review"), ("b", "i1", 200, "b's review")]
    tr = make_split(_ds(rows, texts), "llo").train_dataset()
    assert set(tr.texts.text.astype(str)) == {"b's review"}


def test_bad_protocol_and_fractions_are_usage_errors() -> None:
    ds = _ds([("u", "i", 0), ("u", "j", 1), ("v", "i", 2)])
    with pytest.raises(UsageError, match="protocol"):
        make_split(ds, "kfold")
    with pytest.raises(UsageError, match="test_frac"):
        make_split(ds, test_frac=1.5)


@pytest.mark.shared
def test_v1_counts_match_the_reference_run_on_amazon(shared_datasets) -> None:
    # the reference run: 448 test users, 91 of them cold
    from segrec.data import load_dataset

    ds, _ = load_dataset(f"amazon:{shared_datasets / 'amazon2014-musical-instruments-5core'}")
    c = make_split(ds, "v1").counts()
    assert (c["n_test_users"], c["n_cold_users"]) == (448, 91)


def test_earlier_windows_lie_before_validation_and_are_as_wide() -> None:
    # 100 rows, one per time step: fit 72, val 8, test 20 (v1 defaults)
    rows = [(f"u{j % 7}", f"i{j % 11}_{j // 50}", j) for j in range(100)]
    texts = [("u1", None, 60, "written inside window 2"), ("u1", None, 10, "early")]
    sp = make_split(_ds(rows, texts))
    width = len(sp.train) - len(sp.fit)
    wins = sp.earlier_windows(5)
    assert width == 8 and len(wins) == 5
    end = len(sp.fit)
    val_start = sp.meta["_test_raw"].timestamp.min()  # nothing from val or test may enter
    for ds_w, held in wins:
        start = end - width
        assert len(ds_w.interactions) == start
        assert ds_w.interactions.timestamp.max() < held.timestamp.min() if len(held) else True
        assert held.timestamp.between(start, end - 1).all()
        assert held.timestamp.max() < sp.val.timestamp.min() < val_start
        # held rows only for users and items seen before the window
        assert held.user_id.astype(str).isin(ds_w.interactions.user_id.astype(str)).all()
        assert held.item_id.astype(str).isin(set(ds_w.item_ids)).all()
        end = start
    # texts are cut at each window's start
    first_ds = wins[0][0]
    assert set(first_ds.texts.text.astype(str)) == {"written inside window 2", "early"}
    assert set(wins[1][0].texts.text.astype(str)) == {"early"}
    # a window needs at least one window's worth of history before it: 72 // 8 - 1 = 8 at most
    assert len(sp.earlier_windows(50)) == 8
    assert sp.earlier_windows(0) == []


def test_llo_has_no_earlier_windows() -> None:
    rows = [(f"u{j % 3}", f"i{j}", j) for j in range(30)]
    assert make_split(_ds(rows), "llo").earlier_windows(3) == []
