"""``segrec data synth``: write the synthetic music shop to a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from segrec.cli._app import data_app

_STREAM_ABOVE = 200_000  # users; above this the shop is streamed as Parquet part files


@data_app.command("synth")
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the tables to.")],
    users: Annotated[int, typer.Option("--users", "-n", help="Number of users (>= 1).")] = 2000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (>= 0).")] = 0,
    items: Annotated[
        int | None,
        typer.Option(
            "--items",
            help="Catalogue size (default max(200, users / 5), at most 20,000); e.g. 100000 "
            "with --users 10000 for a marketplace whose items mostly have one or two ratings.",
        ),
    ] = None,
    popularity_exponent: Annotated[
        float,
        typer.Option(
            "--popularity-exponent",
            help="Zipf exponent of item popularity (0.9; higher: a longer tail of rare items).",
        ),
    ] = 0.9,
    months: Annotated[int, typer.Option("--months", help="Length of the log in months.")] = 6,
    drift_share: Annotated[
        float, typer.Option("--drift-share", help="Share of users who change persona (0-1).")
    ] = 0.1,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help=f"Write part files chunk by chunk (default: when --users > {_STREAM_ABOVE:,}).",
        ),
    ] = None,
    chunk_users: Annotated[
        int, typer.Option("--chunk-users", help="Users per part file when streaming.")
    ] = 50_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Generate the synthetic shop (planted personas in truth.parquet) and write it to --out.

    Small shops are written with ``Dataset.to_parquet`` (read back with
    ``Dataset.from_parquet``); large ones as ``<table>/part-NNNNN.parquet`` files.
    """
    from segrec._progress import Stopwatch
    from segrec.data.synthetic import generate, stream_to_disk
    from segrec.data.synthetic._generate import make_config
    from segrec.diagnostics import UsageError

    # invalid values become UsageError (one line, exit code 2) naming the field
    given = {"n_items": items} if items is not None else {}
    cfg = make_config(
        None,
        spelling="flag",
        users=users,
        seed=seed,
        months=months,
        drift_share=drift_share,
        popularity_exponent=popularity_exponent,
        **given,
    )
    if chunk_users < 1:
        raise UsageError(f"--chunk-users {chunk_users}: expected a positive number of users")
    streamed = stream if stream is not None else users > _STREAM_ABOVE
    with Stopwatch() as sw:
        if streamed:
            summary = stream_to_disk(out, config=cfg, chunk_users=chunk_users)
            rows = summary["rows"]
            personas = summary["personas"]
        else:
            ds = generate(config=cfg)
            ds.to_parquet(out)
            rows = {
                k: v
                for k, v in ds.counts().items()
                if k in ("interactions", "texts", "items", "users", "social")
            }
            personas = ds.truth.value_counts().to_dict() if ds.truth is not None else None
    result = {
        "out": str(out),
        "layout": "part files" if streamed else "Dataset.to_parquet",
        "users": users,
        "seed": seed,
        "items": cfg.item_count,
        "rows": rows,
        "personas": personas,
        "seconds": round(sw.elapsed, 2),
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"wrote synthetic shop ({result['layout']}) to {out} in {sw.elapsed:.1f}s")
    typer.echo("  " + "  ".join(f"{k} {v:,}" for k, v in rows.items()))
    if personas:
        typer.echo("  personas: " + ", ".join(f"{k} {v:,}" for k, v in personas.items()))
    typer.echo(f"  use it: --dataset generic:{out}")
