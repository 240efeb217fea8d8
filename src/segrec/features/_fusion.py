"""Fusion: ``Dataset -> UserFeatures`` (text, behaviour, graph blocks) and one fused matrix."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.features._featurizer import UserFeaturizer
from segrec.features._state import State
from segrec.features._user_features import UserFeatures

__all__ = ["FeatureFusion", "FusionConfig", "build_user_features"]

log = logging.getLogger(__name__)


#: Block weights used when ``FusionConfig.weights`` does not name the block (others: 1.0).
#: The ``graph`` block is the GCN's propagation of all the other blocks over the user graph, so
#: it gets their combined weight (2: half of the fused variance). Synthetic shop, 2,000 users,
#: tfidf-svd text, k-means auto-k: ARI 0.798 / 0.802 at 1, 0.847 / 0.863 at 2 on seeds 0 / 1,
#: and on held-out seeds 2 / 3, 0.807 / 0.780 at 1, 0.840 / 0.830 at 2 (auto-k 7 every time).
#: With the GCN on deterministic kernels (session 4) weight 2 gives 0.847 / 0.858 / 0.840 / 0.829.
DEFAULT_BLOCK_WEIGHTS: dict[str, float] = {"graph": 2.0}


class FusionConfig(BaseModel):
    """Per-block scaling and weights, missing-row handling and optional PCA."""

    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="block -> weight (default: DEFAULT_BLOCK_WEIGHTS, else 1.0)",
    )
    scaling: Literal["auto", "standard", "block", "l2", "none"] = "auto"
    missing: Literal["mean", "drop-block"] = "mean"
    indicators: bool = True
    activity_weight: float = Field(
        0.5,
        ge=0.0,
        description="weight of behaviour activity/RFM columns relative to taste columns "
        "(category shares, price level) inside a named block; no effect on a block with "
        "only one kind (e.g. no prices or categories)",
    )
    pca: int | None = Field(None, ge=1)
    random_state: int = 0


class FeatureFusion:
    """Scale each block, weight it, impute missing rows explicitly, concatenate, optional PCA.

    Each block is standardised and divided by sqrt(its width), so a block's total variance is
    1 and ``weights`` really decide its share. ``scaling="block"`` centres a block and divides
    it by one number (total variance 1 as well) instead, keeping the relative variance of its
    columns: for embeddings, where per-column standardisation inflates noise directions.
    The default ``"auto"`` uses ``block`` for blocks without column names (embeddings) and
    ``standard`` for named feature columns (measured on the synthetic shop, text-only
    k-means ARI 0.04 with ``standard`` vs 0.20 with ``block``). Inside a named block that has
    both taste columns (``cat:*``, ``price_level``) and activity columns (recency, frequency,
    gaps, monetary, ratings), activity columns get ``activity_weight`` (0.5) relative to taste
    before the block is brought back to total variance 1: activity says how much a user shops,
    rarely who they are, and 11 activity columns at full weight swamp the taste signal
    (synthetic shop, seed 0: fused ARI 0.08 at 1.0, 0.15 at 0.5). Rows missing a block get the block's mean over
    the users who have it, plus a ``<block>:missing`` indicator column: never a silent zero.
    """

    def __init__(self, config: FusionConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else FusionConfig(**kwargs)

    def fit(self, features: UserFeatures) -> FeatureFusion:
        self.fit_transform(features)
        return self

    def fit_transform(self, features: UserFeatures) -> np.ndarray:
        cfg = self.config
        self.stats_: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.columns_: list[str] = []
        self.pca_: Any = None
        out = self._transform(features, fit=True)
        if cfg.pca is not None and cfg.pca < out.shape[1]:
            from sklearn.decomposition import PCA

            self.pca_ = PCA(cfg.pca, random_state=cfg.random_state).fit(out)
            out = self.pca_.transform(out)
        return out.astype(np.float32)

    def transform(self, features: UserFeatures) -> np.ndarray:
        out = self._transform(features, fit=False)
        if self.pca_ is not None:
            out = self.pca_.transform(out)
        return out.astype(np.float32)

    def _transform(self, features: UserFeatures, fit: bool) -> np.ndarray:
        cfg = self.config
        parts, cols = [], []
        for name in sorted(features.blocks):
            w = cfg.weights.get(name, DEFAULT_BLOCK_WEIGHTS.get(name, 1.0))
            if w == 0:
                continue
            x = np.asarray(features.blocks[name], dtype=np.float64)
            miss = features.missing.get(name, np.zeros(len(x), bool))
            if miss.all():
                log.info("block '%s' is missing for every user; left out", name)
                continue
            scaling = cfg.scaling
            if scaling == "auto":  # named columns (units differ) vs embedding dimensions
                scaling = "standard" if features.columns.get(name) else "block"
            if scaling == "l2":
                x = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
            if fit:
                mu, sd = x[~miss].mean(0), x[~miss].std(0)
                self.stats_[name] = (mu, np.where(sd > 1e-12, sd, 1.0))
            mu, sd = self.stats_[name]
            if scaling == "standard":
                cw = self._column_weights(features.columns.get(name))
                x = (x - mu) / sd * (cw / np.sqrt(float((cw**2).sum())))
                fill = np.zeros(x.shape[1])
            elif scaling == "block":  # centre; one scale: keeps the spectrum of embeddings
                x = (x - mu) / np.sqrt(max(float((sd**2).sum()), 1e-12))
                fill = np.zeros(x.shape[1])
            else:
                fill = mu
            x[miss] = fill  # explicit mean imputation, flagged below
            parts.append(w * x)
            cols += [f"{name}:{c}" for c in features.columns.get(name, range(x.shape[1]))]
            if cfg.indicators and miss.any():
                parts.append(w * miss[:, None].astype(float))
                cols.append(f"{name}:missing")
        if fit:
            self.columns_ = cols
        return np.hstack(parts) if parts else np.zeros((features.n_users, 0))

    def to_state(self) -> State:
        """(JSON-able meta, arrays) that :meth:`from_state` turns back into this fitted fusion."""
        if not hasattr(self, "stats_"):
            raise UsageError("this FeatureFusion is not fitted; nothing to save")
        meta: dict[str, Any] = {
            "config": self.config.model_dump(mode="json"),
            "blocks": list(self.stats_),
            "columns": list(self.columns_),
            "pca": self.pca_ is not None,
        }
        arrays: dict[str, np.ndarray] = {}
        for name, (mu, sd) in self.stats_.items():
            arrays[f"{name}.mu"], arrays[f"{name}.sd"] = mu, sd
        if self.pca_ is not None:
            arrays["pca.components"], arrays["pca.mean"] = self.pca_.components_, self.pca_.mean_
            arrays["pca.explained_variance"] = self.pca_.explained_variance_
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> FeatureFusion:
        self = cls(FusionConfig.model_validate(meta["config"]))
        self.stats_ = {b: (arrays[f"{b}.mu"], arrays[f"{b}.sd"]) for b in meta["blocks"]}
        self.columns_ = list(meta["columns"])
        self.pca_ = None
        if meta["pca"]:
            from sklearn.decomposition import PCA

            comp = arrays["pca.components"]
            self.pca_ = PCA(comp.shape[0], random_state=self.config.random_state)
            self.pca_.components_, self.pca_.mean_ = comp, arrays["pca.mean"]
            self.pca_.explained_variance_ = arrays["pca.explained_variance"]
            self.pca_.n_components_, self.pca_.n_features_in_ = comp.shape
        return self

    def _column_weights(self, columns: list[str] | None) -> np.ndarray:
        """Per-column weights of a named block: taste 1, activity ``activity_weight``."""
        from segrec.features._behavior import is_taste_column

        names = list(columns or [])
        taste = np.array([is_taste_column(str(c)) for c in names], bool)
        if not names or taste.all() or not taste.any():
            return np.ones(len(names))
        return np.where(taste, 1.0, self.config.activity_weight)


def build_user_features(
    ds: Dataset,
    embedder: Any = None,
    *,
    text: bool = True,
    behavior: bool = True,
    text_pooling: Literal["mean", "recency", "rating"] = "mean",
    text_vectors: np.ndarray | None = None,
    item_fallback: bool = True,
    blocks: dict[str, np.ndarray | pd.DataFrame] | None = None,
    n_categories: Annotated[int, Field(ge=1)] = 10,
    item_vectors: bool = False,
) -> UserFeatures:
    """Build ``UserFeatures`` with blocks ``text`` and ``behavior`` (plus precomputed ``blocks``).

    Pass the training-period dataset (``split.train_dataset()``): profiles use only what
    ``ds`` holds. ``embedder`` defaults to ``TextEmbedder()``; ``text_vectors`` (one row per
    ``ds.texts`` row) skips embedding. Users with no text get a profile from consumed items'
    texts when ``item_fallback`` (``meta["text_source"]``) and are marked missing otherwise.
    ``item_vectors`` also keeps item vectors in the same space in ``meta["item_text_vectors"]``
    (the mean vector of what was written about each item; without any review, the items' own
    texts), for content-based scores. To featurize users later with the same fit (no
    train/serve skew), keep a :class:`~segrec.features.UserFeaturizer` instead.

    >>> import pandas as pd
    >>> ds = Dataset(interactions=pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["i1", "i1"],
    ...     "timestamp": [0, 86400], "event": "purchase", "rating": 4.0, "amount": [5.0, 7.0]}))
    >>> build_user_features(ds, text=False).blocks["behavior"].shape[0]
    2
    """
    feats = UserFeaturizer(
        embedder,
        text=text,
        behavior=behavior,
        text_pooling=text_pooling,
        item_fallback=item_fallback,
        n_categories=n_categories,
        item_vectors=item_vectors,
    ).fit_transform(ds, text_vectors)
    if not blocks:
        return feats
    user_ids = feats.user_ids
    out, missing, columns = dict(feats.blocks), dict(feats.missing), dict(feats.columns)
    for name, block in blocks.items():  # DataFrames are aligned by user_id
        if isinstance(block, pd.DataFrame):
            block = block.reindex(user_ids.astype(str))
            columns[name] = [str(c) for c in block.columns]
        arr = np.array(block, dtype=np.float32)
        out[name] = arr
        miss = np.asarray(~np.isfinite(arr).all(1), dtype=bool)
        arr[miss] = 0.0  # not meaningful: the rows are flagged in ``missing``
        missing[name] = miss
    return UserFeatures(user_ids, out, missing, columns, feats.meta)
