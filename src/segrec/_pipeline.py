"""The whole chain in one call: load -> features -> segments -> profiles -> recommenders ->
evaluation -> report. ``segrec run`` and ``segrec demo`` are thin shells over :func:`run_pipeline`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segrec.data import Dataset
from segrec.evaluate import EvalConfig, EvalResult, run_evaluation

__all__ = ["PipelineResult", "demo_config", "run_pipeline"]

_log = logging.getLogger(__name__)


@dataclass
class PipelineResult:
    """Paths of everything a run wrote, plus the in-memory evaluation."""

    out_dir: Path
    report: Path
    files: dict[str, Path] = field(default_factory=dict)
    evaluation: EvalResult | None = None
    segmentation: str | None = None


def demo_config(**overrides: Any) -> EvalConfig:
    """The evaluation settings of ``segrec demo``: the full comparison, sized to finish in
    minutes on a 2-core CPU (the default transformer text backend, model load included)."""
    return EvalConfig(**overrides)


def _profiles_for_report(profiles: Any) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for p in profiles.profiles:
        rule_block = p.get("rules") or {}
        rules = [
            f"{r.get('if', '')} (precision {r.get('precision', 0):.0%}, "
            f"covers {r.get('coverage', 0):.0%} of members)"
            for r in rule_block.get("rules", [])
        ]
        out[int(p["segment_id"])] = {
            "name": p.get("name"),
            "keywords": p.get("keywords") or [],
            "reviews": p.get("representative_reviews") or [],
            "rules": rules,
            "rules_note": profiles.rules_note(p),
        }
    return out


def run_pipeline(
    dataset: Dataset, out_dir: str | Path, config: EvalConfig | None = None
) -> PipelineResult:
    """Evaluate ``dataset`` and write results, segments, profiles and the report to ``out_dir``.

    Writes ``results.json`` (the evaluation), ``segments.parquet`` (user_id, segment_id,
    strength) with ``profiles.json`` and ``segments.md`` for the segmentation the hybrid uses,
    ``recommendations.parquet`` (the hybrid's top-K with reasons), ``report.html`` and
    ``summary.md``. Every artifact comes from the training period of the evaluation split.
    """
    from segrec.describe import describe_segments
    from segrec.report import write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = run_evaluation(dataset, config)
    files: dict[str, Path] = {"results": res.save(out / "results.json")}
    art = res.artifacts
    seg_name = res.protocol.get("hybrid_segmentation")
    prof_map: dict[int, dict[str, Any]] | None = None
    if art is not None and seg_name in art.segmentations:
        seg = art.segmentations[seg_name]
        files["segments"] = seg.to_parquet(out / "segments.parquet")
        profiles = describe_segments(art.dataset, seg, art.features)
        (out / "profiles.json").write_text(profiles.to_json(), encoding="utf-8")
        (out / "segments.md").write_text(profiles.to_markdown(), encoding="utf-8")
        files["profiles"] = out / "profiles.json"
        files["segments_md"] = out / "segments.md"
        prof_map = _profiles_for_report(profiles)
    hyb = res.runs.get("hybrid")
    if hyb is not None and art is not None:
        # The evaluation scores lists without reasons (speed); the published lists carry them.
        k = int(res.protocol.get("k", 10))
        ctx = getattr(hyb.model, "ctx_", None)
        if ctx is not None and prof_map:
            from segrec.recommend._reasons import reason_index

            names = {s: str(p["name"]) for s, p in prof_map.items() if p.get("name")}
            ctx.segment_names.update(names)
            reason_index(ctx).segment_names.update(names)
        lists = hyb.model.recommend(list(art.dataset.user_ids), k)
        lists.frame().to_parquet(out / "recommendations.parquet", index=False)
        files["recommendations"] = out / "recommendations.parquet"
    report = write_report(res, out, prof_map)
    files["report"] = report
    files["summary"] = out / "summary.md"
    (out / "manifest.json").write_text(
        json.dumps({k: str(v) for k, v in files.items()}, indent=2), encoding="utf-8"
    )
    _log.info("wrote %s", ", ".join(str(p) for p in files.values()))
    return PipelineResult(out, report, files, res, seg_name)
