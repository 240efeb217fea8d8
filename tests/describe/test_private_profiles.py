"""What profiles publish is private by construction: distinct-user thresholds always, and with
differential privacy OpenDP-noised figures under declared bounds, no texts and no rules."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.describe import SegmentDescriber, privacy_statement
from segrec.segment import Segmentation


def _two_groups(n: int = 120, rare_users: int = 4) -> tuple[Dataset, Segmentation]:
    """Two segments of ``n`` users: group 0 writes about banjos, group 1 about drums; in group
    0 only ``rare_users`` members write the (very distinctive) word "zither", many times."""
    rows, texts = [], []
    for g, (word, item) in enumerate((("banjo", "b"), ("drum", "d"))):
        for u in range(n):
            uid = f"g{g}u{u:03d}"
            rows += [(uid, f"{item}{u % 3}", 1000 + u, 4.0, 20.0), (uid, "common", 2000, 5.0, 5.0)]
            text = f"my {word} sounds lovely, {word} strings"
            if g == 0 and u < rare_users:
                text += " zither zither zither zither zither"
            texts.append((uid, f"{item}{u % 3}", text))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "rating", "amount"])
    inter["event"] = "purchase"
    tx = pd.DataFrame(texts, columns=["user_id", "item_id", "text"])
    tx["kind"] = "review"
    ds = Dataset(interactions=inter, texts=tx)
    labels = np.array([0 if u.startswith("g0") else 1 for u in ds.user_ids.astype(str)])
    return ds, Segmentation(ds.user_ids, labels.astype(np.int64), np.ones(len(labels)), "g")


def test_a_keyword_few_members_used_is_never_named():
    ds, seg = _two_groups()
    loose = SegmentDescriber(min_users=1).describe(ds, seg)
    strict = SegmentDescriber().describe(ds, seg)  # the default: 10 distinct members
    assert "zither" in loose[0]["keywords"]  # the most distinctive word of group 0 ...
    assert "zither" not in strict[0]["keywords"] and "banjo" in strict[0]["keywords"]
    prot = strict.meta["privacy"]["protections"]
    assert prot["min_users_to_name"] == 10 and not prot["differential_privacy"]
    assert "keywords" in prot["thresholded"] and prot["epsilon_spent"] == 0.0
    # items: every published one was chosen by at least 10 distinct members
    assert all(i["users"] >= 10 for p in strict.profiles for i in p["top_items"])
    assert all(i["users"] >= 1 for i in loose[0]["top_items"])


def test_with_dp_everything_is_noised_and_the_budget_is_spent_exactly():
    ds, seg = _two_groups(n=300)
    d = SegmentDescriber(dp_epsilon=8.0, dp_amount_cap=50.0)
    prof = d.describe(ds, seg)
    dp = prof.meta["privacy"]["dp"]
    assert dp["library"].startswith("opendp")
    assert dp["epsilon_spent"] == pytest.approx(8.0, rel=1e-6) and dp["epsilon_spent"] <= 8.0
    assert 0 < dp["delta"] <= 1e-5
    # bounds are the declared ones: the amount cap, the rating scale
    assert dp["clipping_bounds"]["monetary"] == [0.0, 50.0]
    assert dp["clipping_bounds"]["rating_mean"] == [1.0, 5.0]
    queries = {e["query"] for e in dp["ledger"]}
    assert {"segment sizes", "mean monetary", "keyword counts (distinct users)"} <= queries
    for p in prof.profiles:
        assert p["representative_reviews"] == [] and p["rules"] == {}
        assert p["rating"]["n"] is None and p["signature_item"] is None
        assert set(p["keyword_counts"]) == set(p["keywords"])
        threshold = next(e["threshold"] for e in dp["ledger"] if e["query"].startswith("key"))
        assert all(c >= threshold for c in p["keyword_counts"].values())
        assert "zither" not in p["keywords"]
    # 300 members wrote "banjo": enough to survive the noise and the threshold
    assert any("banjo" in k for k in prof[0]["keywords"])
    assert any("drum" in k for k in prof[1]["keywords"])
    assert prof.meta["privacy"]["protections"]["off"][0] == "representative_reviews"
    assert d.rules_ is None and prof.meta["explanations"]["fidelity"] is None


def test_dp_bounds_never_come_from_the_data():
    ds, seg = _two_groups(n=60)
    inter = ds.interactions.copy()
    inter.loc[0, "amount"] = 1e9  # one big spender must not stretch what is published
    big = Dataset(interactions=inter, texts=ds.texts)
    prof = SegmentDescriber(dp_epsilon=4.0).describe(big, seg)
    dp = prof.meta["privacy"]["dp"]
    assert dp["clipping_bounds"]["monetary"] == [0.0, 1000.0]
    assert all(p["rfm"]["monetary"] <= 1000.0 for p in prof.profiles)


def test_gaussian_mechanism_and_what_segments_md_and_the_report_say():
    ds, seg = _two_groups(n=60)
    prof = SegmentDescriber(dp_epsilon=2.0, dp_mechanism="gaussian").describe(ds, seg)
    dp = prof.meta["privacy"]["dp"]
    assert dp["epsilon_spent"] == pytest.approx(2.0, rel=1e-6)
    assert 0 < dp["delta"] <= 1e-5
    md = prof.to_markdown()
    assert "epsilon spent 2 of 2" in md and "not published" in md
    plain = privacy_statement(SegmentDescriber().describe(ds, seg).meta["privacy"])
    assert "No differential privacy" in plain and "at least 10 distinct members" in plain
    json.loads(prof.to_json())  # no NaN or numpy left in profiles.json
