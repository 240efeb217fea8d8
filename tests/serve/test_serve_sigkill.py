"""``segrec serve`` killed with SIGKILL in the middle of a write burst, then started again:
every event that got a 2xx is in the database (SQLite in WAL mode with synchronous=FULL, and
PostgreSQL when SEGREC_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from servekit import free_port

from segrec.serve import Storage, create_key

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
#: the serve command, registered by importing its module (until _commands imports it)
LAUNCH = "import segrec.cli._serve; from segrec.cli import main; main()"


def _start(model_dir: Path, url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LAUNCH,
                "serve",
                "--model",
                str(model_dir),
                "--db",
                url,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"segrec serve exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"segrec serve not ready in 90 s: {log.read_text()[-2000:]}")


@pytest.mark.slow
def test_sigkill_mid_burst_loses_no_acknowledged_event(
    model_dir: Path, tmp_path: Path, items: list[str], db_url: str
) -> None:
    url = db_url
    storage = Storage(url)
    storage.migrate()
    key = create_key(storage.engine, "write")
    port, log = free_port(), tmp_path / "serve.log"
    proc = _start(model_dir, url, port, log)
    acked: list[tuple[str, int]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def burst(w: int) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=10
        ) as client:
            for r in range(10_000):
                if stop.is_set():
                    return
                k = f"kill-{w}-{r}"
                evs = [{"item_id": items[(w + r + j) % len(items)]} for j in range(3)]
                try:
                    resp = client.post(
                        f"/users/k{w}/events", json={"events": evs, "idempotency_key": k}
                    )
                except httpx.HTTPError:
                    return  # the server died under us: this one was never acknowledged
                if resp.status_code == 201:
                    with lock:
                        acked.append((k, 3))

    threads = [threading.Thread(target=burst, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # mid-burst: requests are in flight
    proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert len(acked) >= 30, log.read_text()[-2000:]

    proc = _start(model_dir, url, port, log)  # starts again on the same database
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            stored: dict[str, int] = dict(
                conn.execute(
                    sa.text(
                        "SELECT b.idempotency_key, count(e.id) FROM batches b "
                        "JOIN events e ON e.batch_id = b.id GROUP BY b.idempotency_key"
                    )
                ).all()
            )
        engine.dispose()
        missing = [k for k, n in acked if stored.get(k) != n]
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=10
        ) as client:
            page = client.get("/users/k0/events?limit=1000").json()
            mine = sum(n for k, n in acked if k.startswith("kill-0-"))
            assert len(page["events"]) >= mine
            assert client.get("/users/k0/segment").status_code == 200
    finally:
        proc.kill()
        proc.wait(timeout=10)
    access = [line for line in log.read_text().splitlines() if line.startswith('{"request_id"')]
    assert access and all(
        "/users/{user_id}/events" in a or "/readyz" in a or "segment" in a for a in access
    )
    assert not any("k0" in a or key in a for a in access), "no user ids or keys in the log"
