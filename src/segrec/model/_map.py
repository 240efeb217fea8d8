"""The segment map a fitted model keeps for the dashboard: anonymous 2-D points of a sample
of fitted users, coloured by segment.

The projection is the two linear discriminant axes of the fused user features (the two
directions that best separate the segments, so segments that differ are drawn apart), or a
PCA when there are fewer than three segments. Points carry no user id: the map is a picture of
the segmentation, not a lookup of users.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["segment_map"]

_log = logging.getLogger(__name__)


def segment_map(
    features: Any, segments: pd.DataFrame, max_points: int = 2000, random_state: int = 0
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """(points: x, y, segment_id; what the axes are) for at most ``max_points`` users of
    ``segments`` (published ids, -1 for users in no segment), or None without features."""
    if features is None or not features.blocks:
        return None
    from segrec.features import FeatureFusion

    x = np.asarray(FeatureFusion().fit_transform(features), dtype=float)
    sid = (
        segments.set_index(segments.user_id.astype(str))
        .segment_id.reindex(pd.Index(features.user_ids).astype(str))
        .to_numpy()
    )
    ok = pd.notna(sid) & (np.nan_to_num(sid.astype(float), nan=-1) >= 0)
    x, labels = x[ok], sid[ok].astype(np.int64)
    if len(x) < 3:
        return None
    rng = np.random.default_rng(random_state)
    if len(x) > max_points:
        idx = np.sort(rng.choice(len(x), max_points, replace=False))
        x, labels = x[idx], labels[idx]
    xy, about = _project(x, labels, random_state)
    points = pd.DataFrame(
        {"x": xy[:, 0].astype(np.float32), "y": xy[:, 1].astype(np.float32), "segment_id": labels}
    )
    return points, {**about, "points": len(points)}


def _project(x: np.ndarray, labels: np.ndarray, random_state: int) -> tuple[np.ndarray, dict]:
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    if len(np.unique(labels)) >= 3:
        try:
            lda = LinearDiscriminantAnalysis(n_components=2, solver="svd")
            xy = lda.fit_transform(x, labels)
            share = [float(v) for v in lda.explained_variance_ratio_[:2]]
            return xy, {
                "projection": "linear discriminant axes of the fused user features",
                "axes": [
                    f"discriminant {i + 1} ({v:.0%} of between-segment spread)"
                    for i, v in enumerate(share)
                ],
            }
        except (ValueError, np.linalg.LinAlgError) as exc:  # collinear features: fall back
            _log.info("segment map: discriminant axes failed (%s); using PCA", exc)
    pca = PCA(2, random_state=random_state)
    xy = pca.fit_transform(x)
    return xy, {
        "projection": "PCA of the fused user features",
        "axes": [
            f"component {i + 1} ({v:.0%} of variance)"
            for i, v in enumerate(pca.explained_variance_ratio_[:2])
        ],
    }
