"""``segrec data check`` and ``segrec data synth``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from segrec.cli._app import DatasetOpt, data_app


@data_app.command("check")
def check(
    dataset: DatasetOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
    quarantine: Annotated[
        Path | None, typer.Option("--quarantine", help="Write rejected rows (JSON lines) here.")
    ] = None,
) -> None:
    """Load a dataset and report rows read, accepted and rejected, per table."""
    from segrec.data import load_dataset

    ds, report = load_dataset(dataset, quarantine=quarantine)
    out = report.as_dict()
    out["dataset"] = ds.counts()
    if as_json:
        typer.echo(json.dumps(out, indent=2, default=str))
        return
    typer.echo(ds.summary())
    typer.echo(f"read {report.read:,}  accepted {report.accepted:,}  rejected {report.rejected:,}")
    for name, t in report.tables.items():
        typer.echo(f"  {name:13s} read {t.read:>9,}  accepted {t.accepted:>9,}  rejected {t.rejected:>7,}")
        for reason, n in t.reasons.most_common(5):
            typer.echo(f"      {n:>7,}  {reason}")
    if report.rejected and quarantine:
        typer.echo(f"rejected rows written to {quarantine}")
