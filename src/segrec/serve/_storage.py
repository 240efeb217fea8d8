"""What the service keeps: acknowledged writes (batches of events and texts, under their
idempotency key), each user's generation and latest segment, the assignments handed out, and
API keys. The model folder is never written; the database is the source of truth the
in-memory model is rebuilt from (see :mod:`segrec.serve._state`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from segrec.serve._db import (
    READ_ONLY,
    assignments,
    batches,
    create_db_engine,
    events,
    migrate,
    user_state,
)

__all__ = ["Batch", "Storage", "StoredEvent"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    """A stored write: its row id, user, body hash and (once answered) the response JSON."""

    id: int
    user_id: str
    body_sha256: str
    response: str | None
    created: bool


@dataclass(frozen=True)
class StoredEvent:
    id: int
    batch_id: int
    kind: str
    payload: dict[str, Any]
    created_at: float


class Storage:
    """The service's database (``url``: any SQLAlchemy URL; SQLite and PostgreSQL tested)."""

    #: seconds within which buffered anonymous assignments are written
    FLUSH_S = 1.0

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine if engine is not None else create_db_engine(url)
        #: the same pool for reads: on SQLite a read opens no write transaction (see
        #: :func:`~segrec.serve._db.create_db_engine`)
        self.reader = self.engine.execution_options(**{READ_ONLY: True})
        self._watch: sqlite3.Connection | None = None
        path = self.engine.url.database
        on_file = self.engine.dialect.name == "sqlite" and path not in (None, "", ":memory:")
        self._watch_path: str | None = path if on_file else None
        self._watch_lock = threading.Lock()
        self._buffer: list[tuple[int, float, float | None, float]] = []
        self._buffer_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._closing = threading.Event()

    def migrate(self) -> None:
        migrate(self.engine)

    def ping(self) -> bool:
        try:
            with self.reader.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self._closing.set()
        if self._flusher is not None:
            self._flusher.join(timeout=10)
            self._flusher = None
        self.flush()
        self._closing.clear()
        self.engine.dispose()
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    def version(self) -> int | None:
        """A number that changes whenever a write is committed anywhere (any process, any
        connection) on SQLite: its ``PRAGMA data_version``, read on a connection of its own
        that never writes. ``None`` where there is no such signal (PostgreSQL): every read
        then asks the database."""
        if self._watch_path is None:
            return None
        with self._watch_lock:
            if self._watch is None:
                self._watch = sqlite3.connect(self._watch_path, check_same_thread=False)
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    # -- writes ----------------------------------------------------------------------------
    def add_batch(
        self, key: str, user_id: str, body_sha256: str, items: list[tuple[str, dict[str, Any]]]
    ) -> Batch:
        """Store ``items`` ((kind, payload) pairs) under ``key`` in one committed transaction;
        a key stored before returns that batch (``created`` False) and stores nothing."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                bid = conn.execute(
                    batches.insert().values(
                        idempotency_key=key,
                        user_id=user_id,
                        body_sha256=body_sha256,
                        created_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                if items:
                    conn.execute(
                        events.insert(),
                        [
                            {
                                "batch_id": bid,
                                "seq": i,
                                "user_id": user_id,
                                "kind": kind,
                                "payload": json.dumps(payload, sort_keys=True),
                                "created_at": now,
                            }
                            for i, (kind, payload) in enumerate(items)
                        ],
                    )
                _touch_user(conn, user_id, now)
            return Batch(int(bid), user_id, body_sha256, None, True)
        except IntegrityError:
            found = self.batch_by_key(key)
            if found is None:  # pragma: no cover - an integrity error of another kind
                raise
            return found

    def batch_by_key(self, key: str) -> Batch | None:
        with self.reader.connect() as conn:
            row = conn.execute(sa.select(batches).where(batches.c.idempotency_key == key)).first()
        if row is None:
            return None
        return Batch(int(row.id), str(row.user_id), str(row.body_sha256), row.response, False)

    def answer(
        self,
        batch_id: int,
        response: str,
        user_id: str,
        segment_id: int,
        previous: int | None,
        strength: float,
        source: str,
        distance: float | None = None,
    ) -> None:
        """Keep the answer to a stored batch (for replays) and the assignment it handed out,
        in one transaction."""
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(batches.update().where(batches.c.id == batch_id).values(response=response))
            _assigned(conn, user_id, segment_id, previous, strength, source, now, distance)

    def record(
        self,
        user_id: str | None,
        segment_id: int,
        previous: int | None,
        strength: float,
        source: str,
        distance: float | None = None,
    ) -> None:
        """One assignment handed out (and, for a remembered user, their latest segment)."""
        with self.engine.begin() as conn:
            _assigned(conn, user_id, segment_id, previous, strength, source, time.time(), distance)

    def record_anonymous(self, segment_id: int, strength: float, distance: float | None) -> None:
        """An assignment handed to a user the service does not remember (``POST /assign``
        without ``user_id``), for the drift window and the sizes over time. These are kept
        in memory and written together within :attr:`FLUSH_S` seconds (a background thread),
        not one committed transaction each: that cost a write lock and a disk sync per
        request and stored nothing a caller asked to keep. A crash can lose the last second of
        them; every event and remembered user is still committed before its answer."""
        with self._buffer_lock:
            self._buffer.append((segment_id, strength, distance, time.time()))
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="segrec-assignments", daemon=True
                )
                self._flusher.start()

    def flush(self) -> None:
        """Write the buffered anonymous assignments (readers of assignments call it first)."""
        with self._buffer_lock:
            rows, self._buffer = self._buffer, []
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    assignments.insert(),
                    [
                        _assignment_row(None, sid, None, strength, "assign", at, distance)
                        for sid, strength, distance, at in rows
                    ],
                )
        except Exception:
            with self._buffer_lock:
                self._buffer[:0] = rows
            raise

    def _flush_loop(self) -> None:
        while not self._closing.wait(self.FLUSH_S):
            try:
                self.flush()
            except Exception:  # the database is away for now: keep them for the next try
                _log.exception("buffered assignments not written yet")

    def delete_user(self, user_id: str) -> int:
        """Delete the user's events and batches and bump their generation; returns the number
        of events deleted."""
        now = time.time()
        with self.engine.begin() as conn:
            n = conn.execute(events.delete().where(events.c.user_id == user_id)).rowcount
            conn.execute(batches.delete().where(batches.c.user_id == user_id))
            conn.execute(assignments.delete().where(assignments.c.user_id == user_id))
            _touch_user(conn, user_id, now)
            conn.execute(
                user_state.update()
                .where(user_state.c.user_id == user_id)
                .values(generation=user_state.c.generation + 1, segment_id=None, strength=None)
            )
        return int(n or 0)

    # -- reads -----------------------------------------------------------------------------
    def generation(self, user_id: str) -> int:
        with self.reader.connect() as conn:
            g = conn.execute(
                sa.select(user_state.c.generation).where(user_state.c.user_id == user_id)
            ).scalar()
        return int(g or 0)

    def changes_of(self, user_id: str, after: int = 0) -> tuple[int, list[StoredEvent]]:
        """The user's generation and their stored events with id > ``after``, oldest first,
        in one statement (what every read asks before it answers; two cost twice)."""
        gen = sa.select(
            user_state.c.generation.label("generation"),
            *(sa.null().label(c) for c in ("id", "batch_id", "kind", "payload", "created_at")),
        ).where(user_state.c.user_id == user_id)
        new = sa.select(
            sa.null().label("generation"),
            events.c.id,
            events.c.batch_id,
            events.c.kind,
            events.c.payload,
            events.c.created_at,
        ).where(events.c.user_id == user_id, events.c.id > after)
        with self.reader.connect() as conn:
            rows = conn.execute(sa.union_all(gen, new)).all()
        g = next((r.generation for r in rows if r.id is None), None)
        found = sorted((r for r in rows if r.id is not None), key=lambda r: int(r.id))
        return int(g or 0), [_stored(r) for r in found]

    def events_of(
        self, user_id: str, after: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """The user's stored events and texts with id > ``after``, oldest first."""
        q = (
            sa.select(events)
            .where(events.c.user_id == user_id, events.c.id > after)
            .order_by(events.c.id)
        )
        if limit is not None:
            q = q.limit(limit)
        with self.reader.connect() as conn:
            rows = conn.execute(q).all()
        return [_stored(r) for r in rows]

    def count_events(self, user_id: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(events)
        if user_id is not None:
            q = q.where(events.c.user_id == user_id)
        with self.reader.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def sizes_over_time(self, bucket_s: float = 3600.0) -> list[dict[str, Any]]:
        """Assignments handed out per time bucket and segment (for the dashboard)."""
        self.flush()
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(assignments.c.segment_id, assignments.c.at)).all()
        counts: dict[tuple[float, int], int] = {}
        for sid, at in rows:
            key = (float(at) // bucket_s * bucket_s, int(sid))
            counts[key] = counts.get(key, 0) + 1
        return [{"at": t, "segment_id": s, "count": n} for (t, s), n in sorted(counts.items())]

    def recent_assignments(self, since: float = 0.0) -> pd.DataFrame:
        """The assignments handed out since ``since`` (Unix time): each remembered user's
        latest one and every anonymous one (user_id None), oldest first: the window the drift
        report judges."""
        self.flush()
        q = (
            sa.select(
                assignments.c.id,
                assignments.c.user_id,
                assignments.c.segment_id,
                assignments.c.strength,
                assignments.c.distance,
                assignments.c.at,
            )
            .where(assignments.c.at >= since)
            .order_by(assignments.c.id)
        )
        with self.reader.connect() as conn:
            rows = conn.execute(q).all()
        df = pd.DataFrame(
            rows, columns=["id", "user_id", "segment_id", "strength", "distance", "at"]
        )
        df["distance"] = df.distance.astype(float)
        named = df[df.user_id.notna()].drop_duplicates("user_id", keep="last")
        return pd.concat([named, df[df.user_id.isna()]]).sort_values("id").reset_index(drop=True)


def _stored(r: Any) -> StoredEvent:
    return StoredEvent(
        int(r.id), int(r.batch_id), str(r.kind), json.loads(r.payload), float(r.created_at)
    )


def _touch_user(conn: Any, user_id: str, now: float) -> None:
    """Create the user's state row unless it exists (safe under concurrent writers)."""
    values = {"user_id": user_id, "generation": 0, "updated_at": now}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(user_state).values(**values).on_conflict_do_nothing())
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(user_state).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - other databases: check, then insert
        found = conn.execute(
            sa.select(user_state.c.user_id).where(user_state.c.user_id == user_id)
        ).first()
        if found is None:
            conn.execute(user_state.insert().values(**values))


def _assigned(
    conn: Any,
    user_id: str | None,
    segment_id: int,
    previous: int | None,
    strength: float,
    source: str,
    now: float,
    distance: float | None = None,
) -> None:
    conn.execute(
        assignments.insert(),
        [_assignment_row(user_id, segment_id, previous, strength, source, now, distance)],
    )
    if user_id is not None:
        conn.execute(
            user_state.update()
            .where(user_state.c.user_id == user_id)
            .values(segment_id=segment_id, strength=_finite(strength), updated_at=now)
        )


def _assignment_row(
    user_id: str | None,
    segment_id: int,
    previous: int | None,
    strength: float,
    source: str,
    at: float,
    distance: float | None,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "segment_id": segment_id,
        "previous": previous,
        "strength": _finite(strength),
        "distance": _finite(distance),
        "source": source,
        "at": at,
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else float(x)
