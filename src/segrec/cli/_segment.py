"""``segrec segment``: features -> segments -> readable profiles, in one command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from segrec.cli._app import DatasetOpt, ModelOpt, app
from segrec.cli._engine import EngineOpt, engine_from
from segrec.diagnostics import UsageError

_log = logging.getLogger(__name__)
_BLOCKS = ("text", "behavior", "graph")


def _parse_blocks(spec: str) -> list[str]:
    blocks = [b.strip() for b in spec.split(",") if b.strip()]
    bad = [b for b in blocks if b not in _BLOCKS]
    if not blocks or bad:
        raise UsageError(
            f"--features {spec!r}: unknown block(s) {bad}; expected a comma list of {_BLOCKS}"
        )
    return blocks


def _segmenter_options(method: str, k: str, random_state: int, labels: Path | None) -> dict:
    """Keyword options for ``get_segmenter(method)``; what a method takes (``k``, labels) is
    read from its registry class (``supports_k``, ``needs_labels``), the one catalogue."""
    from segrec.segment import available_segmenters
    from segrec.segment._base import _REGISTRY

    if method not in _REGISTRY:
        raise UsageError(
            f"--method {method!r}: expected one of {', '.join(available_segmenters())}"
        )
    cls = _REGISTRY[method]
    opts: dict[str, Any] = {"random_state": random_state}
    if k != "auto" and not k.isdigit():
        raise UsageError(f"--k {k!r}: expected 'auto' or a whole number such as 8")
    if getattr(cls, "supports_k", False):
        opts["k"] = k if k == "auto" else int(k)
    elif k != "auto":
        raise UsageError(f"--k {k}: method '{method}' chooses its own number of segments")
    if getattr(cls, "needs_labels", False):
        if labels is None:
            raise UsageError(f"--method {method} needs --labels FILE (CSV with user_id,segment)")
        opts["labels_path"] = str(labels)
    elif labels is not None:
        raise UsageError(
            f"--labels is only used by methods trained on labels (tree, forest), not {method}"
        )
    return opts


@app.command("segment")
def segment(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    features: Annotated[str, typer.Option("--features", help="text,behavior[,graph]")] = (
        "text,behavior"
    ),
    method: Annotated[
        str,
        typer.Option(
            "--method", help="A registered segmenter (segrec.segment.available_segmenters())"
        ),
    ] = "kmeans",
    k: Annotated[str, typer.Option("--k", help="auto or a number of segments")] = "auto",
    labels: Annotated[
        Path | None, typer.Option("--labels", help="CSV/Parquet user_id,segment (tree/forest)")
    ] = None,
    backend: Annotated[str, typer.Option("--backend", help="text embedder backend")] = "auto",
    model: ModelOpt = None,
    random_state: Annotated[
        int, typer.Option("--random-state", help="Seed: the same seed gives the same segments.")
    ] = 0,
    min_size: Annotated[int, typer.Option("--min-size", help="smallest published segment")] = 10,
    suppress: Annotated[
        bool, typer.Option("--suppress-small", help="drop small segments instead of merging")
    ] = False,
    dp_epsilon: Annotated[
        float | None, typer.Option("--dp-epsilon", help="DP budget for counts and means")
    ] = None,
    dp_mechanism: Annotated[str, typer.Option("--dp-mechanism", help="laplace|gaussian")] = (
        "laplace"
    ),
    llm: Annotated[
        bool, typer.Option("--llm", help="names/descriptions from SEGREC_LLM_* endpoint")
    ] = False,
    engine: EngineOpt = None,
) -> None:
    """Segment users and describe each segment.

    Writes segments.parquet (user_id, segment_id, strength, segment name), profiles.json,
    segments.md.
    """
    from segrec.describe import DescribeConfig, SegmentDescriber

    blocks = _parse_blocks(features)
    eng = engine_from(engine)
    # the Spark engine's MLlib methods (kmeans, bisecting) are checked by the engine itself
    opts = _segmenter_options(method, k, random_state, labels) if eng.name == "local" else None
    if dp_mechanism not in ("laplace", "gaussian"):
        raise UsageError(f"--dp-mechanism {dp_mechanism!r}: expected laplace or gaussian")
    if k != "auto" and not k.isdigit():
        raise UsageError(f"--k {k!r}: expected 'auto' or a whole number such as 8")
    kk: Any = k if k == "auto" else int(k)
    run = eng.segment(
        dataset,
        blocks,
        method,
        kk,
        backend=backend,
        model=model,
        random_state=random_state,
        options=opts,
    )
    ds, feats, seg = run.dataset, run.features, run.segmentation
    describer = SegmentDescriber(
        DescribeConfig(
            min_size=min_size,
            small_segments="suppress" if suppress else "merge",
            dp_epsilon=dp_epsilon,
            dp_mechanism=dp_mechanism,  # type: ignore[arg-type]
            llm=llm,
            random_state=random_state,
        )
    )
    profiles = describer.describe(ds, seg, feats)
    out.mkdir(parents=True, exist_ok=True)
    # what is published follows the privacy step: merged ids, -1 for suppressed users
    frame = profiles.frame(seg)
    frame.to_parquet(out / "segments.parquet", index=False)
    profiles.save(out)
    q = seg.quality
    typer.echo(
        f"{seg.k} segments ({len(profiles)} published) for {len(frame):,} users; "
        f"silhouette {q.get('silhouette', float('nan')):.3f}"
        + (f", ARI vs truth {q['ari']:.3f}" if "ari" in q else "")
    )
    for p in profiles.profiles:
        typer.echo(f"  {p['segment_id']:>3}  {p['size']:>7,}  {p['name']}")
    typer.echo(f"wrote {out / 'segments.parquet'}, profiles.json, segments.md")
