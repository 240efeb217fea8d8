"""The protocol as a Flower app: a ``ServerApp`` that runs the rounds and a ``ClientApp`` that
answers for the clients one SuperNode hosts (one, or several when many clients are simulated
in fewer processes).

Messages carry exactly the protocol's content: a ``ConfigRecord`` (round, noise, the clients'
public keys) and an ``ArrayRecord`` (the centres) from the server; a ``ConfigRecord`` of
client ids and public keys (setup) or an ``ArrayRecord`` of masked uint64 vectors (rounds)
from the clients. The ServerApp writes a summary of every reply it receives to
``wire.jsonl`` in the job folder, which the tests read. A client's secret key and feature rows
live in its SuperNode's own run state (``context.state``), never in a message.

Flower imports this module (the components of the app folder written by
:mod:`segrec.federated._deploy`); it needs ``flwr`` (the ``.venv-federated`` environment).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from segrec.federated._partition import client_features
from segrec.federated._protocol import FederatedClient, FederatedServer
from segrec.federated._secagg import KeyPair

__all__ = ["client_app", "server_app"]

server_app = ServerApp()
client_app = ClientApp()


def _summary(content: RecordDict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rec in content.items():
        if isinstance(rec, ArrayRecord):
            out[name] = {k: ["array", a.dtype, list(a.shape)] for k, a in rec.items()}
        else:
            out[name] = {k: [type(v).__name__] for k, v in dict(rec).items()}
    return out


def _nodes(grid: Grid, n: int, timeout: float = 300.0) -> list[int]:
    t0 = time.monotonic()
    while True:
        ids = sorted(grid.get_node_ids())
        if len(ids) >= n:
            return ids[:n]
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"only {len(ids)} of {n} SuperNodes connected in {timeout:.0f}s")
        time.sleep(0.5)


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    job = Path(str(context.run_config["job-dir"]))
    spec = json.loads((job / "flower_job.json").read_text())
    wire = (job / "wire.jsonl").open("w")
    try:
        init = np.load(Path(spec["shared"]) / "init_centers.npy")
        server = FederatedServer(init, spec["rounds"], spec["clip"], spec["sigma"])
        nodes = _nodes(grid, int(spec["n_nodes"]))

        def ask(kind: str, content: RecordDict, r: int) -> list[Message]:
            msgs = [grid.create_message(content, kind, n, str(r)) for n in nodes]
            replies = list(grid.send_and_receive(msgs, timeout=600))
            for rep in replies:
                if rep.has_error():
                    raise RuntimeError(f"client error: {rep.error.reason}")
                wire.write(json.dumps({"round": r, "content": _summary(rep.content)}) + "\n")
            return replies

        setup = ask("query", RecordDict({"step": ConfigRecord({"round": 0})}), 0)
        keys = []
        for rep in setup:
            rec = rep.content["keys"]
            ids, pubs = list(rec["client_ids"]), list(rec["public_keys"])  # type: ignore[arg-type]
            keys += [{"client_id": i, "public_key": p} for i, p in zip(ids, pubs, strict=True)]
        server.collect_keys(keys)
        for r in range(1, server.rounds + 1):
            m = server.round_message(r)
            content = RecordDict(
                {
                    "centers": ArrayRecord({"centers": Array(m["centers"])}),
                    "round": ConfigRecord(
                        {"round": r, "sigma": m["sigma"], "publics": json.dumps(m["publics"])}
                    ),
                }
            )
            replies = ask("train", content, r)
            stats = [
                {"client_id": int(name[1:]), "stats": arr.numpy()}
                for rep in replies
                for name, arr in rep.content["stats"].items()  # type: ignore[union-attr]
            ]
            server.aggregate(stats)
        np.save(job / "final_centers.npy", server.centers)
        (job / "history.json").write_text(json.dumps(server.history))
    except Exception as exc:  # the orchestrator waits on a file: say what failed
        (job / "failed.txt").write_text(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        wire.close()


def _clients(context: Context) -> list[FederatedClient]:
    """This node's clients: features computed from their own folders once per run, kept with
    their secret keys in the node's own state."""
    cfg = context.node_config
    ids = [int(i) for i in str(cfg["client-ids"]).split(",")]
    dirs = str(cfg["data-dirs"]).split(",")
    shared, clip, n = Path(str(cfg["shared"])), float(cfg["clip"]), int(cfg["n-clients"])  # type: ignore[arg-type]
    state = context.state
    if "rows" not in state:
        rows = {
            f"c{i}": Array(client_features(Path(d), shared)) for i, d in zip(ids, dirs, strict=True)
        }
        state["rows"] = ArrayRecord(rows)
        state["secrets"] = ConfigRecord({f"c{i}": KeyPair().secret_hex() for i in ids})
    rows_rec: Any = state["rows"]
    secrets_rec: Any = state["secrets"]
    return [
        FederatedClient(
            i, rows_rec[f"c{i}"].numpy(), clip, n, KeyPair(int(str(secrets_rec[f"c{i}"]), 16))
        )
        for i in ids
    ]


@client_app.query()
def setup(msg: Message, context: Context) -> Message:
    answers = [c.setup() for c in _clients(context)]
    rec = ConfigRecord(
        {
            "client_ids": [int(a["client_id"]) for a in answers],
            "public_keys": [str(a["public_key"]) for a in answers],
        }
    )
    return Message(RecordDict({"keys": rec}), reply_to=msg)


@client_app.train()
def train(msg: Message, context: Context) -> Message:
    centers: Any = msg.content["centers"]
    cfg: Any = msg.content["round"]
    m = {
        "round": int(cfg["round"]),
        "sigma": float(cfg["sigma"]),
        "publics": json.loads(str(cfg["publics"])),
        "centers": centers["centers"].numpy(),
    }
    out = {f"c{c.client_id}": Array(c.round(m)["stats"]) for c in _clients(context)}
    return Message(RecordDict({"stats": ArrayRecord(out)}), reply_to=msg)
