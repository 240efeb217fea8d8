"""``POST /assign``: a user the service has never seen gets a segment and recommendations at
once (cold start); with ``user_id`` the activity is stored and the user remembered."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from segrec.serve._deps import HolderDep, MetricsDep, SettingsDep, StorageDep, require
from segrec.serve._errors import check_activity, check_k
from segrec.serve._schemas import AssignIn, AssignmentOut, AssignOut
from segrec.serve._writes import activity, items_of, write
from segrec.serve.routers.users import rec_items

router = APIRouter(tags=["assign"], dependencies=[Depends(require("write"))])


@router.post("/assign", response_model=AssignOut)
def assign(
    body: AssignIn,
    holder: HolderDep,
    storage: StorageDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> AssignOut:
    check_activity(body, settings.limits)
    check_k(body.k, settings.limits)
    if body.user_id is not None:
        out = write(holder, storage, metrics, body.user_id, body, source="assign")
        with holder.lock:
            items = rec_items(holder.model, holder.model.recommend(body.user_id, k=body.k))
        return AssignOut(assignment=out.assignment, recommendations=items, remembered=True)
    evs, texts, friends = activity(body)
    with holder.lock:
        items_of(holder, "anonymous", body)  # the same checks (and 422s) as a stored write
        a, lists = holder.model.assign_and_recommend(
            texts=texts or None, events=evs or None, friends=friends or None, k=body.k
        )
        items = rec_items(holder.model, lists)
    storage.record_anonymous(a.segment_id, a.strength, a.distance)
    metrics.assignments.labels(str(a.segment_id)).inc()
    return AssignOut(assignment=AssignmentOut.of(a), recommendations=items, remembered=False)
