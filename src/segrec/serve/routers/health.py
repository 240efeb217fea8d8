"""``GET /healthz`` (the process answers), ``GET /readyz`` (model loaded and database
reachable) and ``GET /metrics`` (Prometheus text). No API key needed."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from segrec.serve._deps import MetricsDep, StorageDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, storage: StorageDep) -> JSONResponse:
    holder = getattr(request.app.state, "holder", None)
    db_ok = storage.ping()
    ready = holder is not None and db_ok
    body = {
        "status": "ready" if ready else "not ready",
        "model": holder is not None,
        "database": db_ok,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(request: Request, storage: StorageDep, m: MetricsDep) -> Response:
    with contextlib.suppress(Exception):  # the database being down must not break the scrape
        m.events_stored.set(storage.count_events())
    holder = getattr(request.app.state, "holder", None)
    if holder is not None:
        with holder.lock:
            verdict = str(holder.model.drift().verdict)
        for v in ("stable", "watch", "refit"):
            m.drift.labels(v).set(1.0 if v == verdict else 0.0)
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
