"""Fitted segmenters as plain state: JSON-able meta and named numpy arrays, never pickle.

``segmenter_to_state(seg)`` returns ``(meta, arrays)``: ``meta`` holds the registry name, the
config (``model_dump(mode="json")``), the segment id map and what else the segmenter needs;
``arrays`` are plain numeric arrays that ``np.savez`` writes and
``np.load(..., allow_pickle=False)`` reads back. ``segmenter_from_state`` picks the class from
the registry by name only, so loading a state someone sent you executes no code of theirs.
Any object with ``to_state()`` / ``from_state(meta, arrays)`` plugs in (the GNN adapter).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segrec.diagnostics import UsageError

__all__ = ["STATE_VERSION", "segmenter_from_state", "segmenter_to_state"]

#: bumped when the layout of the state changes incompatibly
STATE_VERSION = 1


def segmenter_to_state(seg: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a fitted segmenter; a clear error for one that cannot be saved.

    >>> import numpy as np
    >>> from segrec.segment import get_segmenter
    >>> seg = get_segmenter("kmeans", k=2)
    >>> _ = seg.fit(np.r_[np.zeros((5, 2)), np.ones((5, 2))])
    >>> meta, arrays = segmenter_to_state(seg)
    >>> meta["registry"], sorted(arrays)
    ('kmeans', ['centers'])
    """
    name = getattr(seg, "name", type(seg).__name__)
    if not callable(getattr(seg, "to_state", None)):
        raise UsageError(
            f"segmenter '{name}' ({type(seg).__name__}) cannot be saved: it has no to_state(); "
            "use a segmenter that supports saving (kmeans, minibatch, agglomerative, hdbscan, "
            "dbscan, tree, forest) or add to_state/from_state to it"
        )
    meta, arrays = seg.to_state()
    meta = {**meta, "registry": meta.get("registry", name), "state_version": STATE_VERSION}
    out: dict[str, np.ndarray] = {}
    for key, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype == object:
            raise UsageError(
                f"segmenter '{name}': state array '{key}' holds Python objects, which cannot be "
                "saved without pickle; store numbers or strings of fixed width"
            )
        out[str(key)] = arr
    return meta, out


def segmenter_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """The fitted segmenter that :func:`segmenter_to_state` described."""
    from segrec.segment._base import _REGISTRY, available_segmenters

    version = int(meta.get("state_version", STATE_VERSION))
    if version > STATE_VERSION:
        raise UsageError(
            f"segmenter state version {version} is newer than this segrec reads "
            f"({STATE_VERSION}); upgrade segrec to load it"
        )
    name = meta.get("registry")
    if name not in _REGISTRY:
        raise UsageError(
            f"segmenter state names registry entry {name!r}; expected one of "
            f"{available_segmenters()}"
        )
    cls: Any = _REGISTRY[str(name)]
    if not callable(getattr(cls, "from_state", None)):
        raise UsageError(f"segmenter '{name}' ({cls.__name__}) cannot be loaded: no from_state()")
    return cls.from_state(dict(meta), {k: np.asarray(v) for k, v in arrays.items()})
