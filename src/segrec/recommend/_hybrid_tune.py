"""The hybrid's tuning set: each validation user's shortlist of items, built in user chunks.

:meth:`HybridRecommender.tune <segrec.recommend.HybridRecommender.tune>` ranks every weight
combination on the validation users. It never needs the whole catalogue: only each user's
shortlist (:func:`_shortlist`, the union of every component's top ``size`` unseen items).
:func:`eval_set` builds that shortlist in chunks of :func:`tune_rows` users, so no array is
ever (validation users x items): at 10,000 users x 100,000 items the dense components of all
validation users would be ~1.4 GB each. What the unchunked build decides over all users at
once is still decided over all users (which components are distinct and non-constant), so a
chunked set is exactly the one-block set, value for value.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from segrec._budget import check_budget
from segrec._threads import map_row_blocks
from segrec.recommend._scorer import BATCH_CELLS

if TYPE_CHECKING:
    from segrec.recommend._base import FitContext
    from segrec.recommend._hybrid import HybridRecommender

__all__ = ["SEGMENT_FREE", "Parts", "Rel", "eval_set", "tops_store", "tune_rows"]

_log = logging.getLogger(__name__)


class Rel(NamedTuple):
    """A tuning set's relevance: ``mat`` (users x columns, boolean), each user's ideal DCG@k
    and the coordinates of the relevant cells (``rows``, ``cols``: ``np.nonzero(mat)``), which
    :func:`_ndcg` ranks without sorting every row. Build it with :func:`_rel`."""

    mat: np.ndarray
    idcg: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def _rel(mat: np.ndarray, idcg: np.ndarray) -> Rel:
    rows, cols = np.nonzero(mat)
    return Rel(mat, idcg, rows, cols)


#: one tuning set: (users, components, mask, relevance) on the users' shortlists
EvalSet = tuple[list[str], "Parts", np.ndarray, Rel]


@dataclass(frozen=True)
class Parts:
    """The z-scored components of a batch of users: ``z[name]`` is (n_users, n_items), or
    (1, n_items) for the components every user shares (``pop``, ``recent``); ``n`` holds the
    users' training interaction counts."""

    z: dict[str, np.ndarray]
    n: np.ndarray

    def rows(self, r: np.ndarray) -> Parts:
        """The users at positions ``r`` (shared one-row components are kept as they are)."""
        return Parts({k: v if v.shape[0] == 1 else v[r] for k, v in self.z.items()}, self.n[r])


