"""Scrub one user's rows from fitted parts, whatever their class, without a refit.

A fitted part keeps per-user state as arrays aligned with an index of user ids: the
recommenders' ``user_ids_`` (train matrix rows, factors, text vectors, friends, segment
labels), the reason index's users, the GCN fold-in's users (hidden states, degrees, ties).
:func:`scrub_parts` walks a part's attributes (recursively into nested recommenders,
featurizers, plain segrec objects, lists, tuples and dicts), finds every string index that holds
the user at position ``p``, and then for every array or sparse matrix of the same object whose
first dimension is that index's length clears row ``p`` (and column ``p`` of a users x users
matrix: friends, graph adjacency, ties): dense rows are zeroed (``-1`` in signed integer arrays, what lookups
give a user they do not know; ``False``; ``""``), sparse entries are removed (not set to zero:
the column indices alone would say which items the user chose). The id becomes a tombstone
(``"\\x00forgotten:<p>"``), unique per position, so the index keeps its length and every other
user keeps their code: their own rows, scores and segments are exactly what they were. A
tombstone's rows are empty, so even a real id equal to one would score as an unknown user.

What does change for others is what counted the forgotten user's rows when answering: the text
neighbours' votes (textknn, the hybrid's ``peers``) of users who had them among their nearest
writers, which move the lists of cold users whose blend weights ``peers``; and reasons that
count friends, nearest writers or co-consumption ("chosen by 3 of your friends" becomes 2).
Learned weights they contributed to (item-item similarities, item factors, other users' friend
counts and GCN states, segment tables) stay until a refit.

Rows are matched by length, so the few arrays that follow something else are named here:
:data:`_PAIRS` (arrays that follow a second index of the same object, not ``user_ids_``),
:data:`_SELECTIONS` (positions into the user index, with arrays whose rows follow them),
:data:`_STACKED` (users then items in one array), :data:`_USERS_BY_USERS` and
:data:`_NOT_PER_USER`. Where a length is
ambiguous (as many users as items, say) the row is left and the path listed in ``unsure``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel

__all__ = ["TOMBSTONE", "Scrubbed", "scrub_parts", "scrub_user"]

#: prefix of the id a forgotten user's position takes (its position follows)
TOMBSTONE = "\x00forgotten:"
#: second indexes of users and the arrays that follow them rather than ``user_ids_``
_PAIRS: dict[str, tuple[str, ...]] = {
    "members_": ("labels_",),
    "soft_users_": ("soft_",),
    "text_users_": ("text_vectors_",),
    "segment_users": ("segment_labels",),
    "emb_users_": ("user_factors_",),
}
#: positions into the user index (textknn's voters), and the arrays whose rows follow them
_SELECTIONS: dict[str, tuple[str, ...]] = {"voters_": ("voter_items_",)}
#: arrays whose first rows follow an index and whose other rows are items (LightGCN layer 0)
_STACKED: dict[str, str] = {"emb0_": "emb_users_"}
#: never per-user rows, whatever their length (layer weights, modelled item codes)
_NOT_PER_USER = frozenset({"layers_", "modelled_"})
#: users x users matrices: the user's column goes too (others' ties to them); any other
#: square array keeps its columns (64 users with 64 factors are not a users x users matrix)
_USERS_BY_USERS = frozenset({"friends_", "social_", "adjacency_", "ties"})
#: caches rebuilt on demand (the hybrid's last request, a CSR copy of the reasons' history)
_CACHES = frozenset({"_memo", "_csr", "_walked", "_tops"})
_PRIMARY = ("user_ids_", "user_ids")
_FOLLOWERS = frozenset(f for fs in _SELECTIONS.values() for f in fs)


@dataclass(frozen=True)
class Scrubbed:
    """What a scrub cleared: ``paths`` (the attributes that held the user's rows or id, as
    ``part.attribute.attribute``) and ``unsure`` (arrays as long as a user index that may be
    per-item rows: left as they are, a refit removes them)."""

    paths: list[str]
    unsure: list[str]


def scrub_parts(parts: dict[str, Any], user_id: str, skip: tuple[Any, ...] = ()) -> Scrubbed:
    """Clear ``user_id``'s rows and id in place from fitted ``parts`` (name -> object, None
    skipped); objects in ``skip`` (a text encoder) are not entered."""
    w = _Walker(str(user_id), skip)
    for name, part in parts.items():
        if part is not None:
            w.obj(part, name, None)
    return Scrubbed(w.paths, w.unsure)


def scrub_user(obj: Any, user_id: str) -> Scrubbed:
    """Clear ``user_id``'s rows and id from one fitted ``obj`` in place.

    >>> # scrub_user(model.recommender, "u0000007").paths  # ['m.matrix_', 'm.user_ids_', ...]
    """
    return scrub_parts({"m": obj}, user_id)


@dataclass
class _Scope:
    """The user indexes of one object: name -> (length, positions of the user)."""

    found: dict[str, tuple[int, np.ndarray]]
    primary: str | None
    others: set[int]
    present: set[str]


def _is_ids(v: Any) -> bool:
    """A flat container of string ids (an index, a unicode or object array, a list)."""
    if isinstance(v, pd.Index):
        return not isinstance(v, pd.MultiIndex) and (v.dtype == object or v.dtype == "string")
    if isinstance(v, np.ndarray):
        return v.ndim == 1 and (v.dtype.kind == "U" or (v.dtype == object and _all_str(v)))
    return isinstance(v, list) and len(v) > 0 and _all_str(v)


def _walkable(v: Any) -> bool:
    """A segrec object whose attributes may hold fitted state (not a text encoder, whose
    cached vectors :func:`~segrec.model._forget.forget_text_embeddings` purges)."""
    t = type(v)
    return (
        t.__module__.startswith("segrec.")
        and hasattr(v, "__dict__")
        and t.__name__ not in ("TextEmbedder",)
    )


def _all_str(v: Any) -> bool:
    return all(isinstance(x, str) for x in v)


def _fill(dtype: np.dtype) -> Any:
    if dtype.kind == "b":
        return False
    if dtype.kind == "i":
        return -1
    if dtype.kind in "US":
        return ""
    return None if dtype.kind == "O" else 0


def _drop_entries(m: Any, pos: np.ndarray, square: bool) -> Any:
    """``m`` without the entries in rows ``pos`` (and columns ``pos`` if ``square``), every
    other entry kept in its order (so products over them add up exactly as before)."""
    if m.format not in ("csr", "csc"):
        m = m.tocsr()
    major = np.repeat(np.arange(len(m.indptr) - 1), np.diff(m.indptr))
    rows, cols = (major, m.indices) if m.format == "csr" else (m.indices, major)
    drop = np.isin(rows, pos) | (square & np.isin(cols, pos))
    if not drop.any():
        return m
    keep = ~drop
    counts = np.bincount(major[keep], minlength=len(m.indptr) - 1)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(m.indptr.dtype)
    return type(m)((m.data[keep], m.indices[keep], indptr), shape=m.shape)


def _clear_rows(v: Any, pos: np.ndarray, square: bool) -> Any:
    if sp.issparse(v):
        return _drop_entries(v, pos, square)
    out = v if v.flags.writeable else v.copy()
    out[pos] = _fill(v.dtype)
    if square:
        out[:, pos] = _fill(v.dtype)
    return out


class _Walker:
    def __init__(self, uid: str, skip: tuple[Any, ...]) -> None:
        self.uid = uid
        self.skip = {id(s) for s in skip if s is not None}
        self.memo: dict[int, Any] = {}
        self.paths: list[str] = []
        self.unsure: list[str] = []

    def hit(self, path: str) -> None:
        if path not in self.paths:
            self.paths.append(path)

    def positions(self, v: Any) -> np.ndarray:
        a = v.to_numpy() if isinstance(v, pd.Index) else np.asarray(v, dtype=object)
        return np.flatnonzero(a.astype(object) == self.uid)

    def tombstone(self, v: Any, pos: np.ndarray) -> Any:
        values = np.array(list(v), dtype=object)
        values[pos] = [f"{TOMBSTONE}{p}" for p in pos]
        if isinstance(v, pd.Index):
            return pd.Index(values, dtype=v.dtype, name=v.name)
        if isinstance(v, list):
            return values.tolist()
        return values if v.dtype == object else np.asarray(values.tolist(), dtype=str)

    # -- objects ----------------------------------------------------------------------------
    def obj(self, o: Any, path: str, parent: _Scope | None) -> None:
        if id(o) in self.memo or id(o) in self.skip:
            return
        self.memo[id(o)] = o
        attrs = dict(vars(o))
        scope = self.scope(attrs, parent)
        for name, v in attrs.items():
            where = f"{path}.{name}"
            if name in _CACHES:  # dropped, not counted: no folder holds them
                if v is not None:
                    object.__setattr__(o, name, None)
                continue
            if name in _NOT_PER_USER or name in _FOLLOWERS:
                continue
            if name in _SELECTIONS:
                self.selection(o, attrs, name, scope, path)
                continue
            new = self.value(v, name, scope, where)
            if new is not v:
                object.__setattr__(o, name, new)

    def scope(self, attrs: dict[str, Any], parent: _Scope | None) -> _Scope | None:
        """The user indexes among ``attrs``; an object without string ids inherits its
        parent's (a GCN fold-in's cutoff follows the fold-in's users)."""
        ids = {k: v for k, v in attrs.items() if k not in _CACHES and _is_ids(v)}
        if not ids:
            return parent
        found = {k: (len(v), p) for k, v in ids.items() if len(p := self.positions(v))}
        others = {len(v) for k, v in ids.items() if k not in found}
        primary = next((k for k in _PRIMARY if k in found), None)
        if primary is None and len(found) == 1:
            primary = next(iter(found))
        return _Scope(found, primary, others, set(ids))

    def selection(
        self, o: Any, attrs: dict[str, Any], name: str, scope: _Scope | None, path: str
    ) -> None:
        if scope is None or scope.primary is None:
            return
        j = np.flatnonzero(np.isin(attrs[name], scope.found[scope.primary][1]))
        for f in _SELECTIONS[name]:
            v = attrs.get(f)
            if v is None or not len(j):
                continue
            self.hit(f"{path}.{f}")
            object.__setattr__(o, f, _clear_rows(v, j, square=False))

    # -- values -----------------------------------------------------------------------------
    def value(self, v: Any, name: str, scope: _Scope | None, path: str) -> Any:
        if v is None or isinstance(v, str | int | float | bool | np.generic | BaseModel | type):
            return v
        if id(v) in self.memo:
            return self.memo[id(v)]
        new = self._value(v, name, scope, path)
        self.memo[id(v)] = new
        return new

    def _value(self, v: Any, name: str, scope: _Scope | None, path: str) -> Any:
        if _is_ids(v):
            pos = self.positions(v)
            if not len(pos):
                return v
            self.hit(path)
            return self.tombstone(v, pos)
        if isinstance(v, np.ndarray) or sp.issparse(v):
            return self.array(v, name, scope, path)
        if isinstance(v, pd.DataFrame | pd.Series):
            drop = np.asarray([str(x) for x in v.index]) == self.uid
            if isinstance(v, pd.DataFrame) and "user_id" in v.columns:
                drop |= (v["user_id"].astype(str) == self.uid).to_numpy()
            if not drop.any():
                return v
            self.hit(path)
            return v[~drop]
        if isinstance(v, dict):
            out = {k: self.value(x, name, scope, f"{path}.{k}") for k, x in v.items()}
            if self.uid in out:
                self.hit(f"{path}.{self.uid}")
                del out[self.uid]
            same = len(out) == len(v) and all(out[k] is v[k] for k in out)
            return v if same else out
        if isinstance(v, list | tuple):
            items = [self.value(x, name, scope, f"{path}.{i}") for i, x in enumerate(v)]
            if all(a is b for a, b in zip(items, v, strict=True)):
                return v
            if isinstance(v, list):
                return items
            return type(v)(*items) if hasattr(v, "_fields") else tuple(items)
        if _walkable(v):
            self.obj(v, path, scope)
        return v

    def array(self, v: Any, name: str, scope: _Scope | None, path: str) -> Any:
        if scope is None or not scope.found or v.ndim == 0:
            return v
        pos = self.rows(v.shape, name, scope, path)
        if pos is None:
            return v
        square = name in _USERS_BY_USERS and v.ndim == 2 and v.shape[0] == v.shape[1]
        self.hit(path)
        return _clear_rows(v, pos, square)

    def rows(self, shape: tuple[int, ...], name: str, scope: _Scope, path: str) -> Any:
        """Positions of the user's rows in an array called ``name`` (None: not per user)."""
        d = shape[0]
        for index, followers in _PAIRS.items():
            if name in followers and index in scope.present:
                hit = scope.found.get(index)
                return hit[1] if hit is not None and hit[0] == d else None
        if name in _STACKED and _STACKED[name] in scope.present:
            hit = scope.found.get(_STACKED[name])
            return hit[1] if hit is not None and d >= hit[0] else None
        if "item" in name or not any(n == d for n, _ in scope.found.values()):
            return None
        if scope.primary is None or scope.found[scope.primary][0] != d or d in scope.others:
            if path not in self.unsure:
                self.unsure.append(path)
            return None
        return scope.found[scope.primary][1]
