"""What a model knows of each user: their events, texts and named friends, and the segment they
were last assigned with its history, so that one user can be re-featurized, re-assigned and
re-scored without the training Dataset.

Events and texts are kept with the columns of the Dataset's tables (string ids), so a user's
rows build a one-user :class:`~segrec.data.Dataset` that goes through exactly the featurizers
the batch went through.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
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
    rows = []
    for i, ev in enumerate(events or []):
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


def texts_frame(user_id: str, texts: list[Any] | None, now: int) -> pd.DataFrame:
    """``texts`` (strings, or dicts with ``text`` and optionally ``item_id``, ``timestamp``)
    as rows of ``user_id``; PII is scrubbed as the loaders scrub it."""
    from segrec.data._pii import scrub_pii

    rows = []
    for i, t in enumerate(texts or []):
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


@dataclass
class UserStore:
    """Events, texts and friends of every user the model knows, plus assignment history.

    ``fitted`` users are those whose rows are exactly what the model was fit on; an update
    makes a user changed (their stored fit-time state no longer applies).
    """

    events: pd.DataFrame
    texts: pd.DataFrame
    ties: pd.DataFrame  # src, dst: the friends each user names
    fitted: set[str] = field(default_factory=set)
    assignments: pd.DataFrame = field(default_factory=lambda: _assignments([]))
    _pending: list[tuple[Any, ...]] = field(default_factory=list)

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

    # -- one user -------------------------------------------------------------------------
    def knows(self, user_id: str) -> bool:
        return (
            user_id in self.fitted
            or bool((self.events.user_id == user_id).any())
            or bool((self.texts.user_id == user_id).any())
        )

    def user_dataset(self, user_ids: list[str]) -> Dataset:
        """The rows of ``user_ids`` as a small Dataset (what the featurizers transform)."""
        keep = set(user_ids)
        ev = self.events[self.events.user_id.isin(keep)]
        tx = self.texts[self.texts.user_id.isin(keep)]
        ti = self.ties[self.ties.src.isin(keep)]
        return user_dataset(ev, tx, ti)

    def add(
        self, user_id: str, events: pd.DataFrame, texts: pd.DataFrame, friends: list[str]
    ) -> None:
        """Append a user's new activity; the user is no longer at their fit-time state."""
        if len(events):
            self.events = pd.concat([self.events, events], ignore_index=True)
        if len(texts):
            self.texts = pd.concat([self.texts, texts], ignore_index=True)
        if friends:
            new = pd.DataFrame({"src": user_id, "dst": [str(f) for f in friends]}, dtype="string")
            self.ties = pd.concat([self.ties, new], ignore_index=True).drop_duplicates()
        self.fitted.discard(user_id)

    def remove(self, user_id: str) -> dict[str, int]:
        """Drop every row of ``user_id`` (events, texts, ties either way, assignments, those
        of updates not yet written included)."""
        self.history()
        out = {
            "events": int((self.events.user_id == user_id).sum()),
            "texts": int((self.texts.user_id == user_id).sum()),
            "ties": int(((self.ties.src == user_id) | (self.ties.dst == user_id)).sum()),
            "assignments": int((self.assignments.user_id == user_id).sum()),
        }
        self.events = self.events[self.events.user_id != user_id].reset_index(drop=True)
        self.texts = self.texts[self.texts.user_id != user_id].reset_index(drop=True)
        self.ties = self.ties[(self.ties.src != user_id) & (self.ties.dst != user_id)]
        self.assignments = self.assignments[self.assignments.user_id != user_id]
        self.fitted.discard(user_id)
        return out

    # -- assignments ------------------------------------------------------------------------
    def record(
        self, user_id: str, segment_id: int, strength: float, distance: float, source: str
    ) -> None:
        self._pending.append(
            pd.DataFrame(
                {
                    "user_id": [user_id],
                    "segment_id": [int(segment_id)],
                    "strength": [float(strength)],
                    "distance": [float(distance)],
                    "at": [time.time()],
                    "source": [source],
                }
            )
        )

    def history(self) -> pd.DataFrame:
        """Every assignment recorded, oldest first (the fit's own first)."""
        if self._pending:
            self.assignments = pd.concat([self.assignments, *self._pending], ignore_index=True)
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
