"""Cleaning: planted duplicates, planted bots, k-core; every step reports what it removed."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest

from segrec.data import BotConfig, CleanConfig, Dataset, clean
from segrec.data.synthetic import generate

_DAY = 86_400


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return generate(users=600, seed=5)


def _plant(ds: Dataset, n_dup: int = 40) -> tuple[Dataset, list[str]]:
    """Add ``n_dup`` exact duplicate rows, a burst bot and a slow-but-endless bot."""
    inter = ds.interactions.copy()
    for c in ("user_id", "item_id"):
        inter[c] = inter[c].astype(str)
    dups = inter.sample(n_dup, random_state=1).copy()
    t0 = int(inter.timestamp.min())
    items = ds.item_ids.to_numpy()
    burst = pd.DataFrame(  # 3,000 clicks within one day
        {
            "user_id": "zz_burst",
            "item_id": items[np.arange(3000) % len(items)],
            "timestamp": t0 + np.arange(3000) * 20,
            "event": "click",
        }
    )
    endless = pd.DataFrame(  # 60 a day for 100 days: under the daily limit, over the total
        {
            "user_id": "zz_endless",
            "item_id": items[np.arange(6000) % len(items)],
            "timestamp": t0 + (np.arange(6000) // 60) * _DAY + np.arange(6000) % 60,
            "event": "view",
        }
    )
    texts = pd.concat(
        [
            ds.texts.astype({"user_id": str, "item_id": str}),
            pd.DataFrame(
                {
                    "user_id": ["zz_burst"],
                    "item_id": [items[0]],
                    "timestamp": pd.array([t0], dtype="Int64"),
                    "text": ["buy now!!!"],
                    "kind": ["review"],
                }
            ),
        ]
    )
    social = pd.concat(
        [
            ds.social.astype({"src": str, "dst": str}),
            pd.DataFrame(
                {"src": ["zz_burst"], "dst": [ds.user_ids[0]], "kind": ["friend"], "weight": [1.0]}
            ),
        ]
    )
    planted = pd.concat([inter.drop(columns="seq"), dups.drop(columns="seq"), burst, endless])
    return ds.replace(interactions=planted, texts=texts, social=social), ["zz_burst", "zz_endless"]


def test_duplicates_removed_and_reported(shop: Dataset) -> None:
    dirty, _ = _plant(shop, n_dup=40)
    out, report = clean(dirty, bots=None)
    step = report.step("dedupe")
    assert step["rows_removed"]["interactions"] == 40
    assert len(out.interactions) == len(dirty.interactions) - 40
    key = ["user_id", "item_id", "timestamp", "event"]
    assert not out.interactions.duplicated(key).any()
    assert [s["step"] for s in report.steps] == ["dedupe"]
    assert out.meta["cleaning"]["rows_removed"] == 40
    # the first copy in file order is the one kept
    again = dirty.interactions.sort_values("seq")
    first = again[~again.duplicated(key)].seq
    assert set(out.interactions.seq) == set(first)


def test_bots_removed_with_reasons(shop: Dataset) -> None:
    dirty, bots = _plant(shop)
    cfg = BotConfig(max_events_per_day=500, max_events=5000)
    out, report = clean(dirty, bots=cfg)
    step = report.step("bots")
    assert step["users_removed"] == 2 and set(step["details"]["user_ids"]) == set(bots)
    assert "1 with > 500 events in one day" in step["reason"]
    assert step["rows_removed"]["interactions"] == 9000
    assert step["rows_removed"]["texts"] == 1 and step["rows_removed"]["social"] == 1
    assert not set(bots) & set(out.user_ids)
    # every real shopper survives the (generous) defaults
    assert set(out.user_ids) == set(shop.user_ids)
    assert out.truth is not None and len(out.truth) == len(shop.truth)


def test_thresholds_are_configurable(shop: Dataset) -> None:
    dirty, _ = _plant(shop)
    _, loose = clean(dirty, bots=BotConfig(max_events_per_day=None, max_events=None))
    assert loose.step("bots")["users_removed"] == 0
    busiest = shop.interactions.user_id.value_counts().iloc[0]
    _, strict = clean(shop, bots=BotConfig(max_events_per_day=None, max_events=busiest - 1))
    assert strict.step("bots")["users_removed"] >= 1


def test_kcore(shop: Dataset) -> None:
    out, report = clean(shop, CleanConfig(dedupe=False, bots=None, kcore=5))
    inter = out.interactions
    pairs = inter[["user_id", "item_id"]].astype(str).drop_duplicates()
    assert pairs.user_id.value_counts().min() >= 5
    assert pairs.item_id.value_counts().min() >= 5
    step = report.step("kcore")
    assert step["users_removed"] == shop.n_users - out.n_users > 0
    assert step["items_removed"] == shop.n_items - out.n_items
    assert step["rows_removed"]["interactions"] == len(shop.interactions) - len(inter)


def test_kcore_is_iterative() -> None:
    # u3 has only i3 and i3 has only u3 and u2; removing u3 makes i3 fall below 2 too
    rows = [("u1", "i1"), ("u1", "i2"), ("u2", "i1"), ("u2", "i2"), ("u2", "i3"), ("u3", "i3")]
    ds = Dataset(
        interactions=pd.DataFrame(rows, columns=["user_id", "item_id"]).assign(
            timestamp=0, event="view"
        )
    )
    out, report = clean(ds, kcore=2)
    assert list(out.user_ids) == ["u1", "u2"] and list(out.item_ids) == ["i1", "i2"]
    assert report.step("kcore")["details"]["rounds"] >= 2


def test_clean_without_changes_keeps_everything(shop: Dataset) -> None:
    out, report = clean(shop)
    assert report.rows_removed == 0
    assert len(out.interactions) == len(shop.interactions)
    with pytest.raises(KeyError, match="kcore"):
        report.step("kcore")


def test_synthetic_dirt_is_found() -> None:
    """The generator's planted bots and double-logged rows are what cleaning removes."""
    clean_shop = generate(users=800, seed=9)
    dirty = generate(users=800, seed=9, bot_share=0.02, duplicate_rate=0.03)
    bots = set(dirty.truth[dirty.truth == "bot"].index)
    assert len(bots) > 5
    out, report = clean(dirty)
    assert set(report.step("bots")["details"]["user_ids"]) <= bots
    assert report.step("bots")["users_removed"] == len(bots)
    assert "bot" not in set(out.truth)
    # without the bots, the cleaned log is the clean shop's log minus the bots' own rows
    real = clean_shop.interactions[~clean_shop.interactions.user_id.astype(str).isin(bots)]
    assert len(out.interactions) == len(
        real.drop_duplicates(["user_id", "item_id", "timestamp", "event"])
    )
