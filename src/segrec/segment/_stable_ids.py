"""Stable segment ids across refits: match new segments to old ones by centroid similarity."""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

from segrec.diagnostics import FallbackWarning
from segrec.segment._segmentation import Segmentation

__all__ = ["align_to_previous", "match_segment_ids"]

_log = logging.getLogger(__name__)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return an @ bn.T


def match_segment_ids(
    new_centers: np.ndarray,
    old_centers: np.ndarray,
    old_ids: np.ndarray | None = None,
    min_similarity: float = 0.5,
) -> dict[int, int]:
    """Map each new segment (row of ``new_centers``) to an id.

    New and old centres are paired by the Hungarian assignment on cosine similarity; a pair
    keeps the old id when its similarity is at least ``min_similarity``. Unmatched new segments
    get fresh ids above every old id, so an id never changes meaning silently.
    """
    old_ids = np.arange(len(old_centers)) if old_ids is None else np.asarray(old_ids)
    sim = _cosine(np.asarray(new_centers, float), np.asarray(old_centers, float))
    rows, cols = linear_sum_assignment(-sim)
    mapping: dict[int, int] = {}
    for r, c in zip(rows, cols, strict=True):
        if sim[r, c] >= min_similarity:
            mapping[int(r)] = int(old_ids[c])
    nxt = int(old_ids.max()) + 1 if len(old_ids) else 0
    for r in range(len(new_centers)):
        if r not in mapping:
            mapping[r] = nxt
            nxt += 1
    return mapping


def align_to_previous(
    seg: Segmentation, previous: Segmentation, min_similarity: float = 0.5
) -> tuple[Segmentation, dict[int, int]]:
    """Relabel ``seg`` so segments matching ``previous`` keep their ids and names."""
    if (
        seg.centers is None
        or previous.centers is None
        or seg.centers.shape[1] != previous.centers.shape[1]
    ):
        warnings.warn(
            "cannot match segment ids to the previous model (no comparable centres); "
            "ids are the new model's own",
            FallbackWarning,
            stacklevel=3,
        )
        return seg, {int(s): int(s) for s in np.unique(seg.labels)}
    old_ids = np.arange(len(previous.centers))
    mapping = match_segment_ids(seg.centers, previous.centers, old_ids, min_similarity)
    labels = np.array([mapping[int(v)] for v in seg.labels], dtype=np.int64)
    k_new = max(mapping.values()) + 1
    centers = np.zeros((k_new, seg.centers.shape[1]), dtype=seg.centers.dtype)
    for raw, new in mapping.items():
        centers[new] = seg.centers[raw]
    soft = None
    if seg.soft is not None:
        soft = np.zeros((len(labels), k_new))
        for raw, new in mapping.items():
            soft[:, new] = seg.soft[:, raw]
    names = {new: previous.names[new] for new in mapping.values() if new in previous.names}
    kept = sum(1 for raw, new in mapping.items() if new < len(previous.centers))
    _log.info("stable ids: %d of %d segments kept their previous id", kept, len(mapping))
    meta = {**seg.meta, "id_mapping": {str(k): v for k, v in mapping.items()}}
    out = dataclasses.replace(
        seg, labels=labels, centers=centers, soft=soft, names=names, meta=meta
    )
    return out, mapping
