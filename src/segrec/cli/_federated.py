"""``segrec federated``: a thin shell over :func:`segrec.federated.run_federated`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segrec.cli._app import DatasetOpt, app
from segrec.cli._evaluate import ConfigOpt, eval_config


@app.command("federated")
def federated(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="The model folder to write.")],
    clients: Annotated[int, typer.Option("--clients", help="Clients holding the users.")] = 10,
    rounds: Annotated[int, typer.Option("--rounds", help="k-means rounds.")] = 10,
    segments: Annotated[int, typer.Option("--segments", help="Number of segments (k).")] = 7,
    dp_epsilon: Annotated[
        float | None,
        typer.Option("--dp-epsilon", help="Differential privacy budget for all rounds."),
    ] = None,
    dp_delta: Annotated[float, typer.Option("--dp-delta", help="DP delta.")] = 1e-5,
    clip: Annotated[
        float | None,
        typer.Option("--clip", help="L2 bound of one user's feature row (default from weights)."),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="flower (real processes on loopback) or local.")
    ] = "flower",
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            help="Flower SuperNodes (or local worker processes) hosting the clients; "
            "0: one SuperNode per client.",
        ),
    ] = 0,
    backend: Annotated[
        str, typer.Option("--backend", help="Text embedding backend the clients run.")
    ] = "tfidf-svd",
    config: ConfigOpt = None,
) -> None:
    """Federated segmentation: clients keep their users' rows and send only masked, optionally
    noised k-means sums and counts; writes a model folder and privacy_ledger.json."""
    from segrec.data import load_dataset
    from segrec.diagnostics import UsageError
    from segrec.federated import run_federated

    if engine not in ("flower", "local"):
        raise UsageError(f"--engine {engine!r}: expected flower or local")
    for flag, value, least in (
        ("--clients", clients, 1),
        ("--rounds", rounds, 1),
        ("--segments", segments, 2),
        ("--processes", processes, 0),
    ):
        if value < least:
            raise UsageError(f"{flag} must be at least {least}; got {value}")
    if dp_epsilon is not None and dp_epsilon <= 0:
        raise UsageError(f"--dp-epsilon must be > 0; got {dp_epsilon}")
    cfg = eval_config(config, backend=backend)
    ds, _ = load_dataset(dataset)
    res = run_federated(
        ds,
        cfg,
        n_clients=clients,
        rounds=rounds,
        k=segments,
        dp_epsilon=dp_epsilon,
        dp_delta=dp_delta,
        clip=clip,
        engine=engine,  # type: ignore[arg-type]
        processes=processes,
        out=out,
    )
    led = res.ledger
    privacy = (
        f"epsilon {led['epsilon_spent']:.3g} (delta {led['delta']:.1g}), sigma {led['sigma']:.3g}"
        if led["differential_privacy"]
        else "no differential privacy (exact sums)"
    )
    typer.echo(
        f"federated k-means: {clients} clients, {rounds} rounds, {segments} segments over "
        f"{engine}; {privacy}"
    )
    typer.echo(f"wrote {out} (a model folder) and {out / 'privacy_ledger.json'}")
