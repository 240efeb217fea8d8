"""The application factory: settings, storage (migrated at start-up), the model loaded once
in ``lifespan``, the routers, the error handlers and the middleware."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from segrec.serve._errors import install_handlers
from segrec.serve._http import AccessMiddleware, BodyLimitMiddleware, Metrics
from segrec.serve._keys import KeyCache
from segrec.serve._schemas import ERROR_RESPONSES
from segrec.serve._settings import ServeLimits, ServeSettings
from segrec.serve._state import ModelHolder
from segrec.serve._storage import Storage
from segrec.serve.routers import admin, assign, dashboard, health, segments, users

__all__ = ["app_from_env", "create_app"]

_log = logging.getLogger(__name__)


def create_app(
    model_dir: str | Path,
    db_url: str | None = None,
    *,
    limits: ServeLimits | dict[str, Any] | None = None,
    access_log: bool = True,
    key_cache_seconds: float = 2.0,
) -> FastAPI:
    """The segrec HTTP service over the model folder ``model_dir``.

    ``db_url`` is a SQLAlchemy URL (default: SQLite ``segrec.db`` beside the model folder;
    ``postgresql+psycopg://user@host/db`` for PostgreSQL). The database is migrated and the
    model loaded when the app starts (``lifespan``). A key check is reused for
    ``key_cache_seconds``, so a key revoked elsewhere stops working within that time.

    >>> # import uvicorn; uvicorn.run(create_app("run/model"), port=8000)
    """
    lim = limits if isinstance(limits, ServeLimits) else ServeLimits(**(limits or {}))
    settings = ServeSettings.build(
        model_dir, db_url, limits=lim, access_log=access_log, key_cache_seconds=key_cache_seconds
    )
    return _build(settings)


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory`` (several workers): settings from ``SEGREC_*``."""
    return _build(ServeSettings.from_env())


def _build(settings: ServeSettings) -> FastAPI:
    storage = Storage(settings.db_url)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage.migrate()
        app.state.holder = ModelHolder.load(settings.model_dir, storage)
        _log.info("serving model %s", settings.model_dir)
        try:
            yield
        finally:
            storage.dispose()

    from segrec import __version__

    app = FastAPI(
        title="segrec",
        version=__version__,
        lifespan=lifespan,
        description="User segments and recommendations from a fitted segrec model.",
    )
    app.state.settings, app.state.storage, app.state.metrics = settings, storage, metrics
    app.state.holder = None
    app.state.keys = KeyCache(settings.key_cache_seconds)
    for module in (health, segments, users, assign, admin, dashboard):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    install_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(AccessMiddleware, metrics=metrics, log=settings.access_log)
    return app
