"""Profiles, keywords, names, rules and privacy on a small synthetic shop."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from segrec.describe import (
    PrivacyAccountant,
    SegmentDescriber,
    deterministic_name,
    enforce_min_size,
    top_keywords,
)
from segrec.diagnostics import UsageError
from segrec.segment import Segmentation


@pytest.fixture(scope="module")
def shop():
    from segrec.data.synthetic import generate

    ds = generate(users=400, seed=3)
    # segments = the planted personas, so every check below has a known answer
    truth = ds.truth.reindex(ds.user_ids)
    codes, names = pd.factorize(truth.to_numpy(), sort=True)
    seg = Segmentation(ds.user_ids, codes.astype(np.int64), np.ones(len(codes)), "truth")
    return ds, seg, list(names)


@pytest.fixture(scope="module")
def described(shop):
    ds, seg, _ = shop
    d = SegmentDescriber(min_size=10)
    return d, d.describe(ds, seg)


def test_profile_fields_and_files(described, tmp_path):
    _, prof = described
    j, md = prof.save(tmp_path)
    data = json.loads(j.read_text())
    assert {"meta", "segments"} <= set(data)
    p = data["segments"][0]
    for key in (
        "segment_id",
        "name",
        "size",
        "share",
        "rfm",
        "top_categories",
        "top_items",
        "rating",
        "price_tier",
        "keywords",
        "representative_reviews",
        "rules",
    ):
        assert key in p
    assert abs(sum(s["share"] for s in data["segments"]) - 1.0) < 1e-6
    assert len(p["representative_reviews"]) == 3
    assert md.read_text().startswith("# Segments of")
    assert len({s["name"] for s in data["segments"]}) == len(data["segments"])


def test_keywords_and_categories_match_personas(shop, described):
    _, _, names = shop
    _, prof = described
    by_name = {names[p["segment_id"]]: p for p in prof.profiles}
    drummer = by_name["gigging_drummer"]
    assert drummer["top_categories"][0]["lift"] > 1.5
    assert any("drum" in c["category"] for c in drummer["top_categories"])
    words = " ".join(drummer["keywords"])
    drummer_vocab = (
        "drum",
        "band",
        "stage",
        "gig",
        "groove",
        "loud",
        "snare",
        "cymbal",
        "stick",
        "crash",
    )
    assert sum(w in words for w in drummer_vocab) >= 2
    dj = by_name["dj_producer"]
    dj_words = " ".join(dj["keywords"])
    assert sum(w in dj_words for w in ("set", "track", "club", "mix", "drop", "transition")) >= 2


def test_price_tier_orders_personas(shop, described):
    _, _, names = shop
    _, prof = described
    tiers = {names[p["segment_id"]]: p["price_level"] for p in prof.profiles}
    assert tiers["budget_beginner"] < tiers["studio_engineer"]


def test_rules_have_fidelity_and_explain_user(shop, described):
    ds, seg, _ = shop
    d, prof = described
    fid = prof.meta["explanations"]["fidelity"]
    assert 1 / seg.k < fid <= 1.0  # better than guessing
    assert all(p["rules"]["rules"] for p in prof.profiles)
    uid = str(ds.user_ids[0])
    why = d.explain_user(uid)
    assert why["segment_id"] == int(seg.labels[0])
    assert why["rule"] and isinstance(why["features"], list)
    with pytest.raises(UsageError, match="unknown"):
        d.explain_user("nobody")


def test_reviews_are_scrubbed():
    from segrec.data import Dataset

    users = [f"u{i}" for i in range(12)]
    inter = pd.DataFrame(
        {
            "user_id": users,
            "item_id": "i1",
            "timestamp": 0,
            "event": "purchase",
            "rating": 5.0,
            "amount": 10.0,
        }
    )
    texts = pd.DataFrame(
        {
            "user_id": users,
            "item_id": "i1",
            "text": [f"&#34;great&#34; strings mail me at bob{i}@example.com" for i in range(12)],
            "kind": "review",
        }
    )
    ds = Dataset(interactions=inter, texts=texts)
    seg = Segmentation(ds.user_ids, np.zeros(12, np.int64), np.ones(12), "one")
    prof = SegmentDescriber(min_size=5).describe(ds, seg)
    out = prof.to_json() + prof.to_markdown()
    assert "@example.com" not in out
    # HTML entities kept by some sources are shown as the characters they stand for
    assert prof.profiles[0]["representative_reviews"][0].startswith('"great" strings')
    assert "u1" not in json.dumps(prof.profiles)  # no user ids in what is published


def test_min_size_merge_and_suppress():
    labels = np.array([0] * 20 + [1] * 15 + [2] * 3)
    centers = np.array([[0.0, 0], [10, 10], [9, 9]])
    merged, rep = enforce_min_size(labels, centers, 10, "merge")
    assert rep["merged"] == {"2": 1} and (merged[-3:] == 1).all()
    supp, rep = enforce_min_size(labels, centers, 10, "suppress")
    assert rep["suppressed"] == [2] and (supp[-3:] == -1).all() and rep["suppressed_users"] == 3


def test_small_segment_never_published(shop):
    ds, seg, _ = shop
    labels = seg.labels.copy()
    labels[:4] = 99  # a 4-user segment
    tiny = Segmentation(seg.user_ids, labels, seg.strength, "x")
    prof = SegmentDescriber(min_size=10, small_segments="suppress").describe(ds, tiny)
    assert 99 not in [p["segment_id"] for p in prof.profiles]
    assert all(p["size"] >= 10 for p in prof.profiles)
    # what segments.parquet publishes follows the same step: -1 and no name for those users
    frame = prof.frame(tiny)
    assert (frame.segment_id.iloc[:4] == -1).all() and frame.segment.iloc[:4].isna().all()
    assert set(frame.segment_id.iloc[4:]) == {p["segment_id"] for p in prof.profiles}
    assert frame.segment.iloc[4:].notna().all()
    assert 99 not in prof.names_by_source_id(tiny.segment_ids)


def test_merged_segment_published_under_its_host(shop):
    ds, seg, _ = shop
    labels = seg.labels.copy()
    labels[:4] = 99  # a 4-user segment, merged into the largest (no centres given)
    tiny = Segmentation(seg.user_ids, labels, seg.strength, "x")
    prof = SegmentDescriber(min_size=10).describe(ds, tiny)
    host = prof.meta["privacy"]["merged"]["99"]
    frame = prof.frame(tiny)
    assert (frame.segment_id.iloc[:4] == host).all()
    assert set(frame.segment_id) == {p["segment_id"] for p in prof.profiles}
    assert (frame.segment == frame.segment_id.map(prof.names)).all()
    # a reason that names segment 99 (the model's own ids) uses its host's name
    names = prof.names_by_source_id(tiny.segment_ids)
    assert names[99] == names[host] == prof.names[host]


def test_dp_noise_and_accounting(shop):
    ds, seg, _ = shop
    exact = SegmentDescriber().describe(ds, seg)
    noisy = SegmentDescriber(dp_epsilon=1.0, dp_mechanism="laplace").describe(ds, seg)
    dp = noisy.meta["privacy"]["dp"]
    assert dp["epsilon_spent"] == pytest.approx(1.0)
    assert len(dp["ledger"]) >= 2
    sizes_e = np.array([p["size"] for p in exact.profiles])
    sizes_n = np.array([p["size"] for p in noisy.profiles])
    assert not np.array_equal(sizes_e, sizes_n)
    assert np.abs(sizes_e - sizes_n).max() < 60  # Laplace(1/eps) noise, not garbage


def test_accountant_refuses_overspend():
    acc = PrivacyAccountant(1.0, "gaussian", delta=1e-5)
    acc.noisy_counts(np.array([10, 20]), 0.6, "sizes")
    with pytest.raises(UsageError, match="budget"):
        acc.noisy_counts(np.array([10, 20]), 0.6, "again")
    with pytest.raises(UsageError, match="epsilon"):
        PrivacyAccountant(0.0)


def test_ctfidf_prefers_distinctive_words():
    texts = pd.Series(["guitar strings sound great"] * 5 + ["drum sticks sound great"] * 5)
    cls = pd.Series([0] * 5 + [1] * 5)
    kw = top_keywords(texts, cls, n=2, min_count=1)
    assert set(" ".join(kw[0]).split()) <= {"guitar", "strings"}
    assert set(" ".join(kw[1]).split()) <= {"drum", "sticks"}


def test_deterministic_name_reads_like_a_segment():
    pop = {"frequency": 10.0, "recency_days": 30.0, "monetary": 100.0}
    name = deterministic_name(
        ["beginner", "guitar"],
        "budget",
        {"frequency": 20.0, "recency_days": 20.0, "monetary": 120.0},
        pop,
        vocabulary={"guitar", "strings"},
    )
    assert name == "Budget guitar regulars"
    assert deterministic_name([], None, {}, pop, "drums") == "Drums shoppers"


def test_rule_thresholds_read_as_plain_numbers():
    from segrec.describe._rules import _fmt

    # a tree cut at 1079.5 days used to print as 1.08e+03, which also moved the cut
    assert [_fmt(v) for v in (1079.5, 4.40625, 0.00423, 2.0, -12345.6)] == [
        "1079.5",
        "4.41",
        "0.00423",
        "2",
        "-12345.6",
    ]


def test_without_text_a_segment_is_named_by_the_item_that_sets_it_apart():
    # three groups of 12 raters, each with its own film besides one everybody rated; no
    # reviews, no categories: the films' titles (or ids) are all there is to name them by
    from segrec.data import Dataset

    films = {0: "Alien", 1: "Babe", 2: None}  # the third film has no title
    rows = []
    for g in range(3):
        for u in range(12):
            rows += [(f"g{g}u{u}", "100", 0), (f"g{g}u{u}", str(200 + g), 1)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"] = "rating"
    items = pd.DataFrame(
        {"item_id": ["100", "200", "201", "202"], "title": ["Everyone's film", *films.values()]}
    )
    ds = Dataset(interactions=inter, items=items)
    users = ds.user_ids
    seg = Segmentation(
        users, np.array([int(u[1]) for u in users], np.int64), np.ones(len(users)), "groups"
    )
    names = {
        p["segment_id"]: p["name"] for p in SegmentDescriber(min_size=5).describe(ds, seg).profiles
    }
    assert names[0].startswith("Alien ") and names[1].startswith("Babe ")
    assert names[2].startswith("Item 202 ")  # a bare number reads as an item
    assert all("raters" in n or "regulars" in n for n in names.values())


def test_representative_texts_are_not_repeated_and_the_sentence_uses_the_datas_verb():
    # Last.fm-like tags: short texts that many users write word for word
    from segrec.data import Dataset

    users = [f"u{i}" for i in range(12)]
    tags = ["alternative rock"] * 8 + ["indie rock", "post punk", "shoegaze", "dream pop"]
    inter = pd.DataFrame(
        {"user_id": users, "item_id": [f"a{i % 3}" for i in range(12)], "timestamp": 0}
    )
    inter["event"] = "tag"
    texts = pd.DataFrame({"user_id": users, "item_id": inter.item_id, "text": tags})
    texts["kind"] = "tag"
    items = pd.DataFrame({"item_id": ["a0", "a1", "a2"], "categories": ["rock"] * 3})
    ds = Dataset(interactions=inter, texts=texts, items=items)
    seg = Segmentation(ds.user_ids, np.zeros(12, np.int64), np.ones(12), "one")
    prof = SegmentDescriber(min_size=5, n_reviews=3).describe(ds, seg)
    p = prof.profiles[0]
    reviews = p["representative_reviews"]
    assert len(reviews) == 3 and len(set(reviews)) == 3
    assert "tagging mostly rock" in p["description"] and "buying" not in p["description"]
    # tags are called tags, not reviews
    assert p["representative_kind"] == "tags"
    assert "- representative tags:" in prof.to_markdown()


def test_segments_md_leaves_out_what_the_data_does_not_have():
    from segrec.describe import SegmentProfiles

    base = {"segment_id": 0, "name": "Taggers", "size": 10, "share": 1.0}
    bare = SegmentProfiles(
        [{**base, "rfm": {"recency_days": 3.0, "frequency": 2.0, "monetary": None}}], {}
    ).to_markdown()
    assert "monetary" not in bare and "price tier" not in bare and "rating" not in bare
    shop = SegmentProfiles(
        [
            {
                **base,
                "rfm": {"recency_days": 3.0, "frequency": 2.0, "monetary": 12.5},
                "price_tier": "budget",
                "rating": {"mean": 4.25},
            }
        ],
        {},
    ).to_markdown()
    assert "monetary 12.50" in shop and "price tier: budget; rating 4.25" in shop


def test_duplicate_names_without_keywords_take_their_signature_item():
    from segrec.describe import unique_names

    profiles = [
        {"segment_id": 2, "name": "Thriller regulars", "keywords": [], "signature_item": "Heat"},
        {"segment_id": 4, "name": "Thriller regulars", "keywords": [], "signature_item": "Se7en"},
        {"segment_id": 5, "name": "Thriller regulars", "keywords": []},
    ]
    unique_names(profiles)
    assert [p["name"] for p in profiles] == [
        "Thriller regulars (Heat)",
        "Thriller regulars (Se7en)",
        "Thriller regulars #5",
    ]
