"""Errors a caller can cause, as specific 4xx answers (never a 5xx): an unknown user is
``404 unknown user_id 'u123'``, a limit is ``422`` naming the field and the limit."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from segrec.diagnostics import UsageError
from segrec.serve._settings import ServeLimits
from segrec.serve._state import ReloadError

__all__ = ["ApiError", "check_activity", "check_k", "install_handlers"]

_log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def check_k(k: int, limits: ServeLimits) -> None:
    if k < 1 or k > limits.max_k:
        raise ApiError(422, f"k: {k} is outside the limit; k must be between 1 and {limits.max_k}")


def check_activity(body: Any, limits: ServeLimits, need_some: bool = True) -> None:
    """The per-request limits on ``events``, ``texts`` and ``friends``."""
    if len(body.events) > limits.max_events:
        raise ApiError(
            422,
            f"events: {len(body.events)} events in one request; the limit is "
            f"{limits.max_events} (max_events)",
        )
    if len(body.texts) > limits.max_texts:
        raise ApiError(
            422,
            f"texts: {len(body.texts)} texts in one request; the limit is "
            f"{limits.max_texts} (max_texts)",
        )
    if len(body.friends) > limits.max_friends:
        raise ApiError(
            422,
            f"friends: {len(body.friends)} in one request; the limit is "
            f"{limits.max_friends} (max_friends)",
        )
    for i, t in enumerate(body.texts):
        text = t if isinstance(t, str) else t.text
        if len(text) > limits.max_text_chars:
            raise ApiError(
                422,
                f"texts[{i}]: {len(text)} characters; the limit is "
                f"{limits.max_text_chars} (max_text_chars)",
            )
        if not text.strip():
            raise ApiError(422, f"texts[{i}]: empty; send a non-empty text")
    if need_some and not (body.events or body.texts or body.friends):
        raise ApiError(422, "events, texts, friends: all empty; send at least one")


def _usage_status(message: str) -> int:
    return 404 if message.startswith("unknown user_id") else 422


def _field(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_req: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(UsageError)
    async def _usage(_req: Request, exc: UsageError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_usage_status(str(exc)))

    @app.exception_handler(ReloadError)
    async def _reload(_req: Request, exc: ReloadError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)
