"""Segment cards publish no segment and no top item below the privacy thresholds, also for
the training-period segmentation the evaluation measured (a 1-user segment once got a card
whose top items each had one user: cards recomputed what the profile had merged away)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from segrec.data import load_dataset
from segrec.describe import describe_segments
from segrec.evaluate import EvalResult
from segrec.evaluate._segmentations import PhaseArtifacts
from segrec.report import profile_fields, render_html, segment_cards
from segrec.segment import Segmentation


@pytest.fixture(scope="module")
def tiny_segments() -> tuple[EvalResult, Segmentation]:
    ds, _ = load_dataset("synthetic:users=300,seed=4")
    users = ds.user_ids.astype(str)
    labels = np.arange(len(users)) % 3
    labels[0] = 3  # a segment of one user
    labels[1:5] = 4  # and one of four
    centers = np.eye(5)
    seg = Segmentation(users, labels, np.ones(len(users)), "toy", centers=centers)
    res = EvalResult(
        dataset={"name": ds.name},
        protocol={"name": "v1", "k": 10, "hybrid_segmentation": "toy"},
        methods={},
        segmentations={},
        significance={},
        artifacts=PhaseArtifacts(dataset=ds, segmentations={"toy": seg}),
    )
    return res, seg


def _check(cards: list[dict], n_users: int) -> None:
    assert {c["segment"] for c in cards} == {0, 1, 2}  # 3 and 4 merged away
    assert all(c["size"] >= 10 for c in cards) and sum(c["size"] for c in cards) == n_users
    for c in cards:
        for item in c["top_items"]:
            users = int(re.search(r"\((\d+)\)$", item).group(1))  # type: ignore[union-attr]
            assert users >= 10, item


def test_cards_from_profiles_skip_merged_segments(tiny_segments) -> None:
    res, seg = tiny_segments
    assert res.artifacts is not None
    profiles = profile_fields(describe_segments(res.artifacts.dataset, seg))
    assert set(profiles) == {0, 1, 2}
    cards = segment_cards(res, seg, profiles)
    _check(cards, len(seg.user_ids))
    assert any(c["top_items"] for c in cards)


def test_cards_without_profiles_use_the_private_profiles(tiny_segments) -> None:
    res, seg = tiny_segments
    cards = segment_cards(res, seg)
    _check(cards, len(seg.user_ids))
    assert any(c["top_items"] for c in cards) and all(c["note"] is None for c in cards)


def test_a_segment_no_profile_describes_names_nothing(tiny_segments) -> None:
    res, seg = tiny_segments
    cards = segment_cards(res, seg, {0: {"name": "Tone chasers", "top_items": ["Amp (40)"]}})
    other = [c for c in cards if c["segment"] != 0]
    assert all(not c["top_items"] and not c["keywords"] and c["note"] for c in other)
    html = render_html(res, {0: {"name": "Tone chasers", "top_items": ["Amp (40)"]}})
    sizes = [int(s.replace(",", "")) for s in re.findall(r"segment \d+ · ([\d,]+) users", html)]
    assert sizes and min(sizes) >= 10
    assert "nothing about it is published" in html


def test_example_users_carry_the_cards_segment_names(tiny_segments) -> None:
    res, seg = tiny_segments
    profiles = {s: {"name": f"Card name {s}", "top_items": []} for s in (0, 1, 2)}
    user = str(seg.user_ids[7])  # in segment 7 % 3 = 1
    ex = [
        {
            "user_id": user,
            "segment": "Served name",
            "n_history": 3,
            "recent": ["Amp"],
            "verb": "bought",
            "items": [("Cable", "popular with Served name")],
        }
    ]
    html = render_html(res, profiles, examples=ex)
    shown = html[html.index("What users see") : html.index("Data and run")]
    assert "warm user · Card name 1 (served model: Served name)" in shown
    assert "<h3>Card name 1</h3>" in html  # the same name on its card
