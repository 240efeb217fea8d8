"""``segrec data check`` (and, later, ``segrec data synth``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import DatasetOpt, data_app


def _check_summary(dataset: str, quarantine: Path | None) -> tuple[Any, dict[str, Any]]:
    from segrec.data import load_dataset
    from segrec.data.loaders.lastfm import undirected_pairs

    ds, report = load_dataset(dataset, quarantine=quarantine)
    out = report.as_dict()
    counts: dict[str, Any] = ds.counts()
    counts["social_undirected_pairs"] = undirected_pairs(ds.social)
    out["dataset"] = counts
    return ds, out


@data_app.command("check")
def check(
    dataset: DatasetOpt,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts as one JSON object.")
    ] = False,
    quarantine: Annotated[
        Path | None,
        typer.Option(
            "--quarantine",
            help="Write rejected rows (JSON lines, PII-scrubbed, owner-only) here; "
            "always written, empty when nothing is rejected.",
        ),
    ] = None,
) -> None:
    """Load a dataset and report rows read, accepted and rejected, per table.

    With ``--json`` prints one object with keys ``read``, ``accepted``, ``rejected``,
    ``tables`` (per-table counts and reasons), ``cleaning`` (PII and control characters),
    ``notes`` and ``dataset`` (rows per table, users, items, undirected social pairs).
    """
    ds, out = _check_summary(dataset, quarantine)
    if as_json:
        typer.echo(json.dumps(out, indent=2, default=str))
        return
    c = out["dataset"]
    typer.echo(ds.summary())
    typer.echo(
        f"users with interactions {c['users_with_interactions']:,}  items with interactions "
        f"{c['items_with_interactions']:,}  social undirected pairs {c['social_undirected_pairs']:,}"
    )
    typer.echo(f"read {out['read']:,}  accepted {out['accepted']:,}  rejected {out['rejected']:,}")
    for name, t in out["tables"].items():
        typer.echo(
            f"  {name:13s} read {t['read']:>9,}  accepted {t['accepted']:>9,}  rejected {t['rejected']:>7,}"
        )
        for reason, n in list(t["reasons"].items())[:5]:
            typer.echo(f"      {n:>7,}  {reason}")
    pii = out["cleaning"].get("pii")
    if isinstance(pii, dict):
        typer.echo("PII scrubbed from texts: " + ", ".join(f"{k} {v:,}" for k, v in pii.items()))
    elif pii == "off":
        typer.echo("PII scrubbing: off")
    n_ctrl = out["cleaning"].get("control_chars_removed", 0)
    if n_ctrl:
        typer.echo(f"control characters removed from texts: {n_ctrl:,}")
    for note in out["notes"]:
        typer.echo(f"note: {note}")
    if out["rejected"]:
        where = f"written to {quarantine}" if quarantine else "not saved (pass --quarantine FILE)"
        typer.echo(f"rejected rows {where}")
    elif quarantine:
        typer.echo(f"no rows rejected; {quarantine} is empty")
