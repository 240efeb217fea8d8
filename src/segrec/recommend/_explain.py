"""Reasons for rows of users: who is asking (:class:`~segrec.recommend._reasons.Asker`), built
from a fitted model's stored state for ``fitted`` rows and from the rows themselves otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from segrec._ids import positions
from segrec.recommend._reasons import Asker, ReasonIndex

if TYPE_CHECKING:
    from segrec.recommend._rows import UserRows
    from segrec.recommend._scorer import ScoringRecommender

__all__ = ["askers", "explain_rows"]

#: kinds of the items of row r: (row, item ids) -> one kind per item
KindsOf = Callable[[int, np.ndarray], list[str]]


def _index(model: ScoringRecommender) -> ReasonIndex:
    idx = getattr(model, "reasons_", None)
    if idx is None:
        from segrec.diagnostics import UsageError

        raise UsageError(f"recommender '{model.name}' has no reason index: fit it first")
    return idx


def askers(model: ScoringRecommender, rows: UserRows) -> list[Asker]:
    """One :class:`Asker` per row: fitted rows as the fit saw them (their stored segment, terms
    and nearest writers), other rows from their own segment, texts and text vector."""
    from segrec.recommend._textknn import TextKNNRecommender

    idx = _index(model)
    peers = next((r for r in model.walk() if isinstance(r, TextKNNRecommender)), None)
    out = []
    for r, u in enumerate(rows.user_ids):
        hist = rows.seen(r)
        if rows.fitted[r]:
            who = idx.asker(u, history=hist)
        else:
            who = idx.new_asker(hist, int(rows.segments[r]), rows.texts[r])
        who.friends = _codes(idx, rows.friends[r])
        if peers is not None:
            who.peers = peers.peer_counter(rows, r)
        out.append(who)
    return out


def _codes(idx: ReasonIndex, users: list[str]) -> np.ndarray:
    if not users:
        return np.empty(0, np.int64)
    c = positions(idx.data.user_ids, [str(u) for u in users])
    return np.unique(c[c >= 0])


def explain_rows(
    model: ScoringRecommender, rows: UserRows, items: list[np.ndarray], kinds_of: KindsOf
) -> list[list[str]]:
    """One reason per item of ``items[r]`` for row ``r``, of the kinds ``kinds_of`` gives."""
    idx = _index(model)
    out = []
    for r, (who, its) in enumerate(zip(askers(model, rows), items, strict=True)):
        kinds = kinds_of(r, its)
        if "similar" in kinds or "text" in kinds:
            idx.prepare(who, its)
        out.append([idx.explain(who, str(it), kind) for it, kind in zip(its, kinds, strict=True)])
    return out
