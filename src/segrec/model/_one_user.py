"""The one-user Dataset of a new user described by a few plain events, built without the
general constructor's per-column coercion.

``SegrecModel.assign(events=[...])`` is the online path (the service's ``POST /assign``): the
general route (:func:`~segrec.model._store.events_frame`, then
:func:`~segrec.model._store.user_dataset`, then ``Dataset.__post_init__``) coerces every column
of five tables with pandas and costs tens of milliseconds for five events. Here events whose
fields are already plain Python values (``item_id`` a string, numbers as ``int``/``float``,
``event`` a string) become the conformed tables directly; anything else (texts, friends,
numbers given as strings) returns ``None`` and the caller takes the general route. Both routes
give equal Datasets (``tests/model/test_one_user.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.model._store import EVENT_COLUMNS

__all__ = ["plain_events_dataset"]

_NUMBERS = ("rating", "weight", "amount")
_ALLOWED = frozenset(EVENT_COLUMNS) - {"user_id"}


def _num(v: Any) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool))


def _plain(ev: Any) -> bool:
    """True when ``ev`` is an event the fast route reads exactly as the general one."""
    if not isinstance(ev, dict) or not ev.keys() <= _ALLOWED:
        return False
    item, ts, kind = ev.get("item_id"), ev.get("timestamp"), ev.get("event")
    return (
        isinstance(item, str)
        and item != ""
        and (ts is None or (isinstance(ts, int) and not isinstance(ts, bool)))
        and (kind is None or (isinstance(kind, str) and kind != ""))
        and all(_num(ev.get(c)) for c in _NUMBERS)
    )


def _category(values: Any, categories: pd.Index) -> pd.Categorical:
    codes = categories.get_indexer(pd.Index(values, dtype="object"))
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))


def _strings() -> pd.Series:
    return pd.Series([], dtype="string")


def _labels(values: list[str]) -> pd.Categorical:
    """What ``Series(values, dtype="string").astype("category")`` gives, without the cost."""
    return _category(values, pd.Index(sorted(set(values)), dtype="string"))


def plain_events_dataset(user_id: str, events: Any, now: int) -> Dataset | None:
    """The Dataset of ``user_id`` doing ``events`` (missing time ``now``, missing event type
    ``interaction``, missing weight 1; each item once, the earliest kept), or ``None`` when an
    event is not plain (the caller then builds it the general way, which also reports errors).
    """
    if not events or not all(_plain(ev) for ev in events):
        return None
    ts = np.array([now if ev.get("timestamp") is None else ev["timestamp"] for ev in events])
    order = np.argsort(ts, kind="stable")
    seen: set[str] = set()
    keep = []
    for i in order.tolist():
        if events[i]["item_id"] not in seen:
            seen.add(events[i]["item_id"])
            keep.append(i)

    def col(name: str, default: float) -> np.ndarray:
        vals = [events[i].get(name) for i in keep]
        return np.array([default if v is None else float(v) for v in vals], dtype=np.float64)

    users = pd.Index([user_id], dtype="object", name="user_id")
    items = [events[i]["item_id"] for i in keep]
    item_ids = pd.Index(sorted(set(items)), dtype="object", name="item_id")
    kinds = [events[i].get("event") or "interaction" for i in keep]
    inter = pd.DataFrame(
        {
            "user_id": _category([user_id] * len(keep), users),
            "item_id": _category(items, item_ids),
            "timestamp": ts[keep].astype(np.int64),
            "event": _labels(kinds),
            "rating": col("rating", np.nan),
            "weight": col("weight", 1.0),
            "amount": col("amount", np.nan),
            "seq": np.asarray(keep, dtype=np.int64),
        }
    )
    texts = pd.DataFrame(
        {
            "user_id": _category([], users),
            "item_id": _category([], item_ids),
            "timestamp": pd.Series([], dtype="Int64"),
            "text": _strings(),
            "kind": _labels([]),
        }
    )
    item_table = pd.DataFrame(
        {
            "item_id": _category([], item_ids),
            "title": _strings(),
            "categories": _strings(),
            "price": pd.Series([], dtype="float64"),
            "brand": _strings(),
            "attrs": _strings(),
        }
    )
    social = pd.DataFrame(
        {
            "src": _category([], users),
            "dst": _category([], users),
            "kind": _labels([]),
            "weight": pd.Series([], dtype="float64"),
        }
    )
    return Dataset.assembled(
        {
            "interactions": inter,
            "texts": texts,
            "items": item_table,
            "users": pd.DataFrame({"user_id": _category([], users)}),
            "social": social,
        },
        users,
        item_ids,
        name="users",
    )