def tune_rows(n_items: int) -> int:
    """Validation users whose dense components are built at once, for ``n_items`` items.

    The same cell budget as scoring (:data:`~segrec.recommend._scorer.BATCH_CELLS`) without
    scoring's 512-user cap: the published datasets' validation sets stay one block, so their
    components come from the same matrix products as before, bit for bit (a product's last
    bits depend on the block shape BLAS picks)."""
    return max(16, BATCH_CELLS // max(n_items, 1))


def eval_set(
    model: HybridRecommender, held: pd.DataFrame, k: int, cold_max: int | None = None
) -> EvalSet | None:
    """(users, components, mask, relevance) of the users of ``held`` (user_id, item_id) with
    training history, on items seen in training, restricted to each user's shortlist
    (:func:`_shortlist`); ``None`` when there are none. Built in chunks of
    :func:`tune_rows` users when the shortlist cuts the catalogue. ``cold_max``: keep only the
    users with at most this many training interactions (which components make the shortlist is
    still decided over every user of ``held``, so their rows are those of the whole set)."""
    cols = model.item_ids_.get_indexer(pd.Index(held.item_id.astype(str), dtype="object"))
    users = pd.Index(held.user_id.astype(str), dtype="object")
    codes = model.user_codes(users)
    ok = (cols >= 0) & (codes >= 0)
    ok[ok] = model.candidates_[cols[ok]] & (model.n_history_[codes[ok]] > 0)
    rel = pd.Series(cols[ok]).groupby(users[ok].to_numpy()).agg(lambda s: set(s.tolist()))
    if len(rel) == 0:
        return None
    ids = [str(u) for u in rel.index]
    rel_sets: list[set[int]] = rel.to_list()
    n_items = len(model.item_ids_)
    size: int | None = model.config.tune_shortlist  # type: ignore[attr-defined]
    rows = tune_rows(n_items)
    if size is None or size * N_COMPONENTS >= n_items or len(ids) <= rows:
        parts = model.components(ids)
        mask = model.mask(np.zeros((len(ids), n_items), dtype=np.float32), ids)
        keep = _distinct_non_constant(parts)
        r = _kept_rows(parts.n, cold_max)
        shared = _Tops.of(model, ids, r)
        if r is not None:
            parts, mask = parts.rows(r), mask[r]
            ids, rel_sets = [ids[i] for i in r], [rel_sets[i] for i in r]
        return ids, *_shortlist(parts, mask, rel_sets, k, size, keep, shared)
    _log.debug("hybrid tuning set: %d users x %d items in chunks of %d", len(ids), n_items, rows)
    starts = range(0, len(ids), rows)
    chunks = []
    for start in starts:
        check_budget(f"hybrid tuning set, users {start:,} to {start + rows:,}")
        chunks.append(_Chunk.of(model, ids[start : start + rows], size, cold_max))
    keep = _non_constant(chunks)
    parts_list, masks, cands = zip(*(c.select(keep, size) for c in chunks), strict=True)
    names = list(parts_list[0].z)
    parts = Parts(
        {n: np.concatenate([p.z[n] for p in parts_list]) for n in names},
        np.concatenate([p.n for p in parts_list]),
    )
    r = np.concatenate([c.rows + start for c, start in zip(chunks, starts, strict=True)])
    ids, rel_sets = [ids[i] for i in r], [rel_sets[i] for i in r]
    cand = np.concatenate(cands)
    return ids, parts, np.concatenate(masks), _shortlist_relevance(cand, rel_sets, n_items, k)


def top_columns(v: np.ndarray, size: int) -> np.ndarray:
    """Each row's ``size`` best columns of ``v``, in ``argpartition``'s order (row blocks side
    by side: :func:`~segrec._threads.map_row_blocks`)."""
    blocks = map_row_blocks(lambda r: np.argpartition(-v[r], size - 1, axis=1)[:, :size], *v.shape)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


#: the components that do not depend on the segmentation (every one but ``segment``): their
#: shortlist tops are the same in every hybrid that differs from another only in its
#: segmentation, as the evaluation's ``hybrid:<segmentation>`` rows do
SEGMENT_FREE = frozenset({"personal", "cold_base", "text", "pop", "recent", "social", "peers"})


class _Tops:
    """The shortlist tops of one block of users: computed, or taken from ``store`` for the
    :data:`SEGMENT_FREE` components, whose values are the same whenever the block and the
    model's non-segment parts are (:func:`tops_store`). ``block``: the users whose components
    were computed together (a product's last bits depend on its block) and the rows kept."""

    def __init__(self, store: dict[tuple[Any, ...], np.ndarray] | None, block: tuple[Any, ...]):
        self.store, self.block = store, block

    @classmethod
    def of(cls, model: HybridRecommender, ids: Sequence[str], rows: np.ndarray | None) -> _Tops:
        block = (tuple(ids), None if rows is None else rows.tobytes())
        return cls(getattr(model, "_tops", None), block)

    def top(self, name: str, v: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
        if self.store is None or name not in SEGMENT_FREE:
            return top_columns(v + mask, size)
        key = (*self.block, size, name)
        hit = self.store.get(key)
        if hit is None:
            hit = self.store[key] = top_columns(v + mask, size)
        return hit


def tops_store(model: HybridRecommender, ctx: FitContext) -> dict[tuple[Any, ...], np.ndarray]:
    """Where the hybrids fitted on ``ctx``'s training data keep their :data:`SEGMENT_FREE`
    shortlist tops, shared by every hybrid whose segment-free parts are the same: the same
    context data (features, item and user text vectors, seed), the same fitted personal models
    and the same settings of the other components. It lives in the training dataset's
    :func:`~segrec.recommend._shared.shared_cache` (with the objects it is keyed by, so their
    ids stay theirs), as long as the dataset does."""
    from segrec.recommend._shared import shared_cache

    cfg = model.config
    keep = (ctx.features, ctx.item_vectors, ctx.user_text, model.personal_, model.cold_model_)
    settings = cfg.model_dump(
        include={"base", "base_params", "cold_base", "cold_base_params", "history_weight"}
    )
    key = f"hybrid-tops:{[id(o) for o in keep]}:{ctx.random_state}:{sorted(settings.items())}"
    key += f":{cfg.recent_half_life!r}"  # type: ignore[attr-defined]
    cache = shared_cache(ctx.train)
    if key not in cache:
        cache[key] = (keep, {})
    store: dict[tuple[Any, ...], np.ndarray] = cache[key][1]
    return store


#: components of :meth:`HybridRecommender.components` (the most a shortlist unites)
N_COMPONENTS = 8


def _kept_rows(n: np.ndarray, cold_max: int | None) -> np.ndarray | None:
    return None if cold_max is None else np.flatnonzero(n <= cold_max)


def _distinct_non_constant(parts: Parts) -> list[str]:
    """The first name of each distinct (not the same array as an earlier one), non-constant
    component: the components whose top items make the shortlist."""
    keep: list[str] = []
    for name, v in parts.z.items():
        if not any(v is parts.z[c] for c in keep) and np.ptp(v) > 0:
            keep.append(name)
    return keep


@dataclass(frozen=True)
class _Chunk:
    """One chunk of users: every distinct component's top ``size`` unseen items (``tops``:
    first-name -> block of columns of ``cand``), each component's and the mask's values on
    those columns, and each distinct component's range over the chunk; for the chunk's users
    at ``rows`` (every user, or those with at most ``cold_max`` training interactions)."""

    rows: np.ndarray
    n: np.ndarray
    cand: np.ndarray
    z: dict[str, np.ndarray]
    mask: np.ndarray
    tops: dict[str, int]
    lo: dict[str, np.floating]
    hi: dict[str, np.floating]

    @classmethod
    def of(
        cls, model: HybridRecommender, ids: Sequence[str], size: int, cold_max: int | None
    ) -> _Chunk:
        parts = model.components(ids)
        mask = model.mask(np.zeros((len(ids), len(model.item_ids_)), dtype=np.float32), ids)
        tops: dict[str, int] = {}
        lo: dict[str, np.floating] = {}
        hi: dict[str, np.floating] = {}
        for name, v in parts.z.items():
            if not any(v is parts.z[d] for d in tops):
                tops[name] = len(tops)
                lo[name], hi[name] = np.min(v), np.max(v)
        r = _kept_rows(parts.n, cold_max)
        rows = np.arange(len(ids)) if r is None else r
        if r is not None:
            parts, mask = parts.rows(r), mask[r]
        shared = _Tops.of(model, ids, r)
        blocks = [shared.top(d, parts.z[d], mask, size) for d in tops]
        cand = np.concatenate(blocks, axis=1)
        z = {
            name: np.take_along_axis(np.broadcast_to(v, mask.shape), cand, 1)
            for name, v in parts.z.items()
        }
        return cls(rows, parts.n, cand, z, np.take_along_axis(mask, cand, 1), tops, lo, hi)

    def select(self, keep: list[str], size: int) -> tuple[Parts, np.ndarray, np.ndarray]:
        """Components, mask and columns on the union of the ``keep`` components' tops, in
        column order, each column once (repeats masked out), as :func:`_shortlist` builds it."""
        pos = np.concatenate(
            [np.arange(size) + self.tops[d] * size for d in keep] or [np.zeros(0, np.int64)]
        )
        cand = self.cand[:, pos]
        order = np.argsort(cand, axis=1, kind="stable")
        cand = np.take_along_axis(cand, order, 1)
        sub_mask = np.take_along_axis(self.mask[:, pos], order, 1)
        sub_mask[:, 1:][cand[:, 1:] == cand[:, :-1]] = -np.inf  # each item once
        z = {name: np.take_along_axis(v[:, pos], order, 1) for name, v in self.z.items()}
        return Parts(z, self.n), sub_mask, cand


def _non_constant(chunks: list[_Chunk]) -> list[str]:
    """The distinct components whose range over every chunk's users is positive (``np.ptp``
    of the whole, as :func:`_shortlist` decides it); every distinct one when none is (every
    ranking is then a tie; one block keeps the whole catalogue instead)."""
    first = list(chunks[0].tops)
    if any(list(c.tops) != first for c in chunks):  # defensive: identity is per model
        raise AssertionError("hybrid tuning chunks disagree on which components are shared")
    keep = []
    for d in first:
        hi = np.max(np.array([c.hi[d] for c in chunks]))
        lo = np.min(np.array([c.lo[d] for c in chunks]))
        if hi - lo > 0:
            keep.append(d)
    return keep or first


def _shortlist_relevance(cand: np.ndarray, rel: list[set[int]], n_items: int, k: int) -> Rel:
    """:func:`_relevance` on the shortlist columns ``cand`` (never users x items)."""
    n_users = len(rel)
    keys = np.fromiter(
        (r * n_items + i for r, items in enumerate(rel) for i in items), dtype=np.int64
    )
    offsets = np.arange(n_users, dtype=np.int64)[:, None] * n_items
    mat = np.isin(cand.astype(np.int64) + offsets, keys)
    return _rel(mat, _idcg(rel, k))


def _idcg(rel: list[set[int]], k: int) -> np.ndarray:
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    return np.array([disc[: min(len(items), k)].sum() for items in rel])


def _relevance(rel: list[set[int]], n_items: int, k: int) -> Rel:
    """(users x items boolean relevance matrix, ideal DCG@k per user) of ``rel``."""
    mat = np.zeros((len(rel), n_items), dtype=bool)
    for r, items in enumerate(rel):
        mat[r, list(items)] = True
    return _rel(mat, _idcg(rel, k))


def _rel_rows(rel: Rel, r: np.ndarray) -> Rel:
    return _rel(rel.mat[r], rel.idcg[r])


def _shortlist(
    parts: Parts,
    mask: np.ndarray,
    rel: list[set[int]],
    k: int,
    size: int | None,
    keep: list[str] | None = None,
    shared: _Tops | None = None,
) -> tuple[Parts, np.ndarray, Rel]:
    """Components, mask and relevance restricted to each user's shortlist: the union of every
    component's ``size`` best unseen items (repeats masked out).

    The blend's weights are non-negative, so an item outside every component's top ``size``
    reaches the blend's top k only when the components disagree wildly. The ideal DCG still
    counts every relevant item: one left off the shortlist is a miss. Nothing is cut (exact)
    when the union could cover the catalogue or ``size`` is None. ``keep``: the components
    whose tops count (:func:`_distinct_non_constant` of ``parts`` when not given). ``shared``:
    where the tops of the components that do not depend on the segmentation are kept.
    """
    n_users, n_items = mask.shape
    names = _distinct_non_constant(parts) if keep is None else keep
    if size is None or not names or size * len(names) >= n_items or n_users == 0:
        return parts, mask, _relevance(rel, n_items, k)
    shared = shared or _Tops(None, ())
    tops = [shared.top(c, parts.z[c], mask, size) for c in names]
    cand = np.sort(np.concatenate(tops, axis=1), axis=1)
    sub_mask = np.take_along_axis(mask, cand, 1)
    sub_mask[:, 1:][cand[:, 1:] == cand[:, :-1]] = -np.inf  # each item once
    z = {
        name: np.take_along_axis(np.broadcast_to(v, mask.shape), cand, 1)
        for name, v in parts.z.items()
    }
    return Parts(z, parts.n), sub_mask, _shortlist_relevance(cand, rel, n_items, k)


#: the most cells :func:`_ndcg` compares at once (relevant cells x columns)
_RANK_CELLS = 4_000_000


def _ndcg(s: np.ndarray, rel: Rel, k: int) -> np.ndarray:
    """NDCG@k per user of scores ``s`` against ``rel`` (from :func:`_relevance`): the same
    values as ranking each row's top k (:func:`_top_hits`), bit for bit, without sorting a row.

    A relevant item's place in the top k is the number of items of its row that score higher;
    only rows where a relevant item within reach of the top k shares its score with another item
    (whose order a sort decides) are ranked by :func:`_top_hits`. The weight search calls this
    once per combination; it compares each relevant cell with its row, which is several times
    cheaper than a partial sort of every row."""
    n, m = s.shape
    kk = min(k, m)
    hits = np.zeros((n, kk), dtype=bool)
    step = max(1, _RANK_CELLS // max(m, 1))

    def rank(cells: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, place) of the cells in ``cells`` that reach the top k; rows with a tie there."""
        found, places, tied = [], [], []
        for a in range(cells.start, cells.stop, step):
            b = min(a + step, cells.stop)
            rows, cols = rel.rows[a:b], rel.cols[a:b]
            sr = s[rows, cols]
            block = s[rows]
            above = np.count_nonzero(block > sr[:, None], axis=1)
            near = np.flatnonzero(above < kk)
            # 1: the item alone has its score (0: NaN, which a sort places last)
            same = np.count_nonzero(block[near] == sr[near, None], axis=1)
            found.append(rows[near])
            places.append(above[near])
            tied.append(rows[near[same != 1]])
        return _joined(found), _joined(places), _joined(tied)

    blocks = map_row_blocks(rank, len(rel.rows), m)
    for found, places, _ in blocks:
        hits[found, places] = True
    redo = np.unique(_joined([b[2] for b in blocks]))
    if len(redo):
        hits[redo] = _top_hits(s[redo], rel.mat[redo], kk)
    disc = 1.0 / np.log2(np.arange(2, kk + 2))
    dcg = hits @ disc
    return dcg / np.where(rel.idcg > 0, rel.idcg, 1.0)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _top_hits(s: np.ndarray, mat: np.ndarray, kk: int) -> np.ndarray:
    """Whether each row's ``kk`` best-scored columns, best first, are relevant (a partial sort
    of every row; ties in the order the sort leaves them)."""
    top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, 1)
    return np.take_along_axis(mat, top, 1)
