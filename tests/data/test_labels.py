"""Readable item labels: the title, else the id with the words that set its reviews apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segrec.data import Dataset, item_labels


def _shop() -> Dataset:
    inter = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u1", "u2", "u3", "u4"],
            "item_id": ["A", "A", "B", "B", "C", "C", "D"],
            "timestamp": np.arange(7),
            "event": "purchase",
        }
    )
    texts = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u1", "u2", "u3"],
            "item_id": ["A", "A", "B", "B", "C", "C"],
            "text": [
                "bright strings, great strings for the acoustic",
                "these strings sound bright on my acoustic",
                "a sturdy strap, comfortable strap for gigs &amp; more",
                "the strap is comfortable and sturdy",
                "great tuner, the tuner clips on the headstock",
                "accurate tuner; the clip holds the headstock",
            ],
            "kind": "review",
        }
    )
    items = pd.DataFrame(
        {"item_id": ["A", "B", "C", "D"], "title": [None, None, "Clip Tuner", None]}
    )
    return Dataset(interactions=inter, texts=texts, items=items)


def test_titles_win_reviews_name_the_rest_and_ids_remain() -> None:
    labels = item_labels(_shop())
    assert labels["C"] == "Clip Tuner"  # a title is used as it is
    assert labels["A"].startswith("A (") and "strings" in labels["A"]
    assert labels["B"].startswith("B (") and "strap" in labels["B"]
    assert "amp" not in labels["B"]  # an HTML entity is a character, not a word
    assert labels["D"] == "D"  # no title, nothing written about it
    assert "nan" not in " ".join(labels)
    assert labels.equals(item_labels(_shop()))  # same data, same labels


def test_a_word_and_its_plural_are_named_once() -> None:
    label = item_labels(_shop(), n_words=3)["A"]
    words = label[label.index("(") + 1 : -1].split(", ")
    assert len({w.removesuffix("s") for w in words}) == len(words)
    assert item_labels(_shop(), n_words=0)["A"] == "A"
