"""``/users/{user_id}``: segment, recommendations, events (write and list) and DELETE."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from segrec.serve._deps import HolderDep, MetricsDep, SettingsDep, StorageDep, require
from segrec.serve._errors import ApiError, check_activity, check_k
from segrec.serve._schemas import (
    AssignmentOut,
    DeleteOut,
    EventsIn,
    EventsPage,
    RecItem,
    RecommendationsOut,
    StoredEventOut,
    WriteOut,
)
from segrec.serve._writes import write

router = APIRouter(prefix="/users", tags=["users"])
UserId = Annotated[str, Path(min_length=1, max_length=200)]
READ, WRITE = Depends(require("read")), Depends(require("write"))


_LABELS: list[tuple[Any, dict[str, Any]]] = []  # (the model's labels Series, as a dict)


def _label_map(labels: Any) -> dict[str, Any]:
    """The item labels as a dict, made once per loaded model (a Series' ``get`` costs ~10 us)."""
    if not _LABELS or _LABELS[0][0] is not labels:
        _LABELS[:] = [(labels, {str(k): v for k, v in labels.items()})]
    return _LABELS[0][1]


def rec_items(model: Any, lists: Any) -> list[RecItem]:
    """The one list of the model's RecLists as response rows, with the items' readable labels
    (read from the list's arrays: a frame per request costs more than the rest of it)."""
    labels = _label_map(model.item_labels)
    reasons = lists.reasons[0] if lists.reasons is not None else None
    out = []
    for r, (item, score) in enumerate(zip(lists.items[0], lists.scores[0], strict=True)):
        why = None if reasons is None else reasons[r]
        out.append(
            RecItem(
                rank=r + 1,
                item_id=str(item),
                label=labels.get(str(item)),
                score=float(score) if score == score else None,
                reason=None if why is None else str(why),
            )
        )
    return out


@router.get("/{user_id}/segment", response_model=AssignmentOut, dependencies=[READ])
def get_segment(user_id: UserId, holder: HolderDep) -> AssignmentOut:
    with holder.lock:
        holder.sync(user_id)
        return AssignmentOut.of(holder.model.segment_of(user_id))


@router.get("/{user_id}/recommendations", response_model=RecommendationsOut, dependencies=[READ])
def get_recommendations(
    user_id: UserId, holder: HolderDep, settings: SettingsDep, k: int = 10
) -> RecommendationsOut:
    check_k(k, settings.limits)
    with holder.lock:
        holder.sync(user_id)
        lists = holder.model.recommend(user_id, k=k)
        items = rec_items(holder.model, lists)
    return RecommendationsOut(user_id=user_id, k=k, items=items)


@router.post("/{user_id}/events", response_model=WriteOut, status_code=201, dependencies=[WRITE])
def post_events(
    user_id: UserId,
    body: EventsIn,
    holder: HolderDep,
    storage: StorageDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> WriteOut:
    check_activity(body, settings.limits)
    return write(holder, storage, metrics, user_id, body)


@router.get("/{user_id}/events", response_model=EventsPage, dependencies=[READ])
def list_events(
    user_id: UserId,
    holder: HolderDep,
    storage: StorageDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1)] = 100,
    after: Annotated[int, Query(ge=0, description="the id of the last event seen")] = 0,
) -> EventsPage:
    if limit > settings.limits.max_page:
        raise ApiError(422, f"limit: {limit} is above the limit of {settings.limits.max_page}")
    rows = storage.events_of(user_id, after=after, limit=limit + 1)
    if not rows and after == 0 and user_id not in holder.model.segments.index:
        with holder.lock:
            holder.sync(user_id)
            holder.model.segment_of(user_id)  # 404 unknown user_id when it knows none
    page = rows[:limit]
    return EventsPage(
        user_id=user_id,
        events=[
            StoredEventOut(
                id=e.id, kind=e.kind, batch_id=e.batch_id, data=e.payload, stored_at=e.created_at
            )
            for e in page
        ],
        next_after=page[-1].id if len(rows) > limit else None,
    )


@router.delete("/{user_id}", response_model=DeleteOut, dependencies=[WRITE])
def delete_user(user_id: UserId, holder: HolderDep, storage: StorageDep) -> DeleteOut:
    n = storage.delete_user(user_id)
    with holder.lock:
        forgotten = holder.forget(user_id)
    if not n and not forgotten:
        raise ApiError(404, f"unknown user_id '{user_id}'")
    return DeleteOut(user_id=user_id, events_deleted=n, forgotten_in_model=forgotten)
