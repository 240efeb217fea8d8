"""After the evaluation: the chosen method refit on the whole dataset, ready to serve.

The evaluation fits on the training period, so its models have not seen the test period:
users who arrived in it have no segment, and their latest items could be recommended back to
them. :func:`refit_on_all` repeats what validation chose (the method's parameters and inner
weights, the segmentation and its number of segments) on every interaction.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

from segrec._progress import stage
from segrec.data import Dataset
from segrec.describe import SegmentProfiles, describe_segments
from segrec.diagnostics import UsageError
from segrec.evaluate._result import EvalResult
from segrec.evaluate._run import _build_phase, _context
from segrec.evaluate._segmentations import PhaseArtifacts
from segrec.recommend import Recommender
from segrec.segment import Segmentation

__all__ = ["Served", "refit_on_all"]

_log = logging.getLogger(__name__)


@dataclass
class Served:
    """``method`` and its segmentation refit on the whole (deduplicated) dataset, with the
    segments' profiles (``None`` without a segmentation or with ``describe=False``)."""

    method: str
    dataset: Dataset
    artifacts: PhaseArtifacts
    segmentation_name: str | None
    segmentation: Segmentation | None
    model: Recommender | None  # None when the evaluation did not run ``method``
    profiles: SegmentProfiles | None = None


def refit_on_all(result: EvalResult, method: str = "hybrid", describe: bool = True) -> Served:
    """Refit ``method`` of ``result`` (from :func:`run_evaluation`) on the whole dataset.

    Nothing is re-tuned: the parameters, blend weights and segment count are those validation
    chose. The segmentation is the one ``method`` ran on (the hybrid's, chosen on validation);
    without a run of ``method`` only that segmentation is rebuilt. With ``describe`` the new
    segments are profiled and named, and the model's reasons use those names ("popular with
    Budget guitar shoppers", not "popular with segment 3").

        >>> # served = refit_on_all(run_evaluation(ds)); served.model.recommend(["u1"], 10)
    """
    if result.split is None or result.config is None:
        raise UsageError("refit_on_all needs the in-memory result of run_evaluation")
    cfg = result.config
    run = result.runs.get(method)
    seg_name = (run.summary.get("segmentation") if run is not None else None) or (
        result.protocol.get("hybrid_segmentation")
    )
    ds = result.split.all_dataset()
    _log.info("refitting %s on all %d interactions", method, len(ds.interactions))
    art = _build_phase(ds, cfg, [seg_name] if seg_name else [], "all data")
    seg = art.segmentations.get(seg_name) if seg_name else None
    model = None
    if run is not None:
        # a shallow copy keeps the tuned inner weights and leaves the evaluated model as it was
        model = copy.copy(run.model)
        with stage(f"all data · {method}"):
            model.fit(_context(art, seg, cfg))
    profiles = None
    if describe and seg is not None:
        profiles = describe_segments(ds, seg, art.features)
        if model is not None:
            _name_segments(model, profiles.names_by_source_id(seg.segment_ids))
    return Served(method, ds, art, seg_name if seg is not None else None, seg, model, profiles)


def _name_segments(model: Recommender, names: dict[int, str]) -> None:
    """Reasons of ``model`` name its segments as their profiles do."""
    ctx = getattr(model, "ctx_", None)
    if ctx is None or not names:
        return
    from segrec.recommend._reasons import reason_index

    ctx.segment_names.update(names)
    reason_index(ctx).segment_names.update(names)
