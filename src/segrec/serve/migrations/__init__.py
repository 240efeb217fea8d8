"""Alembic migrations of the service's database (run by :func:`segrec.serve._db.migrate`)."""
