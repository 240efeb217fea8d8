"""Fixtures of the service tests: a small fitted model (fit once per session), a service on
SQLite (and on PostgreSQL when ``SEGREC_TEST_POSTGRES_URL`` is set), API keys of each scope,
and a real uvicorn server on a free loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")


from servekit import Service, _service, live_server

POSTGRES_URL = os.environ.get("SEGREC_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from segrec.data import load_dataset
    from segrec.evaluate import EvalConfig
    from segrec.model import Choice
    from segrec.model._fit import fit_chosen, serving_dataset

    ds, _ = load_dataset("synthetic:users=300,seed=3")
    cfg = EvalConfig(
        features={"embedder": {"backend": "tfidf-svd", "tfidf_dim": 32, "use_cache": False}},
        graph=None,
    )
    model = fit_chosen(
        serving_dataset(ds, cfg), cfg, Choice("fused", {"k": 4}, {"base": "itemknn"})
    )
    out = tmp_path_factory.mktemp("served") / "model"
    model.save(out)
    return out


@pytest.fixture(scope="session")
def items(model_dir: Path) -> list[str]:
    import segrec

    return [str(i) for i in segrec.load_model(model_dir).item_labels.index]


def _reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for t in ("events", "batches", "assignments", "user_state", "api_keys", "alembic_version"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {t} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: SQLite in tmp_path, or the PostgreSQL of SEGREC_TEST_POSTGRES_URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'segrec.db'}"
    if not POSTGRES_URL:
        pytest.skip("SEGREC_TEST_POSTGRES_URL is not set (PostgreSQL tests run in .ci/run)")
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'segrec.db'}"


@pytest.fixture
def svc(model_dir: Path, db_url: str) -> Iterator[Service]:
    """The service through FastAPI's TestClient (lifespan run), on each database backend."""
    yield from _service(model_dir, db_url)


@pytest.fixture
def live(model_dir: Path, db_url: str) -> Iterator[tuple[str, Service]]:
    """A real uvicorn server (in a thread) on a free loopback port: (base URL, Service)."""
    yield from live_server(model_dir, db_url)


@pytest.fixture
def live_sqlite(model_dir: Path, sqlite_url: str) -> Iterator[tuple[str, Service]]:
    """:func:`live` on SQLite only (the browser test)."""
    yield from live_server(model_dir, sqlite_url)
