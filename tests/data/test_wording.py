"""Reasons and segment names use the words of the data: buying, tagging, rating, reviewing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segrec.data import SHOP, Dataset, wording
from segrec.describe import behaviour_noun
from segrec.recommend import FitContext
from segrec.recommend._reasons import reason_index


def _log(events: list[str]) -> Dataset:
    n = len(events)
    return Dataset(
        interactions=pd.DataFrame(
            {
                "user_id": [f"u{i % 3}" for i in range(n)],
                "item_id": [f"i{i % 4}" for i in range(n)],
                "timestamp": np.arange(n),
                "event": events,
            }
        )
    )


@pytest.mark.parametrize(
    ("events", "verb", "people"),
    [
        (["view", "view", "click", "purchase"], "bought", "shoppers"),  # any purchase: a shop
        (["review"] * 4, "reviewed", "reviewers"),  # Amazon, Yelp
        (["rating"] * 4, "rated", "raters"),  # MovieLens, FilmTrust
        (["tag", "tag", "play"], "tagged", "taggers"),  # Last.fm tag events
        (["play"] * 4, "played", "listeners"),
        (["view"] * 4, "viewed", "visitors"),  # a generic log without event column
        (["like"] * 4, "chose", "users"),  # unknown: neutral words
    ],
)
def test_the_most_frequent_event_chooses_the_words(events, verb, people) -> None:
    w = wording(_log(events))
    assert (w.verb, w.people) == (verb, people)


def test_reasons_and_names_speak_of_tagging_on_tag_events() -> None:
    # u0 and u1 both tagged i0 and i1; u2 tagged i2 only
    ds = Dataset(
        interactions=pd.DataFrame(
            {
                "user_id": ["u0", "u0", "u1", "u1", "u2"],
                "item_id": ["i0", "i1", "i0", "i1", "i2"],
                "timestamp": np.arange(5),
                "event": "tag",
            }
        ),
        items=pd.DataFrame({"item_id": ["i0", "i1", "i2"], "title": ["Abba", "Blur", "Cher"]}),
    )
    idx = reason_index(FitContext(train=ds))
    assert idx.explain("u0", "i1", "similar") == "similar to Abba you tagged"
    assert idx.explain("u2", "i0", "popular") == "popular overall (2 taggers)"
    assert idx.explain("u2", "i2", "popular").endswith("(1 tagger)")
    pop, lapsed = {"recency_days": 10.0, "frequency": 5.0}, {"recency_days": 40.0, "frequency": 5}
    words = wording(ds)
    assert behaviour_noun(lapsed, pop, words) == "lapsed taggers"
    assert behaviour_noun(pop, pop, words) == "taggers"
    assert behaviour_noun(lapsed, pop) == "lapsed buyers"  # a shop's words by default
    assert words is not SHOP


def test_a_shop_stays_a_shop_after_its_funnel_is_deduplicated() -> None:
    # each user views an item, then buys it: deduplication keeps the view, the earliest row
    from segrec.evaluate import make_split

    rows = [
        (f"u{u}", f"i{(u + j) % 7}", 10 * u + 2 * j + e, ev)
        for u in range(30)
        for j in range(4)
        for e, ev in enumerate(("view", "purchase"))
    ]
    ds = Dataset(
        interactions=pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "event"])
    )
    train = make_split(ds).train_dataset()
    assert set(train.interactions["event"].astype(str)) == {"view"}
    assert wording(train) is SHOP
    # a log of views alone is not a shop
    views = ds.replace(interactions=ds.interactions[ds.interactions.event == "view"])
    assert wording(make_split(views).train_dataset()).verb == "viewed"
