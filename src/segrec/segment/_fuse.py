"""Feature matrices for clustering.

:class:`UserFeatures` are fused with :class:`segrec.features.FeatureFusion` (per-block
standardisation, equal total variance per block, block weights (default
:data:`segrec.features._fusion.DEFAULT_BLOCK_WEIGHTS`), mean imputation); segmenters only choose
which blocks and their weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segrec.diagnostics import UsageError
from segrec.features import UserFeatures

__all__ = ["as_matrix", "make_fusion"]


def make_fusion(
    features: UserFeatures,
    blocks: list[str] | None,
    weights: Mapping[str, float],
    indicators: bool = False,
) -> Any:
    """A :class:`FeatureFusion` over ``blocks`` (all when None) with ``weights``.

    Missing indicators are off by default: an unscaled 0/1 column outweighs a standardised
    block's columns, and users without text would become a segment of their own.
    """
    from segrec.features._fusion import FeatureFusion

    names = blocks or sorted(features.blocks)
    unknown = [b for b in names if b not in features.blocks]
    if unknown:
        raise UsageError(
            f"feature blocks {unknown} are not in these features (have "
            f"{sorted(features.blocks)}); pass blocks= from that list"
        )
    # unselected blocks weigh 0; selected ones without a weight get FeatureFusion's default
    w = {b: 0.0 for b in features.blocks if b not in names}
    w.update({b: float(v) for b, v in weights.items() if b in names})
    return FeatureFusion(weights=w, indicators=indicators)


def as_matrix(x: UserFeatures | np.ndarray) -> np.ndarray:
    """A plain float32 matrix from an ndarray (no fusion needed)."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise UsageError(f"features must be a 2-D matrix (users x features); got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise UsageError(
            "features contain NaN or inf; impute or drop those users before segmenting"
        )
    return arr
