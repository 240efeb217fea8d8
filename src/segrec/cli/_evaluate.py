"""``segrec evaluate``: a thin shell over :func:`segrec.evaluate.run_evaluation`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import DatasetOpt, app


@app.command("evaluate")
def evaluate(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the results JSON here.")] = Path(
        "results.json"
    ),
    protocol: Annotated[
        str | None, typer.Option("--protocol", help="v1 (global temporal split) or llo.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file with evaluation settings.")
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", help="Cutoff K (default 10; 20 is also reported).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write report.html and summary.md here.")
    ] = None,
) -> None:
    """Evaluate baselines, segment-aware recommenders and segmentations on one dataset."""
    from segrec.data import load_dataset
    from segrec.diagnostics import UsageError
    from segrec.evaluate import EvalConfig, run_evaluation

    if protocol is not None and protocol not in ("v1", "llo"):
        raise UsageError(f"--protocol {protocol!r} is not known; expected 'v1' or 'llo'")
    if k is not None and k < 1:
        raise UsageError(f"--k {k}: expected a positive integer such as 10")
    overrides: dict[str, Any] = {"protocol": protocol, "k": k}
    if config is not None:
        cfg = EvalConfig.from_toml(config, **overrides)
    else:
        cfg = EvalConfig(**{a: b for a, b in overrides.items() if b is not None})
    ds, _ = load_dataset(dataset)
    res = run_evaluation(ds, cfg)
    res.save(out)
    d = res.dataset
    typer.echo(
        f"{ds.name}: protocol {cfg.protocol}, {d['n_test_users']} test users "
        f"({d['n_cold_users']} cold) -> {out}"
    )
    m = f"ndcg@{cfg.k}"
    for name, v in sorted(res.methods.items(), key=lambda kv: -(kv[1].get(m) or 0.0)):
        if ":" not in name:
            typer.echo(
                f"  {name:12s} {m} {v.get(m) or 0.0:.4f}  cold {v.get(m + '_cold') or 0.0:.4f}"
            )
    for w in res.warnings:
        typer.echo(f"warning: {w}", err=True)
    if report is not None:
        from segrec.report import write_report

        path = write_report(res, report)
        typer.echo(f"report: {path}")
