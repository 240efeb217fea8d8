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

__all__ = ["FittedFusion", "as_matrix", "make_fusion"]


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


class FittedFusion:
    """The fitted state of a :class:`FeatureFusion`, as plain arrays, with a row-wise transform.

    ``FeatureFusion.transform`` decides which blocks and ``<block>:missing`` columns exist from
    the rows it is given (a block missing for every row is left out, an indicator appears only
    when some row lacks the block), so one new user's matrix can be narrower than the fit's.
    This transform fixes that layout at fit time and repeats the fusion's arithmetic exactly,
    so a training user's row is bit-for-bit the row the segmenter was fit on.
    """

    def __init__(self, blocks: list[dict[str, Any]], arrays: dict[str, np.ndarray]) -> None:
        self.blocks = blocks  # name, weight, scaling, indicator, n_columns
        self.arrays = arrays  # mu/sd/cw per block (by position), pca mean/components

    @classmethod
    def from_fusion(cls, fuser: Any, features: UserFeatures) -> FittedFusion:
        """Read a fitted ``FeatureFusion``'s ``stats_``, ``columns_`` and ``pca_``."""
        cfg = fuser.config
        blocks: list[dict[str, Any]] = []
        arrays: dict[str, np.ndarray] = {}
        from segrec.features._fusion import DEFAULT_BLOCK_WEIGHTS

        for i, (name, (mu, sd)) in enumerate(fuser.stats_.items()):
            scaling = cfg.scaling
            if scaling == "auto":
                scaling = "standard" if features.columns.get(name) else "block"
            blocks.append(
                {
                    "name": name,
                    "weight": float(cfg.weights.get(name, DEFAULT_BLOCK_WEIGHTS.get(name, 1.0))),
                    "scaling": scaling,
                    "indicator": f"{name}:missing" in fuser.columns_,
                    "n_columns": len(mu),
                }
            )
            arrays[f"mu{i}"], arrays[f"sd{i}"] = np.asarray(mu), np.asarray(sd)
            if scaling == "standard":
                arrays[f"cw{i}"] = np.asarray(fuser._column_weights(features.columns.get(name)))
        if fuser.pca_ is not None:
            arrays["pca_mean"] = np.asarray(fuser.pca_.mean_)
            arrays["pca_components"] = np.asarray(fuser.pca_.components_)
        return cls(blocks, arrays)

    @property
    def n_output(self) -> int:
        """Number of fused columns."""
        if "pca_components" in self.arrays:
            return len(self.arrays["pca_components"])
        return sum(int(b["n_columns"]) + int(b["indicator"]) for b in self.blocks)

    def transform(self, features: UserFeatures) -> np.ndarray:
        """The fused float32 matrix of any users (same columns as at fit)."""
        parts = []
        for i, b in enumerate(self.blocks):
            name = b["name"]
            if name not in features.blocks:
                raise UsageError(
                    f"features lack block '{name}' that the segmenter was fit on (have "
                    f"{sorted(features.blocks)}); build them with the fitted featurizers"
                )
            x = np.asarray(features.blocks[name], dtype=np.float64)
            if x.ndim != 2 or x.shape[1] != b["n_columns"]:
                raise UsageError(
                    f"block '{name}' has shape {x.shape}; the segmenter was fit on "
                    f"{b['n_columns']} columns; build the features with the fitted featurizers"
                )
            miss = np.asarray(features.missing.get(name, np.zeros(len(x), bool)), dtype=bool)
            parts.append(b["weight"] * self._scale(x, miss, i, b["scaling"]))
            if b["indicator"]:
                parts.append(b["weight"] * miss[:, None].astype(float))
        out = np.hstack(parts) if parts else np.zeros((features.n_users, 0))
        if "pca_components" in self.arrays:
            out = (out - self.arrays["pca_mean"]) @ self.arrays["pca_components"].T
        return out.astype(np.float32)

    def _scale(self, x: np.ndarray, miss: np.ndarray, i: int, scaling: str) -> np.ndarray:
        mu, sd = self.arrays[f"mu{i}"], self.arrays[f"sd{i}"]
        if scaling == "l2":
            x = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
        if scaling == "standard":
            cw = self.arrays[f"cw{i}"]
            x = (x - mu) / sd * (cw / np.sqrt(float((cw**2).sum())))
            fill = np.zeros(x.shape[1])
        elif scaling == "block":
            x = (x - mu) / np.sqrt(max(float((sd**2).sum()), 1e-12))
            fill = np.zeros(x.shape[1])
        else:
            fill = mu
        x[miss] = fill
        return x

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"blocks": [dict(b) for b in self.blocks]}, dict(self.arrays)

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> FittedFusion:
        return cls([dict(b) for b in meta["blocks"]], {k: np.asarray(v) for k, v in arrays.items()})
