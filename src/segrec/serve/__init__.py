"""The segrec HTTP service: a thin shell over a fitted model folder (:mod:`segrec.model`).

Every decision it serves comes from the model's methods (``assign``, ``update``,
``recommend``, ``segment_of``, ``drift``, ``forget``); the service adds durable storage of
events (SQLite or PostgreSQL, Alembic migrations), API keys with scopes, limits, metrics, a
JSON access log and a dashboard.

    >>> # from segrec.serve import create_app
    >>> # app = create_app("run/model")          # SQLite in run/segrec.db
    >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from segrec.diagnostics import require

for _module in ("fastapi", "uvicorn", "sqlalchemy", "alembic", "prometheus_client"):
    require(_module, "serve", "the HTTP service")  # one clear error before the imports below

from segrec.serve._app import app_from_env, create_app  # noqa: E402
from segrec.serve._keys import SCOPES, create_key, revoke_key  # noqa: E402
from segrec.serve._settings import ServeLimits, ServeSettings, default_db_url  # noqa: E402
from segrec.serve._storage import Storage  # noqa: E402

__all__ = [
    "SCOPES",
    "ServeLimits",
    "ServeSettings",
    "Storage",
    "app_from_env",
    "create_app",
    "create_key",
    "default_db_url",
    "revoke_key",
]
