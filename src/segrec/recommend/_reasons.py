"""Short, cheap reasons for recommended items.

Seven kinds, each computed only for the items actually returned:

* ``popular``: "popular with shoppers overall (N buyers)";
* ``trending``: "trending: N buyers in the last D days" (the last tenth of the training period);
* ``segment``: "popular with <segment name>";
* ``social``: "chosen by N of your friends" (the friends' counts of the
  :class:`~segrec.recommend._social.SocialRecommender` fitted on the context);
* ``peers``: "chosen by N people who write like you" (the nearest writers of
  :class:`~segrec.recommend._textknn.TextKNNRecommender`, when one was fitted on the context);
* ``similar``: "similar to <title> you bought" -- the history item whose co-consumption cosine
  with the recommended item is highest; "chosen by people with tastes like yours" when no
  history item was ever chosen beside it (a latent-factor model's pick);
* ``text``: "matches what you wrote about <keyword>" -- the term with the highest product of the
  user's and the item's TF-IDF weights among the terms both share (user texts vs the texts
  written about the item plus its title and categories); without a shared term, "similar to
  <title> you bought" when co-consumption links them, else "close to what you wrote".

The verbs and nouns are a shop's only where the data is one: on tag events an item is
"similar to <title> you tagged" and "popular overall (N taggers)"
(:func:`segrec.data.wording`).

A kind that cannot be explained for a pair (no shared term, no segment) falls back to the next
one: text -> similar -> "close to what you wrote" -> popular; similar -> "chosen by people with
tastes like yours" -> popular; segment, social, peers, trending -> popular.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import item_labels, wording
from segrec.recommend._base import FitContext

__all__ = ["ReasonIndex", "reason_index"]

_log = logging.getLogger(__name__)
_CACHE_KEY = "reason_index"


def reason_index(ctx: FitContext) -> ReasonIndex:
    """The :class:`ReasonIndex` of ``ctx``, built once and cached on the context."""
    idx = ctx.cache.get(_CACHE_KEY)
    if idx is None:
        idx = ReasonIndex(ctx)
        ctx.cache[_CACHE_KEY] = idx
    return idx


def _short(title: str, width: int = 48) -> str:
    title = " ".join(str(title).split())
    return title if len(title) <= width else title[: width - 1].rstrip() + "\u2026"


class ReasonIndex:
    """Precomputed lookups for reasons; text terms are vectorised lazily on first use."""

    def __init__(self, ctx: FitContext) -> None:
        ds = ctx.train
        self.ctx = ctx
        self.item_ids = ds.item_ids
        self.user_ids = ds.user_ids
        m = ctx.matrix.tocsr().astype(np.float32)
        self.matrix = m
        norms = np.sqrt(np.asarray(m.sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        self.csc = sp.csc_matrix(m @ sp.diags(1.0 / norms).astype(np.float32))
        self.popularity = np.asarray(m.sum(axis=0)).ravel()
        self.words = wording(ds)
        # titles, or "B0018TIADQ (strings, elixir)" where an item has none
        self.titles = item_labels(ds).reindex(self.item_ids.astype(str)).to_numpy()
        self.segments: pd.Series | None = None
        self.segment_names: dict[int, str] = {}
        if ctx.segmentation is not None:
            self.segments = ctx.segmentation.series()
            self.segments.index = self.segments.index.astype(str)
            self.segment_names = {**ctx.segmentation.names, **ctx.segment_names}
        self._text: tuple[Any, sp.csr_matrix, sp.csr_matrix, np.ndarray] | None = None
        self._recent: tuple[np.ndarray, int] | None = None

    # -- individual reasons -----------------------------------------------------------------
    def popular(self, item: str) -> str:
        c = self.item_ids.get_loc(item)
        w, n = self.words, int(self.popularity[c])
        if w.people == f"{w.actor}s":  # not "popular with reviewers overall (9 reviewers)"
            return f"popular overall ({w.actors(n)})"
        return f"popular with {w.people} overall ({w.actors(n)})"

    def trending(self, item: str) -> str | None:
        counts, days = self._recent_counts()
        n = int(counts[self.item_ids.get_loc(item)])
        if n == 0 or days == 0:
            return None
        return f"trending: {self.words.actors(n)} in the last {days} days"

    def _recent_counts(self) -> tuple[np.ndarray, int]:
        """Distinct users per item in the last tenth of the training period, and its days."""
        if self._recent is None:
            df = self.ctx.train.interactions
            ts = df.timestamp.to_numpy(np.float64)
            span = float(ts.max() - ts.min()) if len(ts) else 0.0
            recent = ts >= ts.max() - 0.1 * span if span > 0 else np.zeros(len(ts), bool)
            pairs = pd.DataFrame(
                {
                    "u": df.user_id.cat.codes.to_numpy()[recent],
                    "i": df.item_id.cat.codes.to_numpy()[recent],
                }
            ).drop_duplicates()
            counts = np.bincount(pairs.i.to_numpy(), minlength=len(self.item_ids))
            self._recent = (counts, round(0.1 * span / 86400))
        return self._recent

    def social(self, user: str, item: str) -> str | None:
        from segrec.recommend._social import CACHE_KEY

        model = self.ctx.cache.get(CACHE_KEY)
        if model is None:
            return None
        n = int(model.friend_counts([user])[0, model.item_ids_.get_loc(item)])
        if n == 0:
            return None
        return f"chosen by {n} of your friends" if n > 1 else "chosen by one of your friends"

    def peers(self, user: str, item: str) -> str | None:
        from segrec.recommend._textknn import CACHE_KEY

        model = self.ctx.cache.get(CACHE_KEY)
        n = model.count(user, item) if model is not None else 0
        if n == 0:
            return None
        return (
            f"chosen by {n} people who write like you"
            if n > 1
            else "chosen by one person who writes like you"
        )

    def segment(self, user: str) -> str | None:
        if self.segments is None or user not in self.segments.index:
            return None
        sid = int(self.segments.loc[user])
        name = self.segment_names.get(sid) or f"segment {sid}"
        return f"popular with {name}"

    def similar(self, user: str, item: str, latent: bool = True) -> str | None:
        u = self.user_ids.get_indexer([user])[0]
        if u < 0:
            return None
        hist = self.matrix.indices[self.matrix.indptr[u] : self.matrix.indptr[u + 1]]
        if len(hist) == 0:
            return None
        c = self.item_ids.get_loc(item)
        sims = np.asarray((self.csc[:, hist].T @ self.csc[:, [c]]).todense()).ravel()
        if sims.max() <= 0:  # a latent-factor pick: nobody chose it beside this user's items
            return "chosen by people with tastes like yours" if latent else None
        title = _short(self.titles[int(hist[int(np.argmax(sims))])])
        return f"similar to {title} you {self.words.verb}"

    def text(self, user: str, item: str) -> str | None:
        vec, users, items, vocab = self._text_index()
        u = self.user_ids.get_indexer([user])[0]
        if u < 0 or vec is None:
            return None
        c = self.item_ids.get_loc(item)
        prod = users[u].multiply(items[c])
        if prod.nnz == 0:
            return None
        term = vocab[prod.indices[int(np.argmax(prod.data))]]
        return f"matches what you wrote about {term}"

    def wrote(self, user: str) -> str | None:
        """A text model's pick that shares no term with what the user wrote: its meaning
        (sentence vectors) is close; None for a user who wrote nothing."""
        _, users, _, _ = self._text_index()
        u = self.user_ids.get_indexer([user])[0]
        if u < 0 or users.shape[0] == 0 or users[u].nnz == 0:
            return None
        return "close to what you wrote"

    def explain(self, user: str, item: str, kind: str) -> str:
        """A reason of ``kind`` for (user, item), falling back as described in the module."""
        out: str | None = None
        if kind == "text":
            out = (
                self.text(user, item) or self.similar(user, item, latent=False) or self.wrote(user)
            )
        elif kind == "segment":
            out = self.segment(user)
        elif kind == "similar":
            out = self.similar(user, item)
        elif kind == "trending":
            out = self.trending(item)
        elif kind == "social":
            out = self.social(user, item)
        elif kind == "peers":
            out = self.peers(user, item)
        return out or self.popular(item)

    # -- text index -------------------------------------------------------------------------
    def _text_index(self) -> tuple[Any, sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        if self._text is not None:
            return self._text
        from sklearn.feature_extraction.text import TfidfVectorizer

        ds = self.ctx.train
        t = ds.texts.dropna(subset=["text"])
        empty = sp.csr_matrix((0, 0))
        if len(t) == 0:
            self._text = (None, empty, empty, np.empty(0, dtype=object))
            return self._text
        user_doc = t.groupby(t.user_id.cat.codes.to_numpy()).text.agg(" ".join)
        it = t[t.item_id.notna()]
        item_doc = pd.Series("", index=np.arange(len(self.item_ids)), dtype="object")
        if len(it):
            g = it.groupby(it.item_id.cat.codes.to_numpy()).text.agg(" ".join)
            item_doc.loc[g.index] = g.to_numpy()
        if len(ds.items):
            meta = (
                ds.items.title.fillna("").astype(str)
                + " "
                + ds.items.categories.fillna("").astype(str).str.replace("|", " ", regex=False)
            )
            codes = ds.items.item_id.cat.codes.to_numpy()
            item_doc.loc[codes] = item_doc.loc[codes].to_numpy() + " " + meta.to_numpy()
        vec = TfidfVectorizer(
            stop_words="english",
            min_df=2,
            max_df=0.5,
            max_features=30000,
            sublinear_tf=True,
            token_pattern=r"(?u)\b[^\W\d_]{3,}\b",  # words of 3+ letters: not 'sn' of 'SN-2'
            preprocessor=lambda doc: html.unescape(doc).lower(),  # '&#34;' is no word
        )
        try:
            vec.fit(pd.concat([user_doc, item_doc[item_doc.str.len() > 0]]).to_numpy())
        except ValueError:  # empty vocabulary: texts too short or all stop words
            self._text = (None, empty, empty, np.empty(0, dtype=object))
            return self._text
        uv = vec.transform(user_doc.to_numpy())
        users = _rows(uv, user_doc.index.to_numpy(), len(self.user_ids))
        items = vec.transform(item_doc.to_numpy()).tocsr()
        self._text = (vec, users.tocsr(), items, vec.get_feature_names_out())
        return self._text


def _rows(m: sp.csr_matrix, rows: np.ndarray, n: int) -> sp.csr_matrix:
    """Place the rows of ``m`` at positions ``rows`` of an ``n``-row matrix."""
    perm = sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n, m.shape[0]))
    return (perm @ m).tocsr()
