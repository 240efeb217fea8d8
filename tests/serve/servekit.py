"""What the service tests share besides fixtures (a module of its own, not ``conftest``: test
modules import it by name, and several test folders have a ``conftest``)."""

from __future__ import annotations

import socket
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from segrec.serve import Storage, create_app, create_key


@dataclass
class Service:
    client: TestClient
    storage: Storage
    keys: dict[str, str]
    model_dir: Path
    db_url: str

    def h(self, scope: str = "read") -> dict[str, str]:
        return {"X-API-Key": self.keys[scope]}


def make_keys(storage: Storage) -> dict[str, str]:
    storage.migrate()
    return {s: create_key(storage.engine, s) for s in ("read", "write", "admin")}


def _service(model_dir: Path, url: str, **kwargs: Any) -> Generator[Service, None, None]:
    app = create_app(model_dir, url, access_log=False, **kwargs)
    with TestClient(app, raise_server_exceptions=False) as client:
        storage: Storage = app.state.storage
        yield Service(client, storage, make_keys(storage), model_dir, url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
