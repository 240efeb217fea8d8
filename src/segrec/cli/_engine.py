"""``segrec score`` (batch assignment and top-K of every user from a model folder) and the
``--engine`` option that ``fit``, ``segment`` and ``score`` share; the engine itself is chosen
by :func:`segrec.engines.get_engine` only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import DatasetOpt, app

EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="local (default) or spark (pip install 'segrec[spark]'; master from [engine] "
        "master, else $SPARK_MASTER, else local[*]).",
    ),
]


def engine_from(name: str | None, config: Path | None = None) -> Any:
    """The engine of ``--engine`` (else the config's ``[engine]``, else local)."""
    from segrec.engines import engine_config, get_engine

    return get_engine(config=engine_config(config, name))


@app.command("score")
def score(
    model_dir: Annotated[Path, typer.Option("--model", help="The model folder (segrec fit).")],
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the Parquet files.")],
    k: Annotated[int, typer.Option("--k", help="Items per list.")] = 10,
    engine: EngineOpt = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file; its [engine] section is read.")
    ] = None,
    reasons: Annotated[
        bool, typer.Option("--reasons/--no-reasons", help="A reason for every listed item.")
    ] = True,
    heldout: Annotated[
        str | None,
        typer.Option(
            "--heldout",
            help="KIND:PATH of later events: the lists' NDCG, Recall, Precision, HR and MAP "
            "at K against them, computed by the engine (metrics.json).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Assign every user of --dataset to a segment and list the top-K of every user the model
    knows, on the local or the Spark engine.

    Writes assignments.parquet (user_id, segment_id, strength, alternative, distance, new,
    segment) and recommendations.parquet (user_id, rank, item_id, score, reason, item,
    segment_id, segment), the same files whichever engine ran. With --heldout (events after
    the model's data, e.g. a temporal split's test period) also metrics.json: the lists' mean
    NDCG, Recall, Precision, HR and MAP at K over users with a list and a held-out known item.
    """
    from segrec.diagnostics import UsageError

    if k < 1:
        raise UsageError(f"--k {k}: expected a positive integer such as 10")
    eng = engine_from(engine, config)
    res = eng.score(model_dir, dataset, out, k, reasons, heldout)
    summary = {
        "engine": eng.name,
        "files": {n: str(p) for n, p in res.files.items()},
        "users": res.n_users,
        "new_users": res.n_new_users,
        "listed_users": res.n_listed,
        "seconds": {n: round(v, 2) for n, v in res.seconds.items()},
    }
    if res.metrics is not None:
        summary["metrics"] = res.metrics
        metrics = {"k": k, "heldout": heldout, **res.metrics}
        (Path(out) / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    (Path(out) / "score.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    for line in res.lines():
        typer.echo(f"{eng.name}: {line}")
