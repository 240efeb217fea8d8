"""A batch of users to score, described by what they have rather than by a training id.

:class:`UserRows` is what :meth:`~segrec.recommend.ScoringRecommender.score_rows` and
``recommend_rows`` take: each user's history over the fitted model's items, segment, text
profile, raw texts and named friends. Rows marked ``fitted`` are a user exactly as the fit saw
them (the model may use its stored per-user state and scores them exactly as ``score``); other
rows are folded in from what they carry, so a user the model never saw (or whose history
changed since the fit) goes through the same code as everyone else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec._ids import positions
from segrec.data._one_user import OneUserEvents
from segrec.diagnostics import UsageError

if TYPE_CHECKING:
    from segrec.data import Dataset
    from segrec.features import UserFeatures
    from segrec.recommend._scorer import ScoringRecommender

__all__ = ["UserRows", "fitted_history", "history_matrix"]


def fitted_history(m: sp.csr_matrix, codes: np.ndarray) -> sp.csr_matrix:
    """float32 rows ``codes`` of the fit's matrix ``m`` (an empty row for code -1), without
    stored zeros, each row's entries in reverse order.

    Exactly what ``diags(codes >= 0) @ m[max(codes, 0)]`` gives (scipy's product lists a row's
    entries last first), which the scores were computed from until it cost a quarter of a
    known user's ``recommend``: built here with numpy in one construction, not five.
    """
    codes = np.asarray(codes, np.int64)
    if not m.has_canonical_format:  # duplicates the product would merge: let it
        hist = sp.csr_matrix(m[np.maximum(codes, 0)], dtype=np.float32)
        hist = sp.csr_matrix(sp.diags((codes >= 0).astype(np.float32)) @ hist)
        hist.eliminate_zeros()
        return hist
    ok = codes >= 0
    c = np.where(ok, codes, 0)
    ends = m.indptr[c + 1].astype(np.int64)
    lens = np.where(ok, ends - m.indptr[c], 0)
    starts = np.repeat(np.cumsum(lens) - lens, lens)
    pos = np.repeat(ends - 1, lens) - (np.arange(int(lens.sum())) - starts)
    data = m.data[pos].astype(np.float32)
    keep = data != 0
    row = np.repeat(np.arange(len(codes)), lens)[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(codes)))])
    return sp.csr_matrix((data[keep], m.indices[pos][keep], indptr), shape=(len(codes), m.shape[1]))


def history_matrix(item_ids: pd.Index, events: Sequence[Sequence[Any]]) -> sp.csr_matrix:
    """Binary (len(events) x len(item_ids)) float32 CSR history, the weights of the fit's
    ``ctx.matrix``; an event is an item id or a mapping with ``item_id``. Items the model does
    not know are dropped."""
    rows, cols = [], []
    for r, evs in enumerate(events):
        ids = [str(e["item_id"]) if isinstance(e, Mapping) else str(e) for e in evs]
        c = np.unique(positions(item_ids, ids))
        c = c[c >= 0]
        rows.append(np.full(len(c), r))
        cols.append(c)
    r_all = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c_all = np.concatenate(cols) if cols else np.empty(0, np.int64)
    out = sp.csr_matrix(
        (np.ones(len(r_all), np.float32), (r_all, c_all)),
        shape=(len(events), len(item_ids)),
        dtype=np.float32,
    )
    out.sort_indices()
    return out


@dataclass(frozen=True)
class UserRows:
    """Users to score (see the module docstring).

    ``history``: (n x n_items) binary CSR over the model's ``item_ids_``: scored from, masked
    (never recommended) and counted as the user's number of interactions. ``fitted``: True
    where the row is exactly the user's fit-time state. ``segments``: segment id per user (-1:
    none). ``text_vectors`` / ``has_text``: profiles in the sentence-encoder space (the ``text``
    block of the UserFeatures the model was fit with). ``texts``: raw texts each user wrote
    (for the TF-IDF spaces). ``friends``: ids of the users each one names as friends.
    """

    user_ids: list[str]
    history: sp.csr_matrix
    fitted: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    segments: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    text_vectors: np.ndarray | None = None
    has_text: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    texts: list[list[str]] = field(default_factory=list)
    friends: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.user_ids)
        fix = object.__setattr__
        fix(self, "user_ids", [str(u) for u in self.user_ids])
        h = sp.csr_matrix(self.history, dtype=np.float32)
        h.sort_indices()
        fix(self, "history", h)
        defaults: dict[str, Any] = {
            "fitted": np.zeros(n, bool),
            "segments": np.full(n, -1, np.int64),
            "has_text": np.zeros(n, bool),
            "texts": [[] for _ in range(n)],
            "friends": [[] for _ in range(n)],
        }
        for name, default in defaults.items():
            if len(getattr(self, name)) == 0 and n > 0:
                fix(self, name, default)
        fix(self, "fitted", np.asarray(self.fitted, bool))
        fix(self, "segments", np.asarray(self.segments, np.int64))
        fix(self, "has_text", np.asarray(self.has_text, bool))
        self._check(n)

    def _check(self, n: int) -> None:
        sizes = {
            "history": self.history.shape[0],
            "fitted": len(self.fitted),
            "segments": len(self.segments),
            "has_text": len(self.has_text),
            "texts": len(self.texts),
            "friends": len(self.friends),
        }
        if self.text_vectors is not None:
            sizes["text_vectors"] = len(self.text_vectors)
        bad = {k: v for k, v in sizes.items() if v != n}
        if bad:
            raise UsageError(f"UserRows: {len(self.user_ids)} user_ids but row counts {bad}")

    def __len__(self) -> int:
        return len(self.user_ids)

    @property
    def n_history(self) -> np.ndarray:
        """Number of items in each user's history."""
        return np.diff(self.history.indptr)

    def seen(self, r: int) -> np.ndarray:
        """Item codes in row ``r``'s history."""
        h = self.history
        return h.indices[h.indptr[r] : h.indptr[r + 1]]

    def take(self, sel: np.ndarray) -> UserRows:
        """The rows at positions (or boolean mask) ``sel``."""
        idx = np.flatnonzero(sel) if np.asarray(sel).dtype == bool else np.asarray(sel, np.int64)
        if len(idx) == len(self) and bool((idx == np.arange(len(idx))).all()):
            return self  # every row in order (one new user's path asks for this 9 times a list)
        tv = None if self.text_vectors is None else self.text_vectors[idx]
        return replace(
            self,
            user_ids=[self.user_ids[i] for i in idx],
            history=self.history[idx],
            fitted=self.fitted[idx],
            segments=self.segments[idx],
            text_vectors=tv,
            has_text=self.has_text[idx],
            texts=[self.texts[i] for i in idx],
            friends=[self.friends[i] for i in idx],
        )

    @classmethod
    def known(
        cls,
        model: ScoringRecommender,
        user_ids: Sequence[str],
        texts: Sequence[Sequence[str]] | None = None,
    ) -> UserRows:
        """The fit-time rows of ``user_ids`` from ``model``'s stored state (all ``fitted``;
        users the model never saw get empty rows, which score as ``model.score`` scores them).
        A recommender keeps derived text state, not raw texts: pass ``texts`` to carry them."""
        ids = [str(u) for u in user_ids]
        codes = model.user_codes(ids)
        hist = fitted_history(model.matrix_, codes)
        parts = model.known_parts(ids)
        return cls(
            user_ids=ids,
            history=hist,
            fitted=np.ones(len(ids), bool),
            segments=parts.get("segments", np.full(len(ids), -1, np.int64)),
            text_vectors=parts.get("text_vectors"),
            has_text=parts.get("has_text", np.zeros(len(ids), bool)),
            texts=[list(t) for t in texts] if texts is not None else [[] for _ in ids],
            friends=parts.get("friends", [[] for _ in ids]),
        )

    @classmethod
    def new(
        cls,
        model: ScoringRecommender,
        user_ids: Sequence[str],
        events: Sequence[Sequence[Any]],
        texts: Sequence[Sequence[str]] | None = None,
        segments: Sequence[int] | np.ndarray | None = None,
        text_vectors: np.ndarray | None = None,
        has_text: Sequence[bool] | np.ndarray | None = None,
        friends: Sequence[Sequence[str]] | None = None,
    ) -> UserRows:
        """Rows of users as they are now (not ``fitted``): ``events`` per user (item ids, or
        mappings with ``item_id``) over ``model.item_ids_``, and whatever else is known."""
        n = len(user_ids)
        if has_text is None and text_vectors is not None:
            has_text = list(np.linalg.norm(text_vectors, axis=1) > 0)
        return cls(
            user_ids=list(user_ids),
            history=history_matrix(model.item_ids_, events),
            fitted=np.zeros(n, bool),
            segments=np.asarray(segments if segments is not None else [-1] * n, np.int64),
            text_vectors=text_vectors,
            has_text=np.asarray(has_text if has_text is not None else [False] * n, bool),
            texts=[list(t) for t in texts] if texts is not None else [[] for _ in range(n)],
            friends=[list(f) for f in friends] if friends is not None else [[] for _ in range(n)],
        )

    @classmethod
    def concat(cls, parts: Sequence[UserRows]) -> UserRows:
        """The rows of ``parts`` one after another (text vectors kept where every part has them
        in one width)."""
        if not parts:
            raise UsageError("UserRows.concat: nothing to concatenate; pass at least one UserRows")
        tv = [p.text_vectors for p in parts]
        widths = {v.shape[1] for v in tv if v is not None}
        vectors = None
        if len(widths) == 1:
            d = widths.pop()
            vectors = np.vstack(
                [
                    v if v is not None else np.zeros((len(p), d), np.float32)
                    for p, v in zip(parts, tv, strict=True)
                ]
            )
        return cls(
            user_ids=[u for p in parts for u in p.user_ids],
            history=sp.vstack([p.history for p in parts], format="csr"),
            fitted=np.concatenate([p.fitted for p in parts]),
            segments=np.concatenate([p.segments for p in parts]),
            text_vectors=vectors,
            has_text=np.concatenate(
                [
                    p.has_text if p.text_vectors is not None else np.zeros(len(p), bool)
                    for p in parts
                ]
            )
            if vectors is not None
            else np.zeros(sum(len(p) for p in parts), bool),
            texts=[t for p in parts for t in p.texts],
            friends=[f for p in parts for f in p.friends],
        )

    @classmethod
    def from_dataset(
        cls,
        model: ScoringRecommender,
        ds: Dataset | OneUserEvents,
        user_ids: Sequence[str],
        segments: Sequence[int] | np.ndarray | None = None,
        features: UserFeatures | None = None,
    ) -> UserRows:
        """Rows (not ``fitted``) of ``user_ids`` as ``ds`` has them now: their interactions'
        items, the texts they wrote, the friends their ties name (a directed tie counts both
        ways), and, from ``features``, the ``text`` block as text vectors (``has_text``: not
        missing)."""
        ids = [str(u) for u in user_ids]
        if isinstance(ds, OneUserEvents):
            if ids == [ds.user_id]:  # one new user's plain events: their items, nothing more
                vectors, has = _text_block(features, ids)
                return cls.new(
                    model,
                    ids,
                    [list(ds.items)],
                    texts=[[]],
                    segments=segments,
                    text_vectors=vectors,
                    has_text=has,
                    friends=[[]],
                )
            ds = ds.dataset()
        by_user, texts = _items_and_texts(ds, ids)
        vectors, has = _text_block(features, ids)
        return cls.new(
            model,
            ids,
            [by_user.get(u, []) for u in ids],
            texts=[texts.get(u, []) for u in ids],
            segments=segments,
            text_vectors=vectors,
            has_text=has,
            friends=_ties(ds, ids),
        )


