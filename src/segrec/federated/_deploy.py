"""Flower's deployment engine on loopback: one SuperLink, one SuperNode per node, `flwr run`.

Every process is real and talks over gRPC on 127.0.0.1 only. Flower 1.42 pins versions that
conflict with segrec's own environment (typer < 0.21, protobuf < 7, fastapi < 0.139), so it
runs from its own virtualenv, ``.venv-federated`` (``bash scripts/install-federated.sh``),
which holds flwr and segrec's core (no torch): the featurizers must then use a text encoder
that needs no torch (``tfidf-svd``, the default of ``segrec federated``). ``SEGREC_FLOWER_BIN``
points at another Flower ``bin/`` folder. The SuperLink spawns ``flower-superexec`` by name,
so that folder goes first on the processes' PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from segrec.diagnostics import UsageError
from segrec.federated._protocol import FederatedServer

__all__ = ["flower_bin", "run_flower"]

_APP_TOML = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "segrec-federated"
version = "1.0.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "segrec"

[tool.flwr.app.components]
serverapp = "segrec_federated_app:server_app"
clientapp = "segrec_federated_app:client_app"

[tool.flwr.app.config]
job-dir = ""
"""
_APP_PY = """\"\"\"segrec federated k-means (see segrec.federated).\"\"\"

from segrec.federated import _flower

server_app = _flower.server_app
client_app = _flower.client_app
"""


def flower_bin() -> Path:
    """The ``bin/`` folder with ``flower-superlink``, ``flower-supernode`` and ``flwr``."""
    env = os.environ.get("SEGREC_FLOWER_BIN")
    cands = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[3]  # the source checkout (editable install)
    cands += [root / ".venv-federated" / "bin", Path.cwd() / ".venv-federated" / "bin"]
    on_path = shutil.which("flower-superlink")
    if on_path:
        cands.append(Path(on_path).parent)
    for c in cands:
        if (c / "flower-superlink").exists() and (c / "flwr").exists():
            return c
    raise UsageError(
        "Flower is not installed: run `bash scripts/install-federated.sh` (it creates "
        ".venv-federated: flwr 1.42 cannot share segrec's environment), set "
        "SEGREC_FLOWER_BIN to a Flower bin/ folder, or pass --engine local"
    )


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_app(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(_APP_TOML)
    (folder / "segrec_federated_app.py").write_text(_APP_PY)
    return folder


def run_flower(
    server: FederatedServer,
    client_dirs: list[Path],
    shared: Path,
    clip: float,
    nodes: int,
    workdir: Path,
    wire: list[dict[str, Any]] | None = None,
    timeout: float = 900.0,
) -> FederatedServer:
    """Run ``server``'s protocol with the clients of ``client_dirs`` spread over ``nodes``
    SuperNodes (``nodes <= 1``: one SuperNode per client); the final centres and history end
    in ``server``. Every process started here is stopped before returning."""
    bin_dir = flower_bin()
    n = len(client_dirs)
    n_nodes = n if nodes <= 1 else min(nodes, n)
    workdir.mkdir(parents=True, exist_ok=True)
    spec = {"rounds": server.rounds, "clip": clip, "sigma": server.sigma, "n_nodes": n_nodes}
    (workdir / "flower_job.json").write_text(json.dumps({**spec, "shared": str(shared)}))
    app = _write_app(workdir / "app")
    link = _port()  # the SuperLink's one HTTP port: Fleet, Control and Runtime APIs
    home = workdir / "flwr-home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(
        '[superlink]\ndefault = "segrec"\n\n[superlink.segrec]\n'
        f'address = "127.0.0.1:{link}"\ninsecure = true\n'
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "FLWR_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str], extra: dict[str, str] | None = None) -> None:
        out = (logs / f"{name}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [str(bin_dir / args[0]), *args[1:]],
                env={**env, **(extra or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                start_new_session=True,  # its own group: what it spawns is stopped with it
            )
        )

    try:
        start(
            "superlink",
            [
                "flower-superlink",
                "--insecure",
                "--host", "127.0.0.1",
                "--port", str(link),
                "--disable-runtime-dependency-installation",
            ],
        )  # fmt: skip
        for j in range(n_nodes):
            mine = list(range(j, n, n_nodes))
            node_cfg = (
                f'client-ids="{",".join(map(str, mine))}" '
                f'data-dirs="{",".join(str(client_dirs[i]) for i in mine)}" '
                f'shared="{shared}" clip={float(clip)} n-clients={n}'
            )
            start(
                f"supernode-{j}",
                [
                    "flower-supernode",
                    "--insecure",
                    "--superlink", f"127.0.0.1:{link}",
                    "--host", "127.0.0.1",
                    "--port", str(_port()),
                    "--node-config", node_cfg,
                ],
                # each client embeds into its own cache, inside its own folder
                {"SEGREC_CACHE": str(client_dirs[mine[0]] / ".cache")},
            )  # fmt: skip
        _submit(bin_dir, app, workdir, env, logs)
        _wait(workdir, procs, logs, timeout)
    finally:
        _stop(procs)
    server.centers = np.load(workdir / "final_centers.npy")
    server.history = json.loads((workdir / "history.json").read_text())
    if wire is not None:
        with (workdir / "wire.jsonl").open() as fh:
            wire.extend(json.loads(line) for line in fh)
    return server


def _submit(bin_dir: Path, app: Path, workdir: Path, env: dict[str, str], logs: Path) -> None:
    """``flwr run`` the app folder against the local SuperLink (retried while it starts)."""
    cmd = [str(bin_dir / "flwr"), "run", str(app), "segrec", "--run-config", f'job-dir="{workdir}"']
    last = ""
    for _ in range(60):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=workdir)
        (logs / "flwr-run.log").write_text(done.stdout + done.stderr)
        if done.returncode == 0:
            return
        last = ((done.stderr or done.stdout).strip().splitlines() or [""])[-1]
        time.sleep(1.0)
    raise RuntimeError(f"flwr run failed: {last}; see {logs / 'flwr-run.log'}")


def _wait(workdir: Path, procs: list[Any], logs: Path, timeout: float) -> None:
    t0 = time.monotonic()
    while not (workdir / "final_centers.npy").exists():
        if (workdir / "failed.txt").exists():
            raise RuntimeError(f"federated run failed: {(workdir / 'failed.txt').read_text()}")
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(
                f"a Flower process exited (code {dead[0].returncode}); see the logs in {logs}"
            )
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"federated run did not finish in {timeout:.0f}s; logs in {logs}")
        time.sleep(0.5)


def _stop(procs: list[Any]) -> None:
    """Stop the process groups started here (each SuperLink/SuperNode and its children)."""
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=5)
