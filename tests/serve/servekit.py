"""What the service tests share besides fixtures (a module of its own, not ``conftest``: test
modules import it by name, and several test folders have a ``conftest``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Generator, Iterator
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


def live_server(model_dir: Path, db_url: str) -> Iterator[tuple[str, Service]]:
    """A real uvicorn server (in a thread) on a free loopback port: (base URL, Service)."""
    import uvicorn

    app = create_app(model_dir, db_url, access_log=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start in 30 s")
        time.sleep(0.05)
    storage: Storage = app.state.storage
    try:
        yield (
            f"http://127.0.0.1:{port}",
            Service(
                None,  # type: ignore[arg-type]  # talk to it over HTTP
                storage,
                make_keys(storage),
                model_dir,
                db_url,
            ),
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
