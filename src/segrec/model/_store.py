"""What a model knows of each user: their events, texts and named friends, and the segment they
were last assigned with its history, so that one user can be re-featurized, re-assigned and
re-scored without the training Dataset.

Events and texts are kept with the columns of the Dataset's tables (string ids), so a user's
rows build a one-user :class:`~segrec.data.Dataset` that goes through exactly the featurizers
the batch went through.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec.data import SCHEMAS, Dataset
from segrec.diagnostics import UsageError

__all__ = ["EVENT_COLUMNS", "TEXT_COLUMNS", "UserStore", "events_frame", "texts_frame"]

#: the interactions table's columns less the file order (``seq`` is the store's own)
EVENT_COLUMNS = tuple(c for c in SCHEMAS["interactions"] if c != "seq")
TEXT_COLUMNS = ("user_id", "item_id", "timestamp", "text")
_ASSIGN_COLUMNS = ("user_id", "segment_id", "strength", "distance", "at", "source")
#: the store's tables and the column that says whose row it is
_USER_COLUMN = {"events": "user_id", "texts": "user_id", "ties": "src"}


def _plain(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    out = pd.DataFrame(
        {c: df[c] if c in df else pd.Series([None] * len(df), dtype=object) for c in cols}
    )
    for c in ("user_id", "item_id", "event", "text", "src", "dst"):
        if c in out:
            out[c] = out[c].astype("string")
    for c in ("rating", "weight", "amount"):
        if c in out:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    if "timestamp" in out:
        out["timestamp"] = pd.to_numeric(out["timestamp"], errors="coerce").astype("Int64")
    return out.reset_index(drop=True)


def _known_fields(obj: dict[str, Any], where: str, columns: tuple[str, ...]) -> dict[str, Any]:
    """``obj`` when it has only fields of ``columns`` (user_id excepted), else a UsageError
    naming the unknown ones and the allowed ones."""
    allowed = [c for c in columns if c != "user_id"]
    bad = sorted(set(obj) - set(allowed))
    if bad:
        raise UsageError(f"{where}: unknown field(s) {bad}; allowed: {allowed}")
    return obj


def events_frame(user_id: str, events: list[Any] | None, now: int) -> pd.DataFrame:
    """``events`` (dicts with the interactions table's column names) as rows of ``user_id``,
    checked: every event names an ``item_id``; a missing time is ``now``, a missing event
    type ``interaction`` and a missing weight 1."""
    from segrec.data._one_user import is_plain_event

    events = list(events or [])
    if events and all(is_plain_event(ev) for ev in events):
        return _plain_events_frame(user_id, events, now)
    return _general_events_frame(user_id, events, now)


def _general_events_frame(user_id: str, events: list[Any], now: int) -> pd.DataFrame:
    rows = []
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise UsageError(
                f"events[{i}]: expected an object with 'item_id'; got {type(ev).__name__}"
            )
        if ev.get("item_id") in (None, ""):
            raise UsageError(
                f"events[{i}].item_id: missing; every event names the item it is about"
            )
        rows.append({**_known_fields(ev, f"events[{i}]", EVENT_COLUMNS), "user_id": user_id})
    df = _plain(pd.DataFrame(rows), EVENT_COLUMNS)
    df["timestamp"] = df.timestamp.fillna(now)
    df["event"] = df.event.fillna("interaction")
    df["weight"] = df.weight.fillna(1.0)
    return df


@functools.cache
def _no_texts() -> pd.DataFrame:
    """:func:`texts_frame` of no texts (built once: an update with events only needs it)."""
    return _plain(pd.DataFrame([]), TEXT_COLUMNS)


def _plain_events_frame(user_id: str, events: list[dict[str, Any]], now: int) -> pd.DataFrame:
    """What :func:`events_frame` makes of events whose values are already plain (see
    :func:`~segrec.data._one_user.is_plain_event`), without its per-column coercions (they
    were a quarter of an update); tested equal in ``tests/model/test_one_user.py``."""

    def num(name: str, default: float) -> np.ndarray:
        vals = [ev.get(name) for ev in events]
        return np.array([default if v is None else float(v) for v in vals], dtype=np.float64)

    weight = num("weight", 1.0)
    frame = {
        "user_id": pd.array([user_id] * len(events), dtype="string"),
        "item_id": pd.array([ev["item_id"] for ev in events], dtype="string"),
        "timestamp": pd.array(
            [now if ev.get("timestamp") is None else ev["timestamp"] for ev in events],
            dtype="Int64",
        ),
        "event": pd.array(
            [ev["event"] if ev.get("event") is not None else "interaction" for ev in events],
            dtype="string",
        ),
        "rating": num("rating", np.nan),
        "weight": np.where(np.isnan(weight), 1.0, weight),
        "amount": num("amount", np.nan),
    }
    return pd.DataFrame(frame, columns=list(EVENT_COLUMNS))


def texts_frame(user_id: str, texts: list[Any] | None, now: int) -> pd.DataFrame:
    """``texts`` (strings, or dicts with ``text`` and optionally ``item_id``, ``timestamp``)
    as rows of ``user_id``; PII is scrubbed as the loaders scrub it."""
    from segrec.data._pii import scrub_pii

    if not texts:
        return _no_texts().copy()
    rows = []
    for i, t in enumerate(texts):
        if isinstance(t, str):
            t = {"text": t}
        if not isinstance(t, dict) or not isinstance(t.get("text"), str) or not t["text"].strip():
            raise UsageError(f"texts[{i}]: expected a non-empty string or an object with 'text'")
        rows.append({**_known_fields(t, f"texts[{i}]", TEXT_COLUMNS), "user_id": user_id})
    df = _plain(pd.DataFrame(rows), TEXT_COLUMNS)
    if len(df):
        df["text"] = pd.Series(scrub_pii(df.text.astype(str).tolist())[0], dtype="string")
    df["timestamp"] = df.timestamp.fillna(now)
    return df


class _WholeTable:
    """A store table read whole (with the rows added since, put together once) or replaced."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, store: UserStore | None, owner: type | None = None) -> Any:
        return self if store is None else store._table(self.name)

    def __set__(self, store: UserStore, table: pd.DataFrame) -> None:
        store._set(self.name, table)


class UserStore:
    """Events, texts and friends of every user the model knows, plus assignment history.

    ``fitted`` users are those whose rows are exactly what the model was fit on; an update
    makes a user changed (their stored fit-time state no longer applies).

    One user's rows are read through a per-user index and an update appends that user's rows
    beside the tables, so neither costs time in proportion to everyone's rows (concatenating
    and filtering the whole tables took most of an update). ``events``, ``texts`` and
    ``ties`` are the whole tables, every row in the order it was added.
    """

    def __init__(
        self,
        events: pd.DataFrame,
        texts: pd.DataFrame,
        ties: pd.DataFrame,
        fitted: set[str] | None = None,
        assignments: pd.DataFrame | None = None,
    ) -> None:
        self._tables = {"events": events, "texts": texts, "ties": ties}
        #: rows added since the tables were last put together, per table and user, in order
        self._added: dict[str, dict[str, list[pd.DataFrame]]] = {n: {} for n in _USER_COLUMN}
        self._order: dict[str, list[pd.DataFrame]] = {n: [] for n in _USER_COLUMN}
        self._index: dict[str, dict[str, np.ndarray]] = {}
        self.fitted: set[str] = set() if fitted is None else fitted
        self.assignments = assignments if assignments is not None else _assignments([])
        self._pending: list[tuple[Any, ...]] = []

    @classmethod
    def from_dataset(cls, ds: Dataset) -> UserStore:
        inter = ds.interactions.astype({"user_id": str, "item_id": str})
        texts = ds.texts.dropna(subset=["user_id"]).astype({"user_id": str})
        ties = pd.DataFrame({"src": ds.social.src.astype(str), "dst": ds.social.dst.astype(str)})
        return cls(
            _plain(inter, EVENT_COLUMNS),
            _plain(texts, TEXT_COLUMNS),
            _plain(ties, ("src", "dst")),
            fitted={str(u) for u in ds.user_ids},
        )

    # -- the whole tables -------------------------------------------------------------------
    events = _WholeTable()
    texts = _WholeTable()
    ties = _WholeTable()  # src, dst: the friends each user names

    def _table(self, name: str) -> pd.DataFrame:
        """Table ``name`` with the rows added since (put together once, then kept)."""
        if self._order[name]:
            parts = [self._tables[name], *self._order[name]]
            table = pd.concat(parts, ignore_index=True)
            if name == "ties":
                table = table.drop_duplicates().reset_index(drop=True)
            self._set(name, table)
        return self._tables[name]

    def _set(self, name: str, table: pd.DataFrame) -> None:
        self._tables[name] = table
        self._added[name], self._order[name] = {}, []
        self._index.pop(name, None)

    # -- one user -------------------------------------------------------------------------
    def rows(self, name: str, user_id: str) -> pd.DataFrame:
        """``user_id``'s rows of table ``name`` (ties: the friends they name), in order."""
        table = self._tables[name]
        index = self._index.get(name)
        if index is None:
            col = table[_USER_COLUMN[name]]
            index = self._index[name] = {
                str(k): v for k, v in col.groupby(col, sort=False, observed=True).indices.items()
            }
        parts = [table.iloc[index[user_id]]] if user_id in index else []
        parts += self._added[name].get(user_id, [])
        if not parts:
            return table.iloc[:0]
        return parts[0] if len(parts) == 1 else pd.concat(parts)

    def knows(self, user_id: str) -> bool:
        return (
            user_id in self.fitted
            or len(self.rows("events", user_id)) > 0
            or len(self.rows("texts", user_id)) > 0
        )

    def user_dataset(self, user_ids: list[str]) -> Dataset:
        """The rows of ``user_ids`` as a small Dataset (what the featurizers transform); one
        user with rows takes :func:`~segrec.data._one_user.stored_user_dataset`, tested equal
        to the general route."""
        from segrec.data._one_user import stored_user_dataset

        if len(user_ids) == 1:
            uid = str(user_ids[0])
            ev, tx = self.rows("events", uid), self.rows("texts", uid)
            if len(ev) or len(tx):
                friends = self.rows("ties", uid).dst.astype(str).tolist()
                return stored_user_dataset(uid, ev, tx, friends)
        keep = [str(u) for u in user_ids]
        return user_dataset(
            *(_cat([self.rows(n, u) for u in keep], self._tables[n]) for n in _USER_COLUMN)
        )

    def add(
        self, user_id: str, events: pd.DataFrame, texts: pd.DataFrame, friends: list[str]
    ) -> None:
        """Append a user's new activity; the user is no longer at their fit-time state."""
        ties = pd.DataFrame({"src": user_id, "dst": [str(f) for f in friends]}, dtype="string")
        have = set(self.rows("ties", user_id).dst.astype(str))
        ties = ties[~ties.dst.isin(have)].drop_duplicates()
        for name, rows in (("events", events), ("texts", texts), ("ties", ties)):
            if len(rows):
                rows = rows.reset_index(drop=True)
                self._added[name].setdefault(user_id, []).append(rows)
                self._order[name].append(rows)
        self.fitted.discard(user_id)

    def remove(self, user_id: str) -> dict[str, int]:
        """Drop every row of ``user_id`` (events, texts, ties either way, assignments, those
        of updates not yet written included)."""
        self.history()
        ev, tx, ti = self.events, self.texts, self.ties
        out = {
            "events": int((ev.user_id == user_id).sum()),
            "texts": int((tx.user_id == user_id).sum()),
            "ties": int(((ti.src == user_id) | (ti.dst == user_id)).sum()),
            "assignments": int((self.assignments.user_id == user_id).sum()),
        }
        self._set("events", ev[ev.user_id != user_id].reset_index(drop=True))
        self._set("texts", tx[tx.user_id != user_id].reset_index(drop=True))
        self._set("ties", ti[(ti.src != user_id) & (ti.dst != user_id)])
        self.assignments = self.assignments[self.assignments.user_id != user_id]
        self.fitted.discard(user_id)
        return out

    # -- assignments ------------------------------------------------------------------------
    def record(
        self, user_id: str, segment_id: int, strength: float, distance: float, source: str
    ) -> None:
        self._pending.append(
            (user_id, int(segment_id), float(strength), float(distance), time.time(), source)
        )

    def history(self) -> pd.DataFrame:
        """Every assignment recorded, oldest first (the fit's own first)."""
        if self._pending:
            new = _assignments(self._pending)
            self.assignments = pd.concat([self.assignments, new], ignore_index=True)
            self._pending = []
        return self.assignments

    # -- disk -------------------------------------------------------------------------------
    def save(self, folder: Path) -> list[str]:
        self.events.to_parquet(folder / "events.parquet", index=False)
        self.texts.to_parquet(folder / "texts.parquet", index=False)
        self.ties.to_parquet(folder / "ties.parquet", index=False)
        hist = self.history()
        hist.to_parquet(folder / "assignments.parquet", index=False)
        pd.DataFrame({"user_id": sorted(self.fitted)}, dtype="string").to_parquet(
            folder / "fitted_users.parquet", index=False
        )
        return [f"{n}.parquet" for n in ("events", "texts", "ties", "assignments", "fitted_users")]

    @classmethod
    def load(cls, folder: Path) -> UserStore:
        def read(name: str) -> pd.DataFrame:
            path = folder / f"{name}.parquet"
            if not path.exists():
                raise UsageError(f"{path}: missing; the model folder is incomplete")
            return pd.read_parquet(path)

        return cls(
            _plain(read("events"), EVENT_COLUMNS),
            _plain(read("texts"), TEXT_COLUMNS),
            _plain(read("ties"), ("src", "dst")),
            fitted=set(read("fitted_users").user_id.astype(str)),
            assignments=read("assignments"),
        )


def _cat(parts: list[pd.DataFrame], like: pd.DataFrame) -> pd.DataFrame:
    """``parts`` as one frame (no part: none of the rows of ``like``)."""
    if not parts:
        return like.iloc[:0]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _assignments(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(_ASSIGN_COLUMNS))
    return df.astype(
        {
            "user_id": "string",
            "segment_id": "int64",
            "strength": "float64",
            "distance": "float64",
            "at": "float64",
            "source": "string",
        }
    )


def user_dataset(events: pd.DataFrame, texts: pd.DataFrame, ties: pd.DataFrame) -> Dataset:
    """A Dataset of a few users' rows (items, users and truth are the model's, not here), each
    (user, item) pair once, the earliest kept: as the model's training data was prepared."""
    ev = events.copy()
    ev["seq"] = np.arange(len(ev), dtype="int64")
    ev["timestamp"] = ev.timestamp.fillna(0).astype("int64")
    ev["event"] = ev.event.fillna("interaction").astype(str)
    ev["item_id"] = ev.item_id.astype(str)
    ev["user_id"] = ev.user_id.astype(str)
    ev = ev.sort_values(["timestamp", "seq"], kind="mergesort")
    ev = ev[~ev.duplicated(["user_id", "item_id"], keep="first")]
    tx = texts.copy()
    tx["kind"] = "review"
    social = pd.DataFrame(
        {
            "src": ties.src.astype(str),
            "dst": ties.dst.astype(str),
            "kind": "friend",
            "weight": np.ones(len(ties)),
        }
    )
    return Dataset(interactions=ev, texts=tx, social=social, name="users")
