"""Input node features for the GCN: fused user feature blocks, or the graph alone.

Each block is standardised per column on the training users and scaled so every block carries
the same total variance (a 384-column text block must not drown a 12-column behaviour block).
Rows a block marks missing are set to zero, the block mean after standardisation, so a user who
wrote nothing is neither pulled towards nor away from any segment by text; the graph then fills
that user in from neighbours during propagation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.features import UserFeatures
from segrec.features._state import State, unnest

__all__ = ["InputFuser", "InteractionSVD", "inputs_from_state"]


class InputFuser:
    """Learn per-block standardisation on training users; apply it to any users."""

    def __init__(self, blocks: list[str] | None = None) -> None:
        self.blocks = blocks

    def fit(self, features: UserFeatures) -> InputFuser:
        names = self.blocks or sorted(features.blocks)
        unknown = [b for b in names if b not in features.blocks]
        if unknown:
            raise UsageError(
                f"feature blocks {unknown} are not in these features (have "
                f"{sorted(features.blocks)}); pass blocks= from that list"
            )
        self.blocks_ = names
        self.mean_: dict[str, np.ndarray] = {}
        self.scale_: dict[str, np.ndarray] = {}
        for name in names:
            x = np.asarray(features.block(name), dtype=np.float64)
            ok = ~features.missing.get(name, np.zeros(len(x), bool))
            xs = x[ok] if ok.any() else x
            sd = xs.std(axis=0)
            sd[sd < 1e-12] = 1.0
            self.mean_[name] = xs.mean(axis=0)
            self.scale_[name] = sd * np.sqrt(x.shape[1])
        return self

    def transform(self, features: UserFeatures) -> np.ndarray:
        parts = []
        for name in self.blocks_:
            x = np.asarray(features.block(name), dtype=np.float64)
            z = (x - self.mean_[name]) / self.scale_[name]
            miss = features.missing.get(name)
            if miss is not None and miss.any():
                z[miss] = 0.0
            parts.append(np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0))
        return np.hstack(parts).astype(np.float32)

    def missing_all(self, features: UserFeatures) -> np.ndarray:
        """Users for whom every fused block is missing."""
        out = np.ones(features.n_users, dtype=bool)
        for name in self.blocks_:
            out &= features.missing.get(name, np.zeros(features.n_users, bool))
        return out

    def to_state(self) -> State:
        meta = {"blocks": self.blocks, "blocks_": list(self.blocks_)}
        arrays: dict[str, np.ndarray] = {}
        for name in self.blocks_:
            arrays[f"{name}.mean"], arrays[f"{name}.scale"] = self.mean_[name], self.scale_[name]
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> InputFuser:
        self = cls(meta["blocks"])
        self.blocks_ = list(meta["blocks_"])
        self.mean_ = {b: arrays[f"{b}.mean"] for b in self.blocks_}
        self.scale_ = {b: arrays[f"{b}.scale"] for b in self.blocks_}
        return self


def _user_item_rows(ds: Dataset, user_ids: pd.Index, item_ids: pd.Index) -> sp.csr_matrix:
    """Binary rows of ``user_ids`` over columns ``item_ids`` (unknown users/items drop out)."""
    b = ds.interaction_matrix("binary").tocoo()
    r = pd.Index(user_ids, dtype="object").get_indexer(ds.user_ids)[b.row]
    c = pd.Index(item_ids, dtype="object").get_indexer(ds.item_ids)[b.col]
    keep = (r >= 0) & (c >= 0)
    m = sp.csr_matrix(
        (np.ones(int(keep.sum()), np.float32), (r[keep], c[keep])),
        shape=(len(user_ids), len(item_ids)),
    )
    m.data[:] = 1.0
    return m


class InteractionSVD:
    """Graph-only input: truncated SVD of the binary user-item matrix, one row per user.

    Used when no feature blocks are given. Rows are scaled to unit total variance; users with
    no interactions get zero rows and are reported in ``empty``.
    """

    def __init__(self, dim: int = 64, random_state: int = 0) -> None:
        self.dim = dim
        self.random_state = random_state

    def fit_transform(self, ds: Dataset, user_ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.decomposition import TruncatedSVD

        self.item_ids_ = ds.item_ids
        rows = _user_item_rows(ds, user_ids, self.item_ids_)
        k = max(1, min(self.dim, ds.n_items - 1, len(user_ids) - 1))
        if ds.n_items < 2 or rows.nnz == 0:
            raise UsageError(
                f"dataset '{ds.name}' has {ds.n_items} items and {rows.nnz} interactions for "
                "these users: too few for graph-only input; pass features"
            )
        self.svd_ = TruncatedSVD(k, random_state=self.random_state).fit(rows)
        self.components_ = self.svd_.components_
        z = self.svd_.transform(rows)
        self.scale_ = max(float(np.sqrt(z.var(axis=0).sum())), 1e-12)
        return (z / self.scale_).astype(np.float32), np.diff(rows.indptr) == 0

    def transform(self, ds: Dataset, user_ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
        rows = _user_item_rows(ds, user_ids, self.item_ids_)
        z = np.asarray(rows @ self.components_.T) / self.scale_  # TruncatedSVD.transform
        return z.astype(np.float32), np.diff(rows.indptr) == 0

    def to_state(self) -> State:
        meta = {"dim": self.dim, "random_state": self.random_state, "scale": self.scale_}
        arrays = {"item_ids": np.asarray(self.item_ids_, dtype=str), "components": self.components_}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> InteractionSVD:
        self = cls(meta["dim"], meta["random_state"])
        self.scale_ = float(meta["scale"])
        self.item_ids_ = pd.Index(arrays["item_ids"].astype(object), name="item_id")
        self.components_ = arrays["components"]
        return self


def inputs_from_state(
    meta: dict[str, Any], arrays: dict[str, np.ndarray]
) -> tuple[InputFuser | None, InteractionSVD | None]:
    """The GCN's input builders saved under ``fuser.`` / ``svd.`` (either may be absent)."""
    fuser = (
        InputFuser.from_state(meta["fuser"], unnest("fuser", arrays)) if "fuser" in meta else None
    )
    svd = InteractionSVD.from_state(meta["svd"], unnest("svd", arrays)) if "svd" in meta else None
    return fuser, svd