def _items_and_texts(
    ds: Dataset, ids: list[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each user's items (interaction order) and texts (table order) in ``ds``."""
    inter, tx = ds.interactions, ds.texts
    if len(ids) == 1:  # one user (an online request): masks, not group-bys and copies
        u = ids[0]
        mine = _is(inter.user_id, u)
        wrote = _is(tx.user_id, u) & tx.text.notna().to_numpy()
        return (
            {u: [str(i) for i in inter.item_id.to_numpy()[mine]]},
            {u: [str(x) for x in tx.text.to_numpy()[wrote]]},
        )
    t = tx.dropna(subset=["text"])
    t = t[t.user_id.notna()]
    items = inter.item_id.astype(str).groupby(inter.user_id.astype(str), observed=True)
    wrote_by = t.text.astype(str).groupby(t.user_id.astype(str), observed=True)
    return {u: list(g) for u, g in items}, {u: list(g) for u, g in wrote_by}


def _is(col: pd.Series, u: str) -> np.ndarray:
    """Rows of ``col`` whose value, as a string, is ``u`` (a missing value never is)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        hit = np.flatnonzero(col.cat.categories.astype(str) == u)
        return np.isin(col.cat.codes.to_numpy(), hit)
    return np.asarray(col.astype(str).to_numpy() == u) & col.notna().to_numpy()


def _ties(ds: Dataset, ids: list[str]) -> list[list[str]]:
    """Friends each user names in ``ds.social`` (either end of a tie)."""
    s = ds.social
    if s is None or len(s) == 0:
        return [[] for _ in ids]
    src, dst = s["src"].astype(str).to_numpy(), s["dst"].astype(str).to_numpy()
    pairs = pd.DataFrame({"u": np.concatenate([src, dst]), "f": np.concatenate([dst, src])})
    pairs = pairs[pairs.u != pairs.f].drop_duplicates()
    named = {u: list(g) for u, g in pairs.groupby("u").f}
    return [named.get(u, []) for u in ids]


def _text_block(
    features: UserFeatures | None, ids: list[str]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if features is None or "text" not in features.blocks:
        return None, None
    uids = features.user_ids
    if len(uids) == len(ids) and all(str(a) == b for a, b in zip(uids, ids, strict=True)):
        pos = np.arange(len(ids))  # the features are of these users, in this order (online)
    else:
        pos = uids.astype(str).get_indexer(pd.Index(ids, dtype="object"))
    block = features.blocks["text"]
    out = np.zeros((len(ids), block.shape[1]), dtype=np.float32)
    has = pos >= 0
    out[has] = block[pos[has]]
    has[has] = ~features.missing.get("text", np.zeros(len(block), bool))[pos[has]]
    return out, has
