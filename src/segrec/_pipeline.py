"""The whole chain in one call: load -> features -> segments -> profiles -> recommenders ->
evaluation -> report. ``segrec run`` and ``segrec demo`` are thin shells over :func:`run_pipeline`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

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
    #: what was refit on all data and published: users segmented, segments, users with a list
    published: dict[str, int] = field(default_factory=dict)


def demo_config(**overrides: Any) -> EvalConfig:
    """The evaluation settings of ``segrec demo``: the full comparison, sized to finish in
    minutes on a 2-core CPU (the default transformer text backend, model load included)."""
    return EvalConfig(**overrides)


def _profiles_for_report(profiles: Any) -> dict[int, dict[str, Any]]:
    from segrec.report import profile_fields

    return profile_fields(profiles)


def run_pipeline(
    dataset: Dataset,
    out_dir: str | Path,
    config: EvalConfig | None = None,
    fit: Callable[[EvalResult, Path], Any] | None = None,
) -> PipelineResult:
    """Evaluate ``dataset`` and write results, segments, profiles and the report to ``out_dir``.

    Writes ``results.json`` (the evaluation), ``report.html`` and ``summary.md`` (the report
    describes the segments the evaluation measured, built on the training period), then fits
    the model on the whole dataset with the settings validation chose
    (:func:`segrec.model.fit_model`) and saves it as ``model/``. What to use afterwards is
    produced *from that folder*, so it always agrees with it: ``segments.parquet`` (user_id,
    segment_id, strength, segment: the name, alternative, distance), ``profiles.json`` and
    ``segments.md`` for the hybrid's segmentation, and ``recommendations.parquet`` (the
    hybrid's top-K for every user: user_id, rank, item_id, score, reason, item: a readable
    label, and the user's segment_id and segment). ``fit(result, out_dir)`` fits that model
    instead of :func:`~segrec.model.fit_model` (the Spark engine's fit, from the run's
    ``results.json``); the evaluation always runs here.
    """
    from segrec.describe import describe_segments, privacy_statement
    from segrec.report import write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = run_evaluation(dataset, config)
    seconds = {"evaluation": time.perf_counter() - t0}
    files: dict[str, Path] = {"results": res.save(out / "results.json")}
    art = res.artifacts
    seg_name = res.protocol.get("hybrid_segmentation")
    report_profiles: dict[int, dict[str, Any]] | None = None
    privacy_note: str | None = None
    if art is not None and seg_name in art.segmentations:
        evaluated = describe_segments(art.dataset, art.segmentations[seg_name], art.features)
        report_profiles = _profiles_for_report(evaluated)
        privacy_note = privacy_statement(evaluated.meta.get("privacy", {}))
    t = time.perf_counter()
    model = None
    if seg_name is not None or "hybrid" in res.runs:
        from segrec.model import fit_model, load_model

        fitted = fit(res, out) if fit is not None else fit_model(dataset, result=res)
        fitted.save(out / "model")
        files["model"] = out / "model"
        model = load_model(out / "model")  # publish from the folder, so the two agree
    seconds["fit_model"] = time.perf_counter() - t
    note: str | None = None
    published: dict[str, int] = {}
    segments = None  # user_id -> published segment_id and name
    if model is not None and model.info["chosen"]["segmentation"] is not None:
        segments = model.segments.reset_index().drop(columns=["source_id"])
        k_seg = int(model.info["chosen"]["n_segments"])
        published.update(segmented_users=len(segments), segments=k_seg)
        files["segments"] = out / "segments.parquet"
        segments.to_parquet(files["segments"], index=False)
        (out / "profiles.json").write_text(model.profiles.to_json(), encoding="utf-8")
        (out / "segments.md").write_text(model.profiles.to_markdown(), encoding="utf-8")
        files["profiles"] = out / "profiles.json"
        files["segments_md"] = out / "segments.md"
        d = model.info["dataset"]
        note = (
            f"These are the segments the evaluation measured, built on the training period. "
            f"The model folder (model/) and segments.parquet, profiles.json, segments.md and "
            f"recommendations.parquet hold the same {seg_name} segmentation (k={k_seg}) and the "
            f"same tuned hybrid fit on the whole dataset ({d['n_users']:,} users, "
            f"{d['n_interactions']:,} distinct user-item pairs), so their segment ids and names "
            "can differ."
        )
    examples = None
    if model is not None:
        from segrec.model import serving_dataset
        from segrec.report import example_lists

        k = int(res.protocol.get("k", 10))
        recs = _publish_recommendations(model, k, out, segments)
        published.update(list_users=recs.user_id.nunique(), k=k)
        files["recommendations"] = out / "recommendations.parquet"
        assert res.config is not None
        examples = example_lists(serving_dataset(dataset, res.config), recs)
    note = " ".join(n for n in (note, privacy_note) if n) or None
    report = write_report(res, out, report_profiles, segments_note=note, examples=examples)
    files["report"] = report
    files["summary"] = out / "summary.md"
    seconds["total"] = time.perf_counter() - t0
    manifest = {
        **{k: str(v) for k, v in files.items()},
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    _log.info("wrote %s", ", ".join(str(p) for p in files.values()))
    return PipelineResult(out, report, files, res, seg_name, published)


def _publish_recommendations(
    model: Any, k: int, out: Path, segments: pd.DataFrame | None
) -> pd.DataFrame:
    """Top ``k`` of ``model`` for every user it knows, with reasons that name the segments as
    their profiles do, each item's readable label, and each user's row of ``segments`` (what
    ``segments.parquet`` holds), written to ``recommendations.parquet`` and returned."""
    lists = model.recommend_users(model.user_ids, k)
    frame = lists.frame()
    frame["item"] = frame.item_id.astype(str).map(model.item_labels).astype("string")
    if segments is not None:
        seg = segments.set_index("user_id")
        users = frame.user_id.astype(str)
        frame["segment_id"] = users.map(seg.segment_id).fillna(-1).astype("int64")
        frame["segment"] = users.map(seg.segment).astype("string")
    frame.to_parquet(out / "recommendations.parquet", index=False)
    return frame
