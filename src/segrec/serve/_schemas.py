"""Request and response bodies of the HTTP API (separate from the model's own classes).

Types and shapes are checked here; the configurable limits (texts per request, text length,
...) are checked in :mod:`segrec.serve._errors` so that their message names the limit.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ERROR_RESPONSES",
    "AssignIn",
    "AssignOut",
    "AssignmentOut",
    "DeleteOut",
    "DriftOut",
    "ErrorOut",
    "EventIn",
    "EventsIn",
    "EventsPage",
    "RecItem",
    "RecommendationsOut",
    "ReloadIn",
    "SegmentSummary",
    "SegmentsOut",
    "StoredEventOut",
    "TextIn",
    "WriteOut",
]

Id = Annotated[str, Field(min_length=1, max_length=200)]
Key = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:\-]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: Unix seconds, 1970 to 2100
Time = Annotated[int, Field(ge=0, le=4_102_444_800)]
#: a finite number of a sane size (a rating, an amount)
Number = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]


class EventIn(_In):
    """An interaction: the item and optionally its time (Unix seconds), type, rating, ..."""

    item_id: Id
    timestamp: Time | None = None
    event: Annotated[str, Field(max_length=50)] | None = None
    rating: Number | None = None
    weight: Annotated[float, Field(allow_inf_nan=False, ge=0, le=1e6)] | None = None
    amount: Number | None = None


class TextIn(_In):
    text: str
    item_id: Id | None = None
    timestamp: Time | None = None


class _Activity(_In):
    events: list[EventIn] = []
    texts: list[str | TextIn] = []
    friends: list[Id] = []


class EventsIn(_Activity):
    """``POST /users/{user_id}/events``: interactions and/or texts; replaying the same
    ``idempotency_key`` returns the first answer and stores nothing."""

    idempotency_key: Key | None = None


class AssignIn(_Activity):
    """``POST /assign``: a new user's texts/events; ``user_id`` to remember them."""

    user_id: Id | None = None
    k: int = 10
    idempotency_key: Key | None = None


class ReloadIn(_In):
    """``POST /admin/reload``: the model folder to serve (default: the current one again)."""

    model_dir: str | None = None


class AssignmentOut(BaseModel):
    user_id: str | None
    segment_id: int
    segment: str
    strength: float | None
    alternative: int
    alternative_name: str | None
    explanation: str
    distance: float | None
    far: bool
    previous: int | None

    @classmethod
    def of(cls, a: Any) -> AssignmentOut:
        d = a.to_dict()
        for f in ("strength", "distance"):
            d[f] = d[f] if d[f] is not None and math.isfinite(d[f]) else None
        return cls(**d)


class RecItem(BaseModel):
    rank: int
    item_id: str
    label: str | None
    score: float | None
    reason: str | None


class RecommendationsOut(BaseModel):
    user_id: str | None
    k: int
    items: list[RecItem]


class WriteOut(BaseModel):
    """The answer to a stored write: what was kept and the user's new assignment."""

    user_id: str
    idempotency_key: str
    stored_events: int
    stored_texts: int
    replayed: bool = False
    assignment: AssignmentOut


class AssignOut(BaseModel):
    assignment: AssignmentOut
    recommendations: list[RecItem]
    remembered: bool


class StoredEventOut(BaseModel):
    id: int
    kind: str
    batch_id: int
    data: dict[str, Any]
    stored_at: float


class EventsPage(BaseModel):
    user_id: str
    events: list[StoredEventOut]
    next_after: int | None


class SegmentSummary(BaseModel):
    segment_id: int
    name: str
    size: int | None
    share: float | None
    keywords: list[str]
    description: str | None


class SegmentsOut(BaseModel):
    segments: list[SegmentSummary]
    model_created_at: str | None


class DriftOut(BaseModel):
    verdict: str
    reasons: list[str]
    report: dict[str, Any]


class DeleteOut(BaseModel):
    user_id: str
    events_deleted: int
    forgotten_in_model: bool


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """Every 4xx answer: ``detail`` says what was wrong and how to fix it; a request that
    failed validation also lists each ``errors`` field."""

    detail: str
    errors: list[FieldErrorOut] | None = None


#: the error answers every route documents (422 replaces FastAPI's default schema, which
#: the service's one-line errors do not follow)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": what}
    for status, what in (
        (401, "missing or invalid API key"),
        (403, "the key's scope may not do this"),
        (404, "unknown user or segment"),
        (409, "idempotency key reused for a different request"),
        (413, "request body too large"),
        (422, "a field is invalid or over its limit (the detail names it)"),
    )
}
