"""Readable item labels for reasons, profiles and the report.

Many real datasets name items by an opaque id (Amazon's 5-core reviews carry no product
metadata: "B0018TIADQ"). Where an item has no title but people wrote about it, the words that
set its texts apart from the other items' say what it is: "B0018TIADQ (strings, elixir)".
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data._cache import shared_cache
from segrec.data._dataset import Dataset

__all__ = ["item_labels"]


def item_labels(ds: Dataset, n_words: int = 2) -> pd.Series:
    """One label per item of ``ds``, as :func:`_item_labels` makes them, computed once per
    dataset object (profiles, reasons and report cards all ask for them)."""
    cache = shared_cache(ds)
    key = f"item_labels:{n_words}"
    if key not in cache:
        cache[key] = _item_labels(ds, n_words)
    return cache[key].copy()  # type: ignore[no-any-return]


def _item_labels(ds: Dataset, n_words: int) -> pd.Series:
    """One label per item of ``ds`` (index: item id as a string): the item's title; without
    one, the id followed by the ``n_words`` most distinctive words of the texts written about
    it (the words most of its texts use, weighted by how rare they are across all texts; ties
    by vocabulary order, so the same data gives the same labels);
    without either, the id alone ("item 286" for a bare number)."""
    ids = pd.Index(ds.item_ids.astype(str), name="item_id")
    # a bare number says nothing on its own: "similar to item 286 you rated", not "to 286"
    labels = pd.Series([f"item {i}" if i.isdigit() else i for i in ids], index=ids, dtype="object")
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
    if not tx.item_id.astype(str).isin(ids.difference(titled)).any():
        return labels
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(
        stop_words="english",
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",  # words of 3+ letters: no numbers, no 'll'
        min_df=2 if len(tx) >= 50 else 1,  # in a real corpus a word used once is likely a typo
    )
    try:  # '&oacute;' is a letter, not a word
        tf = vec.fit_transform(tx.text.astype(str).map(html.unescape).to_numpy()).tocsr()
    except ValueError:  # no word survives (few or tiny texts)
        return labels
    # a word counts by how many texts use it, not by how often one of them repeats it
    x = tf.copy()
    x.data[:] = 1
    # an item's score for a word: how many of its texts use it, times how rare the word is
    # across all texts (so "stand" names a guitar stand, not the one review saying "tubular");
    # equal scores go to the word repeated more
    idf = np.log(x.shape[0] / np.asarray(x.sum(0)).ravel())
    codes, items = pd.factorize(tx.item_id.astype(str))
    of_item = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))))
    counts, repeats = (of_item @ x).tocsr(), (of_item @ tf).tocsr()
    vocab = vec.get_feature_names_out()
    wanted = set(ids.difference(titled))
    for row, item in enumerate(items):
        lo, hi = counts.indptr[row], counts.indptr[row + 1]
        if item not in wanted or lo == hi:
            continue
        cols, n = counts.indices[lo:hi], counts.data[lo:hi]
        rep = repeats[row, cols].toarray().ravel()
        keep = n >= min(2, n.max())  # a word two of its texts use, where there is one
        cols, score, rep = cols[keep], n[keep] * idf[cols[keep]], rep[keep]
        words: list[str] = []
        # highest score first, then more repeats, then vocabulary order
        for c in cols[np.lexsort((cols, -rep, -score))]:
            if vocab[c].removesuffix("s") not in {v.removesuffix("s") for v in words}:
                words.append(str(vocab[c]))  # 'filter' and 'filters' once
            if len(words) == n_words:
                break
        labels[item] = f"{labels[item]} ({', '.join(words)})"
    return labels
