"""ASGI middleware: request ids, the JSON access log, per-route metrics and the body limit.

The access log holds the route *template* (``/users/{user_id}/events``), never the raw path,
query or body, so no user id, text or other PII reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessMiddleware", "BodyLimitMiddleware", "Metrics"]

access_log = logging.getLogger("segrec.serve.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "segrec_requests_total", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "segrec_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.assignments = Counter(
            "segrec_assignments_total", "Assignments handed out", ["segment"], registry=r
        )
        self.events_stored = Gauge(
            "segrec_events_stored", "Events and texts in the database", registry=r
        )
        self.events_acked = Counter(
            "segrec_events_acknowledged_total",
            "Events and texts stored by this process",
            registry=r,
        )
        self.drift = Gauge(
            "segrec_drift_verdict", "1 for the current drift verdict", ["verdict"], registry=r
        )


class BodyLimitMiddleware:
    """413 for a request body over ``max_bytes`` (by Content-Length or as it streams in)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _reject(send, self.max_bytes)
            return
        body, more = b"", True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
            if len(body) > self.max_bytes:
                await _reject(send, self.max_bytes)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reject(send: Send, limit: int) -> None:
    data = json.dumps(
        {"detail": f"body: larger than the limit of {limit} bytes (max_body_bytes)"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class AccessMiddleware:
    """A request id per request (the caller's ``X-Request-ID`` when it is a plain token),
    returned in the response; one JSON log line and the metrics per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log: bool = True) -> None:
        self.app, self.metrics, self.log = app, metrics, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        start = time.perf_counter()

        async def send_with_id(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
                msg["headers"] = [*msg.get("headers", []), (b"x-request-id", rid.encode())]
            await send(msg)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._done(scope, rid, status, time.perf_counter() - start)

    def _done(self, scope: Scope, rid: str, status: int, took: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = str(scope.get("method", ""))
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(took)
        if self.log:
            state: dict[str, Any] = scope.get("state") or {}
            access_log.info(
                json.dumps(
                    {
                        "request_id": rid,
                        "method": method,
                        "route": route,
                        "status": status,
                        "ms": round(took * 1000, 2),
                        "key_id": state.get("key_id"),
                    }
                )
            )
