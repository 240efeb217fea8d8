"""Tables, engine and migrations of the service's database.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``, so a commit is on disk
before the service answers; write transactions start with ``BEGIN IMMEDIATE`` so concurrent
writers queue on the busy timeout instead of failing to upgrade a read lock. PostgreSQL is used
by URL (``postgresql+psycopg://...``). The schema is created by the Alembic migrations shipped
in ``segrec/serve/migrations``, run programmatically at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = [
    "api_keys",
    "assignments",
    "batches",
    "create_db_engine",
    "events",
    "metadata",
    "migrate",
    "user_state",
]

metadata = sa.MetaData()

#: one row per acknowledged write (POST events, POST /assign with user_id)
batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("user_id", sa.String(200), nullable=False, index=True),
    sa.Column("body_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("response", sa.Text, nullable=True),
)

#: the interactions and texts of each batch, in order (kind: "event" or "text")
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "batch_id", sa.Integer, sa.ForeignKey("batches.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("user_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("batch_id", "seq", name="uq_events_batch_seq"),
    sa.Index("ix_events_user_id_id", "user_id", "id"),
)

#: each user's latest segment and generation (bumped by DELETE, so every worker forgets)
user_state = sa.Table(
    "user_state",
    metadata,
    sa.Column("user_id", sa.String(200), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False, default=0),
    sa.Column("segment_id", sa.Integer, nullable=True),
    sa.Column("strength", sa.Float, nullable=True),
    sa.Column("updated_at", sa.Float, nullable=False),
)

#: every assignment the service handed out, with its time (sizes over time, re-assignments)
assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(200), nullable=True, index=True),
    sa.Column("segment_id", sa.Integer, nullable=False),
    sa.Column("previous", sa.Integer, nullable=True),
    sa.Column("strength", sa.Float, nullable=True),
    sa.Column("distance", sa.Float, nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("at", sa.Float, nullable=False, index=True),
)

#: API keys, hashed (sha256 of a 256-bit random secret); ``key_id`` is the public prefix
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
)


#: an execution option of connections that only read (one statement each): on SQLite they open
#: no transaction, where ``BEGIN IMMEDIATE`` would take the write lock and queue every read
#: behind the write being synced to disk
READ_ONLY = "segrec_read_only"


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, ``synchronous=FULL`` and immediate writes
    (reads through ``engine.execution_options(segrec_read_only=True)`` run as single
    statements, each its own snapshot)."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, future=True)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, future=True
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if not conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema with the shipped Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
