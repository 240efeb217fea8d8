"""``segrec run`` (the whole chain on any dataset) and ``segrec demo`` (on the built-in shop)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segrec.cli._app import DatasetOpt, ModelOpt, app, with_embedder
from segrec.cli._evaluate import method_lines

DEMO_DATASET = "synthetic:users=2000,seed=7"


def _run(
    dataset: str, out: Path, config: Path | None, backend: str | None, model: str | None
) -> None:
    from segrec._pipeline import run_pipeline
    from segrec.data import load_dataset
    from segrec.evaluate import EvalConfig

    cfg = EvalConfig.from_toml(config) if config is not None else EvalConfig()
    cfg = with_embedder(cfg, backend=backend, model=model)
    ds, report = load_dataset(dataset)
    typer.echo(f"{ds.summary()} (read {report.read:,}, rejected {report.rejected:,})")
    res = run_pipeline(ds, out, cfg)
    ev = res.evaluation
    if ev is not None:
        d = ev.dataset
        typer.echo(
            f"protocol {ev.protocol.get('name')}: {d['n_test_users']} test users "
            f"({d['n_cold_users']} cold); segments for the hybrid: {res.segmentation}"
        )
        for line in method_lines(ev.methods, cfg.k):
            typer.echo(line)
        for w in ev.warnings:
            typer.echo(f"warning: {w}", err=True)
    typer.echo(f"report: {res.report}")


BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend", help="Text embedding backend (auto, onnx-int8, bf16, hf, tfidf-svd, ...)."
    ),
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Evaluation settings (TOML).")]


@app.command("run")
def run(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "segrec-out/run"
    ),
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
) -> None:
    """Load, build features, segment, profile, recommend, evaluate; write report.html."""
    _run(dataset, out, config, backend, model)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "segrec-out/demo"
    ),
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
) -> None:
    """The whole chain on the built-in synthetic shop (2,000 users, seed 7)."""
    _run(DEMO_DATASET, out, config, backend, model)
