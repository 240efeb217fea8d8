"""``segrec evaluate``: a thin shell over :func:`segrec.evaluate.run_evaluation`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import DatasetOpt, ModelOpt, app, with_embedder

ProtocolOpt = Annotated[
    str | None, typer.Option("--protocol", help="v1 (global temporal split, default) or llo.")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML file with evaluation settings.")
]
KOpt = Annotated[
    int | None, typer.Option("--k", help="Cutoff K (default 10; 20 is also reported).")
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend", help="Text embedding backend (auto, onnx-int8, bf16, hf, tfidf-svd, ...)."
    ),
]


def eval_config(
    config: Path | None,
    *,
    protocol: str | None = None,
    k: int | None = None,
    backend: str | None = None,
    model: str | None = None,
) -> Any:
    """The evaluation settings of ``evaluate``, ``run`` and ``demo``: ``--config`` (or the
    defaults) with the command-line flags on top; a bad flag is one usage line."""
    from segrec.diagnostics import UsageError
    from segrec.evaluate import EvalConfig

    if protocol is not None and protocol not in ("v1", "llo"):
        raise UsageError(f"--protocol {protocol!r} is not known; expected 'v1' or 'llo'")
    if k is not None and k < 1:
        raise UsageError(f"--k {k}: expected a positive integer such as 10")
    overrides: dict[str, Any] = {"protocol": protocol, "k": k}
    if config is not None:
        cfg = EvalConfig.from_toml(config, **overrides)
    else:
        cfg = EvalConfig(**{a: b for a, b in overrides.items() if b is not None})
    return with_embedder(cfg, backend=backend, model=model)


def method_lines(methods: dict[str, dict[str, Any]], k: int) -> list[str]:
    """One line per method (variants with ':' left out), best NDCG@k first; a figure with no
    users behind it (no cold test users, say) reads n/a, not 0."""
    m = f"ndcg@{k}"

    def f(v: Any) -> str:
        return "   n/a" if v is None else f"{v:.4f}"

    rows = [
        (name, v)
        for name, v in sorted(methods.items(), key=lambda kv: -(kv[1].get(m) or 0.0))
        if ":" not in name
    ]
    width = max((len(name) for name, _ in rows), default=0)
    return [
        f"  {name:{width}s}  {m} {f(v.get(m))}  cold {f(v.get(m + '_cold'))}" for name, v in rows
    ]


def lift_lines(significance: dict[str, Any]) -> list[str]:
    """The hybrid against the best baseline, over all test users and over cold users: the
    ratio of their NDCG with its paired-bootstrap interval and p-value."""
    from segrec.evaluate._stats import ratio_text

    out = []
    for key, who in (
        ("hybrid_vs_best_baseline", "users"),
        ("hybrid_vs_best_baseline_cold", "cold users"),
    ):
        sig = significance.get(key)
        if not isinstance(sig, dict) or (ratio := ratio_text(sig)) is None:
            continue
        p = sig.get("p_bootstrap")
        out.append(
            f"  {sig['a']} / {sig['b']} on {sig['n_users']:,} {who}: {ratio}"
            + (f", p={p:.3f}" if p is not None else "")
        )
    return out


@app.command("evaluate")
def evaluate(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the results JSON here.")] = Path(
        "results.json"
    ),
    protocol: ProtocolOpt = None,
    config: ConfigOpt = None,
    k: KOpt = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write report.html and summary.md here.")
    ] = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
) -> None:
    """Evaluate baselines, segment-aware recommenders and segmentations on one dataset."""
    from segrec.data import load_dataset
    from segrec.evaluate import run_evaluation

    cfg = eval_config(config, protocol=protocol, k=k, backend=backend, model=model)
    ds, _ = load_dataset(dataset)
    res = run_evaluation(ds, cfg)
    res.save(out)
    d = res.dataset
    typer.echo(
        f"{ds.name}: protocol {cfg.protocol}, {d['n_test_users']:,} test users "
        f"({d['n_cold_users']:,} cold) -> {out}"
    )
    for line in method_lines(res.methods, cfg.k) + lift_lines(res.significance):
        typer.echo(line)
    for w in res.warnings:
        typer.echo(f"warning: {w}", err=True)
    if report is not None:
        from segrec.report import write_report

        path = write_report(res, report)
        typer.echo(f"report: {path}")
