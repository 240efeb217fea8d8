"""``GET /segments``, ``GET /segments/drift`` and ``GET /segments/{segment_id}``: the model's
published profiles and its drift report over the updates this service folded in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from segrec._json import json_safe
from segrec.serve._deps import HolderDep, MetricsDep, StorageDep, require
from segrec.serve._errors import ApiError
from segrec.serve._schemas import DriftOut, SegmentsOut, SegmentSummary

router = APIRouter(prefix="/segments", tags=["segments"], dependencies=[Depends(require("read"))])


def _keywords(p: dict[str, Any]) -> list[str]:
    return [k if isinstance(k, str) else str(k.get("term", k)) for k in p.get("keywords") or []]


@router.get("", response_model=SegmentsOut)
def list_segments(holder: HolderDep) -> SegmentsOut:
    model = holder.model
    return SegmentsOut(
        segments=[
            SegmentSummary(
                segment_id=int(p["segment_id"]),
                name=str(p.get("name")),
                size=p.get("size"),
                share=p.get("share"),
                keywords=_keywords(p)[:10],
                description=p.get("description"),
            )
            for p in model.profiles.profiles
        ],
        model_created_at=model.info.get("created_at"),
    )


@router.get("/drift", response_model=DriftOut)
def drift(
    holder: HolderDep,
    storage: StorageDep,
    m: MetricsDep,
    since: Annotated[
        float | None, Query(description="Unix time; default every stored assignment")
    ] = None,
) -> DriftOut:
    """The model's drift report over the assignments this service stored since ``since``
    (each remembered user's latest, every anonymous one): it survives restarts and reloads."""
    window = storage.recent_assignments(since or 0.0)
    with holder.lock:
        report = holder.model.drift(window=window)
    for v in ("stable", "watch", "refit"):
        m.drift.labels(v).set(1.0 if v == report.verdict else 0.0)
    return DriftOut(
        verdict=str(report.verdict),
        reasons=[str(r) for r in report.reasons],
        report=json_safe(report.to_dict()),
    )


@router.get("/{segment_id}")
def get_segment(segment_id: int, holder: HolderDep) -> dict[str, Any]:
    try:
        profile = holder.model.profiles[segment_id]
    except KeyError:
        known = sorted(holder.model.segment_names)
        raise ApiError(404, f"unknown segment_id {segment_id}; known: {known}") from None
    return json_safe(profile)  # type: ignore[no-any-return]
