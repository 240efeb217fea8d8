"""``segrec fit``, ``segrec drift`` and ``segrec forget``: thin shells over :mod:`segrec.model`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import DatasetOpt, ModelOpt, app
from segrec.cli._engine import EngineOpt, engine_from
from segrec.cli._evaluate import BackendOpt, ConfigOpt, KOpt, ProtocolOpt, eval_config


@app.command("fit")
def fit(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="The model folder to write.")],
    config: ConfigOpt = None,
    model: ModelOpt = None,
    from_run: Annotated[
        Path | None,
        typer.Option("--from-run", help="Reuse a finished run's choices instead of tuning again."),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="A model folder whose segment ids to keep (refresh)."),
    ] = None,
    protocol: ProtocolOpt = None,
    k: KOpt = None,
    backend: BackendOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Fit a model on every interaction with what validation chose, and save its folder.

    Without --from-run the evaluation's tuning runs first. With --previous the new segments
    keep the ids of the previous model's segments they match, and what moved is reported.
    """
    from segrec.data import load_dataset
    from segrec.diagnostics import UsageError
    from segrec.model import fit_model, load_model

    flags: dict[str, Any] = {"protocol": protocol, "k": k, "backend": backend, "model": model}
    cfg = (
        None
        if from_run is not None and config is None and not any(flags.values())
        else (eval_config(config, **flags))
    )
    prev = load_model(previous) if previous is not None else None
    eng = engine_from(engine, config)
    if prev is not None and eng.name != "local":
        raise UsageError("--previous (refresh) runs on the local engine; drop --engine spark")
    if prev is None and eng.name != "local":
        m = eng.fit_model(dataset, cfg, from_run=from_run)  # the Spark engine reads the data
    else:
        ds, report = load_dataset(dataset)
        typer.echo(f"{ds.summary()} (read {report.read:,}, rejected {report.rejected:,})")
        if prev is not None:
            m, rep = prev.refresh(ds, cfg)
            for line in rep.lines():
                typer.echo(f"refresh: {line}")
        else:
            m = fit_model(ds, cfg, from_run=from_run)
    m.save(out)
    c = m.info["chosen"]
    typer.echo(
        f"model: {len(m.segments):,} users in {c['n_segments']} '{c['segmentation']}' segments, "
        f"hybrid on {c['hybrid']['base']} -> {out}"
    )


@app.command("drift")
def drift(
    model_dir: Annotated[Path, typer.Option("--model", help="The model folder.")],
    dataset: DatasetOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Drift of a dataset's users against the model's fit-time segments; exits 3 when a refit
    is advised, 0 otherwise."""
    from segrec.data import load_dataset
    from segrec.model import load_model

    m = load_model(model_dir)
    ds, _ = load_dataset(dataset)
    rep = m.drift(ds)
    if as_json:
        typer.echo(json.dumps(rep.to_dict(), indent=2))
    else:
        typer.echo(f"drift: {rep.verdict} ({rep.n_users:,} users, {rep.n_new_users:,} new)")
        for r in rep.reasons:
            typer.echo(f"  {r}")
    raise typer.Exit(code=rep.exit_code)


@app.command("forget")
def forget(
    model_dir: Annotated[Path, typer.Option("--model", help="The model folder.")],
    user: Annotated[str, typer.Option("--user", help="The user_id to remove.")],
) -> None:
    """Remove one user's events, texts, ties and state from a model folder."""
    from collections import Counter

    from segrec.model import load_model

    m = load_model(model_dir)
    out = m.forget(user)
    m.save(model_dir)
    removed = ", ".join(f"{v:,} {k}" for k, v in out["removed"].items())
    typer.echo(f"forgot user '{user}': {removed}")
    parts = Counter(path.split(".")[0] for path in out["scrubbed"])
    if parts:
        done = ", ".join(f"{name} ({n} arrays)" for name, n in parts.items())
        typer.echo(f"  scrubbed their rows and id from the fitted parts: {done}")
    for what in out["remains_until_refit"]:
        typer.echo(f"  still reflects them until a refit: {what}")
    from segrec.model._forget import residual_user_state

    for name in residual_user_state(model_dir, user):
        typer.echo(f"  still names them until a refit: {name}")
