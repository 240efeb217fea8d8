"""Readable item labels for reasons, profiles and the report.

Many real datasets name items by an opaque id (Amazon's 5-core reviews carry no product
metadata: "B0018TIADQ"). Where an item has no title but people wrote about it, the words that
set its texts apart from the other items' say what it is: "B0018TIADQ (strings, elixir)".
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from segrec.data._dataset import Dataset

__all__ = ["item_labels"]


def item_labels(ds: Dataset, n_words: int = 2) -> pd.Series:
    """One label per item of ``ds`` (index: item id as a string): the item's title; without
    one, the id followed by the ``n_words`` most distinctive words of the texts written about
    it (TF-IDF over items, ties by vocabulary order, so the same data gives the same labels);
    without either, the id alone."""
    ids = pd.Index(ds.item_ids.astype(str), name="item_id")
    labels = pd.Series(ids.to_numpy(), index=ids, dtype="object")
    titled = pd.Index([], dtype="object")
    if len(ds.items) and "title" in ds.items:
        t = ds.items.dropna(subset=["title"])
        t = t[t.title.astype(str).str.strip() != ""]
        t = t[t.item_id.astype(str).isin(ids).to_numpy()]
        titled = pd.Index(t.item_id.astype(str))
        labels.loc[titled] = t.title.astype(str).str.split().str.join(" ").to_numpy()
    if n_words < 1 or len(ds.texts) == 0:
        return labels
    tx = ds.texts.dropna(subset=["item_id", "text"])
    tx = tx[tx.item_id.astype(str).isin(ids.difference(titled)).to_numpy()]
    if not len(tx):
        return labels
    docs = tx.groupby(tx.item_id.astype(str), observed=True).text.agg(
        lambda s: html.unescape(" ".join(s))  # '&oacute;' is a letter, not a word
    )
    from sklearn.feature_extraction.text import TfidfVectorizer

    # in a real catalogue a word must name 2+ items (no typos) and at most 30% of them (no
    # "great"); a handful of items is too few for document frequencies to mean anything
    big = len(docs) >= 50
    vec = TfidfVectorizer(
        stop_words="english",
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",  # words of 3+ letters: no numbers, no 'll'
        sublinear_tf=True,
        min_df=2 if big else 1,
        max_df=0.3 if big else 1.0,
    )
    try:
        x = vec.fit_transform(docs.to_numpy()).tocsr()
    except ValueError:  # no word survives (few or tiny texts)
        return labels
    vocab = vec.get_feature_names_out()
    for row, item in enumerate(docs.index):
        lo, hi = x.indptr[row], x.indptr[row + 1]
        if lo == hi:
            continue
        cols, w = x.indices[lo:hi], x.data[lo:hi]
        words: list[str] = []
        for c in cols[np.lexsort((cols, -w))]:  # highest weight first, then vocabulary order
            if vocab[c].removesuffix("s") not in {v.removesuffix("s") for v in words}:
                words.append(str(vocab[c]))  # 'filter' and 'filters' once
            if len(words) == n_words:
                break
        labels[item] = f"{item} ({', '.join(words)})"
    return labels
