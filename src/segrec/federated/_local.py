"""The same protocol without Flower: clients in this process, or spread over worker processes
(many simulated clients in few processes: each worker hosts a share of the clients and answers
for all of them, through a pipe that carries exactly the protocol's messages)."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path
from typing import Any

from segrec.federated._partition import client_features
from segrec.federated._protocol import FederatedClient, FederatedServer, wire_summary

__all__ = ["run_local"]

Ask = Callable[[str, dict[str, Any] | None], list[dict[str, Any]]]


def _clients(
    dirs: list[tuple[int, str]], shared: str, clip: float, n: int
) -> list[FederatedClient]:
    return [FederatedClient(i, client_features(Path(d), Path(shared)), clip, n) for i, d in dirs]


def _answer(clients: list[FederatedClient], what: str, msg: dict[str, Any] | None) -> list[Any]:
    if what == "setup":
        return [c.setup() for c in clients]
    assert msg is not None
    return [c.round(msg) for c in clients]


def _worker(conn: Any, dirs: list[tuple[int, str]], shared: str, clip: float, n: int) -> None:
    """A worker process: builds its clients from their own folders, then answers requests."""
    clients = _clients(dirs, shared, clip, n)
    conn.send(("ready", len(clients)))
    while True:
        what, msg = conn.recv()
        if what == "stop":
            break
        conn.send((what, _answer(clients, what, msg)))
    conn.close()


def run_local(
    server: FederatedServer,
    client_dirs: list[Path],
    shared: Path,
    clip: float,
    processes: int = 1,
    wire: list[dict[str, Any]] | None = None,
) -> FederatedServer:
    """Run setup and every round of ``server`` against clients built from ``client_dirs``;
    ``wire`` (if given) receives a summary of every message a client sent."""
    n = len(client_dirs)
    indexed = [(i, str(d)) for i, d in enumerate(client_dirs)]
    procs: list[Any] = []
    conns: list[Any] = []
    ask: Ask
    if processes <= 1:
        local = _clients(indexed, str(shared), clip, n)

        def ask(what: str, msg: dict[str, Any] | None) -> list[dict[str, Any]]:
            return _answer(local, what, msg)
    else:
        ctx = mp.get_context("spawn")
        shares = [indexed[p::processes] for p in range(min(processes, n))]
        for share in shares:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, share, str(shared), clip, n))
            proc.start()
            procs.append(proc)
            conns.append(parent)
        for c in conns:
            c.recv()  # ready

        def ask(what: str, msg: dict[str, Any] | None) -> list[dict[str, Any]]:
            for c in conns:
                c.send((what, msg))
            return [r for c in conns for r in c.recv()[1]]

    try:
        replies = ask("setup", None)
        _log_wire(wire, 0, replies)
        server.collect_keys(replies)
        for r in range(1, server.rounds + 1):
            replies = ask("round", server.round_message(r))
            _log_wire(wire, r, replies)
            server.aggregate(replies)
    finally:
        for c in conns:
            c.send(("stop", None))
        for p in procs:
            p.join(timeout=30)
    return server


def _log_wire(wire: list[dict[str, Any]] | None, r: int, replies: list[dict[str, Any]]) -> None:
    if wire is not None:
        wire.extend({"round": r, "content": wire_summary(m)} for m in replies)
