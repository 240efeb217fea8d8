"""One new user described by a few plain events, kept as arrays: the online assign path's input.

``SegrecModel.assign(events=[...])`` (the service's ``POST /assign``) is the latency path: the
general route (``events_frame``, then ``user_dataset``, then ``Dataset.__post_init__``) coerces
every column of five tables with pandas and costs milliseconds for five events, and so do the
group-bys and sparse builds that read such a Dataset. Events whose fields are already plain
Python values (``item_id`` a string, numbers as ``int``/``float``, ``event`` a string) become an
:class:`OneUserEvents` instead: the fitted parts that read a user's items (the behaviour row,
the item-text profile, the graph fold-in) have a numpy route for it, and everything else asks
:func:`as_dataset` for the equal one-user :class:`Dataset` (built once, on demand). Anything
not plain (texts, friends, numbers given as strings) returns ``None`` from
:func:`plain_events` and the caller takes the general route, which also reports errors.
Equalities are tested in ``tests/model/test_one_user.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segrec.data._dataset import Dataset
from segrec.data._schema import SCHEMAS

__all__ = [
    "OneUserEvents",
    "as_dataset",
    "is_plain_event",
    "plain_events",
    "plain_user_dataset",
    "stored_user_dataset",
]

_NUMBERS = ("rating", "weight", "amount")
#: the fields an event may carry (the interactions table's, less the user and file order)
_ALLOWED = frozenset(SCHEMAS["interactions"]) - {"user_id", "seq"}


@dataclass(frozen=True, eq=False)
class OneUserEvents:
    """One user's interactions as arrays, one entry per item (the earliest event of each),
    in time order (ties in the order given): what the user's Dataset's ``interactions`` holds.
    """

    user_id: str
    items: list[str]
    timestamp: np.ndarray  # int64
    event: list[str]
    rating: np.ndarray  # float64, NaN where none
    weight: np.ndarray  # float64
    amount: np.ndarray  # float64, NaN where none
    seq: np.ndarray  # int64: position in the events given
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def user_ids(self) -> pd.Index:
        return pd.Index([self.user_id], dtype="object", name="user_id")

    @property
    def n_users(self) -> int:
        return 1

    def dataset(self) -> Dataset:
        """The equal one-user :class:`Dataset` (built on first use, then kept)."""
        if "dataset" not in self._cache:
            self._cache["dataset"] = _build(self)
        out: Dataset = self._cache["dataset"]
        return out


def as_dataset(users: Dataset | OneUserEvents) -> Dataset:
    """``users`` as a :class:`Dataset` (for the parts without a one-user route)."""
    return users.dataset() if isinstance(users, OneUserEvents) else users


def _num(v: Any) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool))


def is_plain_event(ev: Any) -> bool:
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


def plain_events(user_id: str, events: Any, now: int) -> OneUserEvents | None:
    """``user_id`` doing ``events`` (missing time ``now``, missing event type ``interaction``,
    missing weight 1; each item once, the earliest kept), or ``None`` when an event is not
    plain."""
    if not events or not all(is_plain_event(ev) for ev in events):
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

    return OneUserEvents(
        user_id=user_id,
        items=[events[i]["item_id"] for i in keep],
        timestamp=ts[keep].astype(np.int64),
        event=[events[i].get("event") or "interaction" for i in keep],
        rating=col("rating", np.nan),
        weight=col("weight", 1.0),
        amount=col("amount", np.nan),
        seq=np.asarray(keep, dtype=np.int64),
    )


# -- the equal Dataset ---------------------------------------------------------------------
def _category(values: Any, categories: pd.Index) -> pd.Categorical:
    codes = categories.get_indexer(pd.Index(values, dtype="object"))
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))


def _strings() -> pd.Series:
    return pd.Series([], dtype="string")


def _labels(values: list[str]) -> pd.Categorical:
    """What ``Series(values, dtype="string").astype("category")`` gives, without the cost."""
    return _category(values, pd.Index(sorted(set(values)), dtype="string"))


def plain_user_dataset(user_id: str, events: Any, texts: Any, now: int) -> Dataset | None:
    """The one-user :class:`Dataset` of plain ``events`` (see :func:`plain_events`; none is
    fine) and ``texts`` given as non-empty strings, or objects with only ``text`` (PII
    scrubbed as the loaders scrub it),
    built without the general route's coercions; ``None`` when anything is not plain.

    A new user's review took the general route: its frames and the Dataset constructor cost
    about as much as embedding the review. ``tests/model/test_one_user.py`` checks that this
    Dataset equals the general one table by table."""
    from segrec.data._pii import scrub_pii

    # an object with nothing but its text (what the service's API passes) is that text
    texts = [t["text"] if isinstance(t, dict) and t.keys() == {"text"} else t for t in texts or []]
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        return None
    ev = plain_events(user_id, events, now) if events else _no_events(user_id)
    if ev is None:
        return None
    return _build(ev, scrub_pii(texts)[0], now)


def stored_user_dataset(
    user_id: str, events: pd.DataFrame, texts: pd.DataFrame, friends: list[str] | None = None
) -> Dataset:
    """The one-user :class:`Dataset` of one user's stored rows (a model store's plain frames:
    string ids, float64 numbers, Int64 times) and the ``friends`` they name, equal to what
    :func:`segrec.model._store.user_dataset` builds through the general constructor: each
    item once, the earliest kept (ties in time broken by row order), texts as they are.

    An update re-reads the user's whole history; the general constructor spent most of the
    update coercing it. ``tests/model/test_one_user.py`` checks the equality."""
    ts = events.timestamp.fillna(0).to_numpy(np.int64)
    items = events.item_id.astype(str).tolist()
    seen: set[str] = set()
    keep = []
    for i in np.argsort(ts, kind="stable").tolist():
        if items[i] not in seen:
            seen.add(items[i])
            keep.append(i)
    kinds = events.event.fillna("interaction").astype(str).tolist()

    def col(name: str) -> np.ndarray:
        return events[name].to_numpy(np.float64, na_value=np.nan)[keep]

    ev = OneUserEvents(
        user_id=user_id,
        items=[items[i] for i in keep],
        timestamp=ts[keep],
        event=[kinds[i] for i in keep],
        rating=col("rating"),
        weight=col("weight"),
        amount=col("amount"),
        seq=np.asarray(keep, dtype=np.int64),
    )
    about = [None if v is pd.NA or v is None else str(v) for v in texts.item_id.tolist()]
    return _build(
        ev,
        texts.text.astype(str).tolist(),
        times=texts.timestamp.astype("Int64").reset_index(drop=True),
        about=about,
        friends=friends,
    )


def _no_events(user_id: str) -> OneUserEvents:
    empty = np.zeros(0, np.float64)
    return OneUserEvents(
        user_id, [], np.zeros(0, np.int64), [], empty, empty, empty, np.zeros(0, np.int64)
    )


def _build(
    ev: OneUserEvents,
    texts: list[str] | None = None,
    now: int = 0,
    times: pd.Series | None = None,
    about: list[str | None] | None = None,
    friends: list[str] | None = None,
) -> Dataset:
    """The conformed tables of ``ev`` and of ``texts`` (written at ``now`` about no item, or at
    ``times`` about the items ``about``) and of the ties to ``friends``, as the general
    constructor would make them."""
    texts, friends = texts or [], friends or []
    about = about if about is not None else [None] * len(texts)
    users = pd.Index(sorted({ev.user_id, *friends}), dtype="object", name="user_id")
    named = {i for i in about if i is not None}
    item_ids = pd.Index(sorted(set(ev.items) | named), dtype="object", name="item_id")
    inter = pd.DataFrame(
        {
            "user_id": _category([ev.user_id] * len(ev.items), users),
            "item_id": _category(ev.items, item_ids),
            "timestamp": ev.timestamp,
            "event": _labels(ev.event),
            "rating": ev.rating,
            "weight": ev.weight,
            "amount": ev.amount,
            "seq": ev.seq,
        }
    )
    text_table = pd.DataFrame(
        {
            "user_id": _category([ev.user_id] * len(texts), users),
            "item_id": _category(about, item_ids),
            "timestamp": pd.Series([now] * len(texts), dtype="Int64") if times is None else times,
            "text": pd.Series(texts, dtype="string"),
            "kind": _labels(["review"] * len(texts)),
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
            "src": _category([ev.user_id] * len(friends), users),
            "dst": _category(friends, users),
            "kind": _labels(["friend"] * len(friends)),
            "weight": np.ones(len(friends)),
        }
    )
    return Dataset.assembled(
        {
            "interactions": inter,
            "texts": text_table,
            "items": item_table,
            "users": pd.DataFrame({"user_id": _category([], users)}),
            "social": social,
        },
        users,
        item_ids,
        name="users",
    )
