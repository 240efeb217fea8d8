"""``segrec run`` (the whole chain on any dataset) and ``segrec demo`` (on the built-in shop)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segrec.cli._app import DatasetOpt, app

DEMO_DATASET = "synthetic:users=2000,seed=7"


def _run(dataset: str, out: Path, config: Path | None, backend: str | None) -> None:
    from segrec._pipeline import run_pipeline
    from segrec.data import load_dataset
    from segrec.evaluate import EvalConfig

    cfg = EvalConfig.from_toml(config) if config is not None else EvalConfig()
    if backend is not None:
        feats = dict(cfg.features)
        feats["embedder"] = {**dict(feats.get("embedder") or {}), "backend": backend}
        cfg = cfg.model_copy(update={"features": feats})
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
        k = cfg.k
        for name, m in sorted(ev.methods.items(), key=lambda kv: -(kv[1].get(f"ndcg@{k}") or 0)):
            if ":" in name:
                continue
            typer.echo(
                f"  {name:10s} ndcg@{k} {m.get(f'ndcg@{k}') or 0:.4f}  "
                f"cold {m.get(f'ndcg@{k}_cold') or 0:.4f}"
            )
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
) -> None:
    """Load, build features, segment, profile, recommend, evaluate; write report.html."""
    _run(dataset, out, config, backend)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "segrec-out/demo"
    ),
    config: ConfigOpt = None,
    backend: BackendOpt = None,
) -> None:
    """The whole chain on the built-in synthetic shop (2,000 users, seed 7)."""
    _run(DEMO_DATASET, out, config, backend)
