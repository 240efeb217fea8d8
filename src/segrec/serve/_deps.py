"""FastAPI dependencies: the settings, storage, served model and metrics held by the app,
and the API-key check with its scope.

They are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off that
cost more than these lookups themselves (the key check reads the database only when its
:class:`~segrec.serve._keys.KeyCache` has no fresh answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from segrec.serve._errors import ApiError
from segrec.serve._http import Metrics
from segrec.serve._keys import KEY_UNCHECKED, ApiKey, verify_key
from segrec.serve._settings import ServeSettings
from segrec.serve._state import ModelHolder
from segrec.serve._storage import Storage

__all__ = ["HolderDep", "MetricsDep", "SettingsDep", "StorageDep", "require"]


async def get_settings(request: Request) -> ServeSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_storage(request: Request) -> Storage:
    return request.app.state.storage  # type: ignore[no-any-return]


async def get_holder(request: Request) -> ModelHolder:
    holder = getattr(request.app.state, "holder", None)
    if holder is None:
        raise ApiError(503, "model: not loaded yet")
    return holder  # type: ignore[no-any-return]


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


SettingsDep = Annotated[ServeSettings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def _presented(request: Request, allow_query: bool) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if allow_query:
        return request.query_params.get("key")
    return None


def require(scope: str, allow_query: bool = False) -> Callable[..., Any]:
    """A dependency that admits a request whose API key has ``scope`` (or a higher one):
    401 without a valid key, 403 with a key of a lower scope."""

    async def check(request: Request) -> ApiKey:
        presented = _presented(request, allow_query)
        if not presented:
            raise ApiError(401, "api key: missing; send it as X-API-Key or Authorization: Bearer")
        state = request.app.state
        key = state.keys.get(presented)
        if key is KEY_UNCHECKED:
            key = state.keys.put(
                presented, await run_in_threadpool(verify_key, state.storage.reader, presented)
            )
        if key is None:
            raise ApiError(401, "api key: not valid (unknown, revoked or mistyped)")
        request.scope.setdefault("state", {})["key_id"] = key.key_id
        if not key.allows(scope):
            raise ApiError(403, f"api key: scope '{key.scope}' may not do this; needs '{scope}'")
        return key

    return check
