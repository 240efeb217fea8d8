"""Short, cheap reasons for recommended items.

Seven kinds, each computed only for the items actually returned:

* ``popular``: "popular with shoppers overall (N buyers)";
* ``trending``: "trending: N buyers in the last D days" (the last tenth of the training period);
* ``segment``: "popular with <segment name>";
* ``social``: "chosen by N of your friends" (the training items of the friends the user names;
  a fitted model's users name the friends of its :class:`~segrec.recommend.SocialRecommender`);
* ``peers``: "chosen by N people who write like you" (the nearest writers of the model's
  :class:`~segrec.recommend._textknn.TextKNNRecommender`, when it has one);
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

The index is built once per training dataset (:func:`reason_index`) into plain arrays
(:mod:`segrec.recommend._reason_data`), so it explains without the Dataset, after a save and a
load, and for users the model never saw (:class:`Asker`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec._ids import positions
from segrec.data import Wording
from segrec.recommend._base import FitContext
from segrec.recommend._reason_data import ReasonData, reason_data

__all__ = ["Asker", "ReasonIndex", "reason_index"]

_CACHE_KEY = "reason_index"


def reason_index(ctx: FitContext) -> ReasonIndex:
    """The :class:`ReasonIndex` of ``ctx``, built once and cached on the context (its
    dataset-wide arrays once per training dataset)."""
    idx = ctx.cache.get(_CACHE_KEY)
    if idx is None:
        idx = ReasonIndex(ctx)
        ctx.cache[_CACHE_KEY] = idx
    return idx


def _short(title: str, width: int = 48) -> str:
    title = " ".join(str(title).split())
    return title if len(title) <= width else title[: width - 1].rstrip() + "\u2026"


@dataclass
class Asker:
    """What the reasons know about one user: ``history`` (item codes), ``segment`` (None: none),
    ``terms`` (1 x vocabulary TF-IDF row of what they wrote, or None), ``friends`` (training
    user codes) and ``peers`` (item code -> how many nearest writers chose it, or None);
    ``sims`` (item code -> co-choice counts with each history item) is filled by
    :meth:`ReasonIndex.prepare` for the items of one list at once."""

    history: np.ndarray
    segment: int | None = None
    terms: sp.csr_matrix | None = None
    friends: np.ndarray | None = None
    peers: Callable[[int], int] | None = None
    sims: dict[int, np.ndarray] | None = None


class ReasonIndex:
    """Lookups for reasons: the training period's arrays (:class:`ReasonData`) and the
    segmentation's members and names."""

    def __init__(self, ctx: FitContext | None = None, data: ReasonData | None = None) -> None:
        if ctx is not None:
            data = reason_data(ctx)
        if data is None:
            raise ValueError("ReasonIndex needs a FitContext or its ReasonData")
        self.data = data
        self.segment_users: pd.Index = pd.Index([], dtype="object")
        self.segment_labels = np.empty(0, dtype=np.int64)
        self.segment_names: dict[int, str] = {}
        if ctx is not None and ctx.segmentation is not None:
            s = ctx.segmentation.series()
            self.segment_users = pd.Index(s.index.astype(str), dtype="object")
            self.segment_labels = s.to_numpy().astype(np.int64)
            self.segment_names = {**ctx.segmentation.names, **ctx.segment_names}

    @property
    def item_ids(self) -> pd.Index:
        return self.data.item_ids

    @property
    def words(self) -> Wording:
        return self.data.words

    # -- who is asking -----------------------------------------------------------------------
    def asker(self, user: str, history: np.ndarray | None = None) -> Asker:
        """A training user as the fit saw them (history, segment, terms)."""
        d = self.data
        u = positions(d.user_ids, [user])[0]
        if history is None:
            history = np.empty(0, np.int64) if u < 0 else d.history(u)
        terms = d.user_terms[u] if u >= 0 and d.user_terms.shape[0] else None
        return Asker(history, self.fitted_segment(user), terms)

    def fitted_segment(self, user: str) -> int | None:
        """The user's segment in the fit's segmentation; None for a user not in it."""
        s = int(self.fitted_segments([user])[0])
        return None if s < 0 else s

    def fitted_segments(self, users: list[str]) -> np.ndarray:
        """Each user's segment in the fit's segmentation (-1 for users not in it), in one
        lookup: scoring asks for whole batches."""
        p = positions(self.segment_users, users)
        out = np.full(len(users), -1, np.int64)
        out[p >= 0] = np.asarray(self.segment_labels, np.int64)[p[p >= 0]]
        return out

    def new_asker(self, history: np.ndarray, segment: int, texts: list[str]) -> Asker:
        """A user the fit did not see (or whose state changed) from what they have now."""
        space = self.data.space
        terms = None
        if space is not None and texts:
            terms = space.terms([" ".join(texts)])[0]
        return Asker(history, segment if segment >= 0 else None, terms)

    # -- individual reasons -----------------------------------------------------------------
    def popular(self, item: str) -> str:
        c = self.item_ids.get_loc(item)
        w, n = self.words, int(self.data.popularity[c])
        if w.people == f"{w.actor}s":  # not "popular with reviewers overall (9 reviewers)"
            return f"popular overall ({w.actors(n)})"
        return f"popular with {w.people} overall ({w.actors(n)})"

    def trending(self, item: str) -> str | None:
        n = int(self.data.recent_counts[self.item_ids.get_loc(item)])
        days = self.data.recent_days
        if n == 0 or days == 0:
            return None
        return f"trending: {self.words.actors(n)} in the last {days} days"

    def social(self, who: Asker, item: str) -> str | None:
        if who.friends is None or len(who.friends) == 0:
            return None
        col = self.data.csc[:, [self.item_ids.get_loc(item)]]
        n = int(np.isin(who.friends, col.indices).sum())
        if n == 0:
            return None
        return f"chosen by {n} of your friends" if n > 1 else "chosen by one of your friends"

    def peers(self, who: Asker, item: str) -> str | None:
        n = who.peers(self.item_ids.get_loc(item)) if who.peers is not None else 0
        if n == 0:
            return None
        return (
            f"chosen by {n} people who write like you"
            if n > 1
            else "chosen by one person who writes like you"
        )

    def segment(self, who: Asker) -> str | None:
        if who.segment is None:
            return None
        sid = int(who.segment)
        name = self.segment_names.get(sid) or f"segment {sid}"
        return f"popular with {name}"

    def prepare(self, who: Asker, items: np.ndarray) -> None:
        """Co-choice counts of ``who``'s history items with each of ``items`` in one sparse
        product (what :meth:`similar` reads), instead of one product per item of a list."""
        if len(who.history) == 0 or len(items) == 0:
            return
        cols = positions(self.item_ids, [str(i) for i in items])
        cols = cols[cols >= 0]
        csc = self.data.csc
        block = (csc[:, who.history].T @ csc[:, cols]).toarray()
        who.sims = {int(c): block[:, j] for j, c in enumerate(cols)}

    def similar(self, who: Asker, item: str, latent: bool = True) -> str | None:
        hist = who.history
        if len(hist) == 0:
            return None
        csc = self.data.csc
        c = self.item_ids.get_loc(item)
        sims = (who.sims or {}).get(c)
        if sims is None:
            sims = np.asarray((csc[:, hist].T @ csc[:, [c]]).todense()).ravel()
        if sims.max() <= 0:  # a latent-factor pick: nobody chose it beside this user's items
            return "chosen by people with tastes like yours" if latent else None
        title = _short(self.data.titles[int(hist[int(np.argmax(sims))])])
        return f"similar to {title} you {self.words.verb}"

    def text(self, who: Asker, item: str) -> str | None:
        if who.terms is None or self.data.item_terms.shape[0] == 0:
            return None
        prod = who.terms.multiply(self.data.item_terms[self.item_ids.get_loc(item)]).tocsr()
        if prod.nnz == 0:
            return None
        term = self.data.vocabulary[prod.indices[int(np.argmax(prod.data))]]
        return f"matches what you wrote about {term}"

    def wrote(self, who: Asker) -> str | None:
        """A text model's pick that shares no term with what the user wrote: its meaning
        (sentence vectors) is close; None for a user who wrote nothing."""
        if who.terms is None or who.terms.nnz == 0:
            return None
        return "close to what you wrote"

    def explain(self, user: str | Asker, item: str, kind: str) -> str:
        """A reason of ``kind`` for (user, item), falling back as described in the module;
        ``user`` is a training user's id or an :class:`Asker`."""
        who = self.asker(user) if isinstance(user, str) else user
        out: str | None = None
        if kind == "text":
            out = self.text(who, item) or self.similar(who, item, latent=False) or self.wrote(who)
        elif kind == "segment":
            out = self.segment(who)
        elif kind == "similar":
            out = self.similar(who, item)
        elif kind == "trending":
            out = self.trending(item)
        elif kind == "social":
            out = self.social(who, item)
        elif kind == "peers":
            out = self.peers(who, item)
        return out or self.popular(item)

    # -- state -------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            **self.data.state(),
            "segment_users": self.segment_users,
            "segment_labels": self.segment_labels,
            "segment_names": {int(k): str(v) for k, v in self.segment_names.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ReasonIndex:
        idx = cls(data=ReasonData.from_state(state))
        idx.segment_users = state["segment_users"]
        idx.segment_labels = np.asarray(state["segment_labels"], dtype=np.int64)
        idx.segment_names = dict(state["segment_names"])
        return idx
