"""A cache tied to a :class:`Dataset` object: what is derived from a dataset once (fitted
models, text vectors, item labels) is kept while the dataset object lives and shared by every
part of a run that holds the same object.
"""

from __future__ import annotations

import weakref
from typing import Any

from segrec.data._dataset import Dataset

__all__ = ["shared_cache"]

_CACHES: dict[int, tuple[weakref.ref[Dataset], dict[str, Any]]] = {}


def shared_cache(ds: Dataset) -> dict[str, Any]:
    """The cache dict of ``ds`` (created on first use, dropped when ``ds`` is collected)."""
    key = id(ds)
    hit = _CACHES.get(key)
    if hit is not None and hit[0]() is ds:
        return hit[1]
    cache: dict[str, Any] = {}
    # bind the dict as a default: at interpreter exit the module global may already be None
    _CACHES[key] = (weakref.ref(ds, lambda _r, k=key, c=_CACHES: c.pop(k, None)), cache)  # type: ignore[misc]
    return cache
