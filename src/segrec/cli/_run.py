"""``segrec run`` (the whole chain on any dataset) and ``segrec demo`` (on the built-in shop)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import DatasetOpt, ModelOpt, app
from segrec.cli._engine import EngineOpt, engine_from
from segrec.cli._evaluate import (
    BackendOpt,
    ConfigOpt,
    KOpt,
    ProtocolOpt,
    eval_config,
    lift_lines,
    method_lines,
)

DEMO_DATASET = "synthetic:users=2000,seed=7"


def _run(
    dataset: str, out: Path, config: Path | None, engine: str | None = None, **flags: Any
) -> None:
    from segrec._pipeline import run_pipeline
    from segrec.data import load_dataset

    cfg = eval_config(config, **flags)
    eng = engine_from(engine, config)
    fit = None
    if eng.name != "local":  # the evaluation runs here; the engine fits what it chose

        def fit(res: Any, run_dir: Path) -> Any:
            import shutil
            import tempfile

            # this run's choices only: a model/ left in run_dir by an earlier run would win
            with tempfile.TemporaryDirectory() as only:
                shutil.copy(run_dir / "results.json", only)
                return eng.fit_model(dataset, res.config, from_run=Path(only))

    ds, report = load_dataset(dataset)
    typer.echo(f"{ds.summary()} (read {report.read:,}, rejected {report.rejected:,})")
    res = run_pipeline(ds, out, cfg, fit=fit)
    ev = res.evaluation
    if ev is not None:
        d = ev.dataset
        typer.echo(
            f"protocol {ev.protocol.get('name')}: {d['n_test_users']:,} test users "
            f"({d['n_cold_users']:,} cold); segments for the hybrid: {res.segmentation}"
        )
        for line in method_lines(ev.methods, cfg.k) + lift_lines(ev.significance):
            typer.echo(line)
        for w in ev.warnings:
            typer.echo(f"warning: {w}", err=True)
    pub = res.published
    if pub:
        bits = []
        if "segments" in pub:
            bits.append(f"{pub['segmented_users']:,} users in {pub['segments']} segments")
        if "list_users" in pub:
            bits.append(f"top-{pub['k']} lists for {pub['list_users']:,} users")
        where = res.files.get("model", res.out_dir)
        typer.echo(f"model fit on all data: {', '.join(bits)} -> {where}")
    typer.echo(f"report: {res.report}")


@app.command("run")
def run(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "segrec-out/run"
    ),
    config: ConfigOpt = None,
    protocol: ProtocolOpt = None,
    k: KOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Evaluate, write report.html, then segment and recommend on all data.

    The evaluation (results.json, report.html, summary.md) fits on the training period of the
    split. segments.parquet, profiles.json, segments.md and recommendations.parquet come from
    the model folder (model/), the same segmentation and hybrid fit on the whole dataset (with
    --engine spark, by the Spark engine from the choices the evaluation made).
    """
    _run(dataset, out, config, engine, protocol=protocol, k=k, backend=backend, model=model)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "segrec-out/demo"
    ),
    config: ConfigOpt = None,
    protocol: ProtocolOpt = None,
    k: KOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
) -> None:
    """The whole chain on the built-in synthetic shop (2,000 users, seed 7)."""
    _run(DEMO_DATASET, out, config, protocol=protocol, k=k, backend=backend, model=model)
