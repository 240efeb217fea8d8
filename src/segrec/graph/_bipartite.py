"""Dataset -> the user-item bipartite graph (scipy CSR, event-weighted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import Dataset
from segrec.diagnostics import UsageError

__all__ = ["EVENT_WEIGHTS", "BipartiteGraph", "build_user_item_graph", "event_weights"]

EVENT_WEIGHTS: dict[str, float] = {
    "purchase": 1.0,
    "rating": 1.0,
    "review": 1.0,
    "play": 1.0,
    "cart": 0.6,
    "tag": 0.8,
    "checkin": 0.8,
    "click": 0.3,
    "view": 0.2,
}


@dataclass(frozen=True)
class BipartiteGraph:
    """users x items CSR of edge weights, with the ids of its rows and columns."""

    matrix: sp.csr_matrix
    user_ids: pd.Index
    item_ids: pd.Index
    meta: dict[str, Any] = field(default_factory=dict)


def _compact(m: sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m, dtype=np.float32)
    m.sum_duplicates()
    m.eliminate_zeros()
    if m.nnz < np.iinfo(np.int32).max:
        m.indices = m.indices.astype(np.int32, copy=False)
        m.indptr = m.indptr.astype(np.int32, copy=False)
    return m


def _row_positions(ds: Dataset, user_ids: pd.Index | None) -> tuple[pd.Index, np.ndarray]:
    """Target index and, for each dataset user code, its row there (-1 when absent)."""
    if user_ids is None:
        return ds.user_ids, np.arange(ds.n_users)
    idx = pd.Index(user_ids, dtype="object", name="user_id")
    return idx, idx.get_indexer(ds.user_ids)


def event_weights(
    event: Any,
    weight: np.ndarray,
    rating: np.ndarray,
    table: Mapping[str, float] = EVENT_WEIGHTS,
    rating_max: float | None = None,
) -> np.ndarray:
    """Edge weight of each interaction (see :func:`build_user_item_graph`, ``"event"``): its
    event type's weight, times ``1 + log(weight)`` for play counts above 1, times
    ``rating / rating_max`` (clipped to [0.05, 1]) where a rating exists."""
    w = np.array([table.get(e, 1.0) for e in event], dtype=np.float64) if len(event) else np.ones(0)
    vol = np.asarray(weight, np.float64)
    vol = np.where(np.isfinite(vol) & (vol > 1.0), 1.0 + np.log(np.maximum(vol, 1.0)), 1.0)
    rating = np.asarray(rating, np.float64)
    has_r = np.isfinite(rating)
    if has_r.any():
        rmax = rating_max or float(np.nanmax(rating[has_r])) or 1.0
        vol = np.where(has_r, vol * np.clip(rating / rmax, 0.05, 1.0), vol)
    return w * vol


def build_user_item_graph(
    ds: Dataset,
    weights: Literal["event", "binary", "count"] | Mapping[str, float] = "event",
    user_ids: pd.Index | None = None,
    rating_max: float | None = None,
) -> BipartiteGraph:
    """The bipartite user-item graph of ``ds`` (use the training-period dataset).

    ``weights="event"`` weighs each interaction by its event type (:data:`EVENT_WEIGHTS`, or pass
    your own mapping), by ``1 + log(weight)`` for play counts above 1, and by ``rating / max
    rating`` where a rating exists; repeated interactions add up. ``"binary"`` and ``"count"``
    ignore all that. Rows follow ``user_ids`` (default ``ds.user_ids``; unknown users get empty
    rows). ``rating_max`` is the rating that counts as 1 (default: the highest in ``ds``).
    """
    index, pos = _row_positions(ds, user_ids)
    df = ds.interactions
    rows = pos[df.user_id.cat.codes.to_numpy()]
    cols = df.item_id.cat.codes.to_numpy()
    if isinstance(weights, str) and weights not in ("event", "binary", "count"):
        raise UsageError(
            f"weights='{weights}' is not a weighting; use 'event', 'binary', 'count' or a "
            "mapping event -> weight"
        )
    if weights in ("binary", "count"):
        w = np.ones(len(df), dtype=np.float64)
    else:
        table = EVENT_WEIGHTS if weights == "event" else dict(weights)  # type: ignore[arg-type]
        w = event_weights(
            df.event.astype("object").fillna("").to_numpy(),
            df["weight"].to_numpy(np.float64),
            df["rating"].to_numpy(np.float64),
            table,
            rating_max,
        )
    keep = rows >= 0
    m = sp.csr_matrix(
        (w[keep], (rows[keep], cols[keep])), shape=(len(index), ds.n_items), dtype=np.float64
    )
    m = _compact(m)
    if weights == "binary":
        m.data[:] = 1.0
    meta = {"weights": weights if isinstance(weights, str) else "custom", "edges": int(m.nnz)}
    return BipartiteGraph(m, index, ds.item_ids, meta)
