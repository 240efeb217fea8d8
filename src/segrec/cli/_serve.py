"""``segrec serve`` (the HTTP service over a model folder) and ``segrec keys create``:
thin shells over :mod:`segrec.serve`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import app, fail

keys_app = typer.Typer(help="Create and revoke API keys of the service.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

ModelDirOpt = Annotated[
    Path | None, typer.Option("--model", help="The fitted model folder to serve.")
]
RunOpt = Annotated[Path | None, typer.Option("--run", help="A run folder; serves RUN_DIR/model.")]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL (default: SQLite segrec.db beside the model "
        "folder; postgresql+psycopg://user@host/db for PostgreSQL).",
    ),
]


def _model_dir(model: Path | None, run: Path | None) -> Path:
    if (model is None) == (run is None):
        raise fail("give exactly one of --model MODEL_DIR or --run RUN_DIR")
    folder = (model if model is not None else run / "model").expanduser().resolve()  # type: ignore[operator]
    if not (folder / "model.json").is_file():
        raise fail(f"--model {folder}: no model.json there; fit one with `segrec fit`")
    return folder


def _log_config() -> dict[str, Any]:
    """uvicorn's loggers plus segrec's JSON access log on stdout; uvicorn's own access log
    stays off (it would print raw paths and query strings)."""
    from uvicorn.config import LOGGING_CONFIG

    cfg: dict[str, Any] = {**LOGGING_CONFIG}
    cfg["formatters"] = {**cfg["formatters"], "json": {"format": "%(message)s"}}
    cfg["handlers"] = {
        **cfg["handlers"],
        "segrec_access": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
    }
    cfg["loggers"] = {
        **cfg["loggers"],
        "segrec.serve.access": {"handlers": ["segrec_access"], "level": "INFO", "propagate": False},
    }
    return cfg


@app.command("serve")
def serve(
    model: ModelDirOpt = None,
    run: RunOpt = None,
    db: DbOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    key_cache_seconds: Annotated[
        float,
        typer.Option(
            "--key-cache-seconds",
            min=0,
            help="Reuse an API key check this long; a revoked key stops working within it.",
        ),
    ] = 2.0,
) -> None:
    """Serve a fitted model over HTTP (segments, recommendations, events, dashboard)."""
    import uvicorn

    from segrec.serve import Storage, create_app, default_db_url

    folder = _model_dir(model, run)
    url = db or default_db_url(folder)
    storage = Storage(url)
    storage.migrate()  # once, before any worker starts
    storage.dispose()
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_config": _log_config(),
    }
    if workers == 1:
        uvicorn.run(create_app(folder, url, key_cache_seconds=key_cache_seconds), **common)
        return
    os.environ["SEGREC_MODEL_DIR"], os.environ["SEGREC_DB_URL"] = str(folder), url
    os.environ["SEGREC_KEY_CACHE_SECONDS"] = str(key_cache_seconds)
    uvicorn.run("segrec.serve:app_from_env", factory=True, workers=workers, **common)


@keys_app.command("create")
def keys_create(
    scope: Annotated[str, typer.Option("--scope", help="read, write or admin.")] = "read",
    db: DbOpt = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Use the database beside this model folder.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A note on whose key it is.")] = None,
) -> None:
    """Create an API key and print it (once: only its hash is stored)."""
    from segrec.serve import Storage, create_key, default_db_url

    if db is None and model is None:
        raise fail("give --db URL or --model MODEL_DIR (the database beside it)")
    storage = Storage(db or default_db_url(model))  # type: ignore[arg-type]
    storage.migrate()
    typer.echo(create_key(storage.engine, scope, name))
    storage.dispose()


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The id part of the key (sgr_<id>_...).")],
    db: DbOpt = None,
    model: Annotated[Path | None, typer.Option("--model")] = None,
) -> None:
    """Revoke an API key by its id."""
    from segrec.serve import Storage, default_db_url, revoke_key

    if db is None and model is None:
        raise fail("give --db URL or --model MODEL_DIR (the database beside it)")
    storage = Storage(db or default_db_url(model))  # type: ignore[arg-type]
    ok = revoke_key(storage.engine, key_id)
    storage.dispose()
    if not ok:
        raise fail(f"key_id '{key_id}': no such active key")
    typer.echo(f"revoked {key_id}")
