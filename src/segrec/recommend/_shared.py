"""A cache tied to a training :class:`Dataset` object, shared by every FitContext built on it.

The evaluation builds one FitContext per segmentation and per tried configuration over the same
training dataset; fitted personal models (EASE on 8k items takes tens of seconds) and text
vectors are reused through this cache instead of being recomputed. Entries live as long as the
dataset object does.
"""

from __future__ import annotations

import weakref
from typing import Any

from segrec.data import Dataset

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
