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


def test_the_word_most_of_its_reviews_use_names_an_item() -> None:
    # a catalogue of 60 items: "stand" turns up in reviews of 25 of them (a common word, but
    # not a generic one), and all six reviews of item S are about its stand; one of them also
    # says "tubular", which one other item's review uses
    rng = np.random.default_rng(0)
    filler = [f"{a}{b}" for a in ("bra", "clo", "dri", "fle", "gro") for b in ("mak", "pil", "tov")]
    rows = []
    for i in range(60):
        for j in range(2):
            words = list(rng.choice(filler, 4)) + (["stand"] if i < 25 and j == 0 else [])
            rows.append((f"u{i}_{j}", f"I{i}", " ".join(words)))
    rows.append(("v0", "I30", "tubular frame"))
    rows += [(f"s{j}", "S", f"stand {rng.choice(filler)} {rng.choice(filler)}") for j in range(5)]
    rows.append(("s5", "S", "a tubular stand that holds"))
    users, items, texts = zip(*rows, strict=True)
    ds = Dataset(
        interactions=pd.DataFrame(
            {"user_id": users, "item_id": items, "timestamp": np.arange(len(rows))}
        ),
        texts=pd.DataFrame({"user_id": users, "item_id": items, "text": texts}),
    )
    label = item_labels(ds)["S"]
    assert label.startswith("S (stand, "), label  # not the one review's "tubular"
    assert "tubular" not in label
