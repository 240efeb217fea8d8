"""A write: check it with the model's own validators, store it durably under its idempotency
key, then fold it into the user's state with ``model.update`` and record the answer.

The order matters: the batch is committed before the model sees it and before the response, so
an acknowledged event survives a crash; the answer is stored with the batch, so replaying the
key returns the first answer and stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from segrec.data._pii import scrub_pii
from segrec.serve._errors import ApiError
from segrec.serve._http import Metrics
from segrec.serve._schemas import AssignmentOut, WriteOut
from segrec.serve._state import ModelHolder
from segrec.serve._storage import Storage

__all__ = ["activity", "items_of", "write"]


def activity(body: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(events, texts, friends) of a request body as the model's plain dicts."""
    evs = [e.model_dump(exclude_none=True) for e in body.events]
    texts = [
        {"text": t} if isinstance(t, str) else t.model_dump(exclude_none=True) for t in body.texts
    ]
    return evs, texts, list(body.friends)


def items_of(holder: ModelHolder, user_id: str, body: Any) -> list[tuple[str, dict[str, Any]]]:
    """The rows to store, checked as ``model.update`` will check them (unknown items are 422
    here, before anything is stored; fields and types were checked by the request's schema
    and :func:`~segrec.serve._errors.check_activity`); a missing time becomes now."""
    evs, texts, friends = activity(body)
    now = int(time.time())
    unknown = set(holder.model.unknown_items([e["item_id"] for e in evs]))
    for i, e in enumerate(evs):
        if e["item_id"] in unknown:
            raise ApiError(
                422,
                f"events[{i}].item_id: unknown item_id '{e['item_id']}'; the "
                "model knows the items it was fit on",
            )
    if texts:
        clean, _ = scrub_pii([t["text"] for t in texts])
        texts = [{**t, "text": c} for t, c in zip(texts, clean, strict=True)]
    return (
        [("event", {"timestamp": now, **e}) for e in evs]
        + [("text", {"timestamp": now, **t}) for t in texts]
        + [("friend", {"user_id": f}) for f in friends]
    )


def _digest(user_id: str, body: Any) -> str:
    data = {"user_id": user_id, **body.model_dump(include={"events", "texts", "friends"})}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def write(
    holder: ModelHolder,
    storage: Storage,
    metrics: Metrics,
    user_id: str,
    body: Any,
    source: str = "events",
) -> WriteOut:
    """Store ``body`` for ``user_id`` (or return the answer stored under its key)."""
    with holder.lock:  # checks against the model that will fold the rows in
        rows = items_of(holder, user_id, body)
    key = body.idempotency_key or uuid.uuid4().hex
    digest = _digest(user_id, body)
    batch = storage.add_batch(key, user_id, digest, rows)
    if not batch.created:
        if batch.user_id != user_id or batch.body_sha256 != digest:
            raise ApiError(
                409,
                f"idempotency_key '{key}': already used for a different "
                "request; use a new key for new events",
            )
        if batch.response is not None:
            return WriteOut.model_validate({**json.loads(batch.response), "replayed": True})
    with holder.lock:
        a = holder.sync(user_id)
        if a is None:  # another request folded these rows in already
            a = holder.model.segment_of(user_id)
    n_ev = sum(kind == "event" for kind, _ in rows)
    out = WriteOut(
        user_id=user_id,
        idempotency_key=key,
        stored_events=n_ev,
        stored_texts=sum(kind == "text" for kind, _ in rows),
        replayed=not batch.created,
        assignment=AssignmentOut.of(a),
    )
    if batch.created:
        storage.answer(
            batch.id,
            out.model_dump_json(),
            user_id,
            a.segment_id,
            a.previous,
            a.strength,
            source,
            a.distance,
        )
        metrics.events_acked.inc(len(rows))
        metrics.assignments.labels(str(a.segment_id)).inc()
    return out
