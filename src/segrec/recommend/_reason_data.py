"""The training period's arrays behind the reasons, built once per training dataset.

Item ids and labels, the wording, the user x item matrix scaled by 1/sqrt(item popularity) (its
column dot products are co-consumption cosines), popularity, recent distinct-user counts, and
the TF-IDF term space with the users' and items' term rows. Plain arrays only: a fitted model
saves them and explains without the Dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import Dataset, Wording, item_labels, wording
from segrec.recommend._base import FitContext
from segrec.recommend._shared import shared_cache
from segrec.recommend._tfidf import TextSpace, vectorizer

__all__ = ["ReasonData", "reason_data"]


@dataclass
class ReasonData:
    """See the module docstring; ``user_terms`` rows follow ``user_ids``, ``item_terms`` rows
    ``item_ids`` (both 0 x 0 without a text vocabulary)."""

    item_ids: pd.Index
    user_ids: pd.Index
    csc: sp.csc_matrix
    popularity: np.ndarray
    words: Wording
    titles: np.ndarray
    recent_counts: np.ndarray
    recent_days: int
    space: TextSpace | None
    user_terms: sp.csr_matrix
    item_terms: sp.csr_matrix
    _csr: sp.csr_matrix | None = field(default=None, repr=False)

    @property
    def vocabulary(self) -> np.ndarray:
        return self.space.vocabulary if self.space is not None else np.empty(0, dtype=str)

    def history(self, u: int) -> np.ndarray:
        """Item codes of training user ``u``."""
        if self._csr is None:
            self._csr = self.csc.tocsr()
        return self._csr.indices[self._csr.indptr[u] : self._csr.indptr[u + 1]]

    def state(self) -> dict[str, Any]:
        w = self.words
        return {
            "item_ids": self.item_ids,
            "user_ids": self.user_ids,
            "csc": self.csc,
            "popularity": self.popularity,
            "words": [w.verb, w.people, w.actor, w.gerund],
            "titles": self.titles,
            "recent_counts": self.recent_counts,
            "recent_days": self.recent_days,
            "space": None if self.space is None else self.space.state(),
            "user_terms": self.user_terms,
            "item_terms": self.item_terms,
        }

    @classmethod
    def from_state(cls, s: dict[str, Any]) -> ReasonData:
        return cls(
            item_ids=s["item_ids"],
            user_ids=s["user_ids"],
            csc=sp.csc_matrix(s["csc"]),
            popularity=s["popularity"],
            words=Wording(*s["words"]),
            titles=np.asarray(s["titles"]).astype(object),
            recent_counts=s["recent_counts"],
            recent_days=int(s["recent_days"]),
            space=None if s["space"] is None else TextSpace.from_state(s["space"]),
            user_terms=sp.csr_matrix(s["user_terms"]),
            item_terms=sp.csr_matrix(s["item_terms"]),
        )


def reason_data(ctx: FitContext) -> ReasonData:
    """The :class:`ReasonData` of ``ctx.train``, built once per training dataset."""
    cache = shared_cache(ctx.train)
    if "reason_data" not in cache:
        cache["reason_data"] = _build(ctx.train, ctx.matrix)
    out: ReasonData = cache["reason_data"]
    return out


def _build(ds: Dataset, matrix: sp.spmatrix) -> ReasonData:
    m = sp.csr_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(m.sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    counts, days = _recent_counts(ds)
    space, users, items = _text_index(ds)
    return ReasonData(
        item_ids=ds.item_ids,
        user_ids=ds.user_ids,
        csc=sp.csc_matrix(m @ sp.diags(1.0 / norms).astype(np.float32)),
        popularity=np.asarray(m.sum(axis=0)).ravel(),
        words=wording(ds),
        # titles, or "B0018TIADQ (strings, elixir)" where an item has none
        titles=item_labels(ds).reindex(ds.item_ids.astype(str)).astype(str).to_numpy(dtype=object),
        recent_counts=counts,
        recent_days=days,
        space=space,
        user_terms=users,
        item_terms=items,
    )


def _recent_counts(ds: Dataset) -> tuple[np.ndarray, int]:
    """Distinct users per item in the last tenth of the training period, and its days."""
    df = ds.interactions
    ts = df.timestamp.to_numpy(np.float64)
    span = float(ts.max() - ts.min()) if len(ts) else 0.0
    recent = ts >= ts.max() - 0.1 * span if span > 0 else np.zeros(len(ts), bool)
    pairs = pd.DataFrame(
        {
            "u": df.user_id.cat.codes.to_numpy()[recent],
            "i": df.item_id.cat.codes.to_numpy()[recent],
        }
    ).drop_duplicates()
    counts = np.bincount(pairs.i.to_numpy(), minlength=len(ds.item_ids))
    return counts, round(0.1 * span / 86400)


def _text_index(ds: Dataset) -> tuple[TextSpace | None, sp.csr_matrix, sp.csr_matrix]:
    """The reasons' term space and the users' and items' TF-IDF rows."""
    empty = sp.csr_matrix((0, 0))
    t = ds.texts.dropna(subset=["text"])
    if len(t) == 0:
        return None, empty, empty
    user_doc = t.groupby(t.user_id.cat.codes.to_numpy()).text.agg(" ".join)
    it = t[t.item_id.notna()]
    item_doc = pd.Series("", index=np.arange(len(ds.item_ids)), dtype="object")
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
    vec = vectorizer("reasons")
    try:
        vec.fit(pd.concat([user_doc, item_doc[item_doc.str.len() > 0]]).to_numpy())
    except ValueError:  # empty vocabulary: texts too short or all stop words
        return None, empty, empty
    user_doc = user_doc[user_doc.index >= 0]  # texts without a known author explain no one
    uv = vec.transform(user_doc.to_numpy())
    users = _place(uv, user_doc.index.to_numpy(), len(ds.user_ids))
    items = sp.csr_matrix(vec.transform(item_doc.to_numpy()))
    return TextSpace.of("reasons", vec), users, items


def _place(m: sp.csr_matrix, rows: np.ndarray, n: int) -> sp.csr_matrix:
    """Place the rows of ``m`` at positions ``rows`` of an ``n``-row matrix."""
    perm = sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n, m.shape[0]))
    return sp.csr_matrix(perm @ m)
