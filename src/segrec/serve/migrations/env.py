"""Alembic environment: runs on the connection :func:`segrec.serve._db.migrate` passes in."""

from __future__ import annotations

from alembic import context

from segrec.serve._db import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via migrate()
    raise RuntimeError("run the migrations through segrec.serve._db.migrate(engine)")
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
