"""Settings of the service: where the model and the database are, and the request limits.

Built once by :func:`segrec.serve.create_app` (or from ``SEGREC_*`` environment variables when
uvicorn starts several workers) and handed to the routers through a cached dependency.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ServeLimits", "ServeSettings", "default_db_url"]


class ServeLimits(BaseModel):
    """What one request may carry; a request over a limit gets a 413 or 422 naming it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: int = Field(1_000_000, ge=1024)
    max_text_chars: int = Field(5_000, ge=1)
    max_texts: int = Field(20, ge=1)
    max_events: int = Field(200, ge=1)
    max_friends: int = Field(100, ge=0)
    max_k: int = Field(100, ge=1)
    max_page: int = Field(1_000, ge=1)


class ServeSettings(BaseModel):
    """``model_dir`` (a fitted model folder), ``db_url`` (SQLAlchemy URL; default SQLite in
    ``segrec.db`` beside the model folder), the request ``limits`` and ``key_cache_seconds``
    (how long a key check is reused: a key revoked elsewhere stops working within it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_dir: Path
    db_url: str
    limits: ServeLimits = ServeLimits()  # type: ignore[call-arg]
    access_log: bool = True
    key_cache_seconds: float = Field(2.0, ge=0)

    @classmethod
    def build(
        cls, model_dir: str | Path, db_url: str | None = None, **kwargs: object
    ) -> ServeSettings:
        model_dir = Path(model_dir).expanduser().resolve()
        return cls(model_dir=model_dir, db_url=db_url or default_db_url(model_dir), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> ServeSettings:
        """Settings from ``SEGREC_MODEL_DIR``, ``SEGREC_DB_URL`` and
        ``SEGREC_KEY_CACHE_SECONDS`` (uvicorn workers)."""
        model_dir = os.environ.get("SEGREC_MODEL_DIR")
        if not model_dir:
            raise RuntimeError("SEGREC_MODEL_DIR is not set; start the service with segrec serve")
        cache = os.environ.get("SEGREC_KEY_CACHE_SECONDS")
        extra = {} if cache is None else {"key_cache_seconds": float(cache)}
        return cls.build(model_dir, os.environ.get("SEGREC_DB_URL") or None, **extra)


def default_db_url(model_dir: str | Path) -> str:
    """SQLite in ``segrec.db`` beside (not inside) the model folder, so that replacing the
    folder with a refreshed model keeps the events."""
    path = Path(model_dir).expanduser().resolve().parent / "segrec.db"
    return f"sqlite:///{path}"
