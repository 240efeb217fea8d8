"""The segmenter protocol, a shared base class and the name registry."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.diagnostics import UsageError, validated
from segrec.features import UserFeatures
from segrec.segment._fuse import as_matrix, make_fusion
from segrec.segment._quality import external_agreement, internal_quality
from segrec.segment._segmentation import Segmentation
from segrec.segment._stable_ids import align_to_previous

__all__ = [
    "BaseSegmenter",
    "Segmenter",
    "SegmenterConfig",
    "available_segmenters",
    "get_segmenter",
    "register_segmenter",
]

_log = logging.getLogger(__name__)


class SegmenterConfig(BaseModel):
    """Options every segmenter shares."""

    model_config = ConfigDict(extra="forbid")

    random_state: int = 0
    blocks: list[str] | None = Field(None, description="feature blocks to fuse (default: all)")
    block_weights: dict[str, float] = Field(default_factory=dict)
    missing_indicators: bool = Field(False, description="add a 0/1 column per block with gaps")
    quality_sample: int = Field(10_000, ge=100, description="users sampled for silhouette")


@runtime_checkable
class Segmenter(Protocol):
    """Anything with ``fit(features, dataset=None) -> Segmentation`` and ``predict``."""

    def fit(self, features: Any, dataset: Any = None) -> Segmentation: ...

    def predict(self, features: Any) -> np.ndarray: ...


def nearest_centers(x: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre per row and a strength in [0, 1] from the distance margin.

    Strength is ``1 - d1/d2`` (nearest over second-nearest distance): 1 for a user sitting on
    a centre, 0 for a user exactly between two segments.
    """
    x = np.asarray(x, dtype=np.float32)
    c = np.asarray(centers, dtype=np.float32)
    d2 = (x * x).sum(1)[:, None] - 2.0 * x @ c.T + (c * c).sum(1)[None, :]
    np.maximum(d2, 0.0, out=d2)
    order = np.argsort(d2, axis=1)[:, :2] if c.shape[0] > 1 else np.zeros((len(x), 1), int)
    rows = np.arange(len(x))
    lab = order[:, 0]
    if c.shape[0] < 2:
        return lab, np.ones(len(x))
    d1 = np.sqrt(d2[rows, order[:, 0]])
    dd = np.sqrt(d2[rows, order[:, 1]])
    strength = np.where(dd > 0, 1.0 - d1 / np.maximum(dd, 1e-12), 0.0)
    return lab, np.clip(strength, 0.0, 1.0)


def centers_of(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of each segment's rows (segments 0..k-1)."""
    out = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(out, labels, x)
    counts = np.bincount(labels, minlength=k).astype(float)
    return (out / np.maximum(counts, 1)[:, None]).astype(np.float32)


class BaseSegmenter:
    """Shared plumbing: config handling, fusion, quality, stable ids, nearest-centre predict.

    Subclasses implement ``_fit_matrix(x) -> (labels, strength, centers, extras)`` and may
    override ``_predict_matrix``.
    """

    name: ClassVar[str] = "base"
    config_class: ClassVar[type[SegmenterConfig]] = SegmenterConfig
    #: whether ``k`` is an option (density methods and classifiers find their own number)
    supports_k: ClassVar[bool] = True
    centers_: np.ndarray

    def __init__(self, config: SegmenterConfig | None = None, **kwargs: Any) -> None:
        if config is not None and kwargs:
            raise UsageError("pass either a config object or keyword options, not both")
        if config is None:
            config = validated(
                self.config_class, f"segmenter '{self.name}': invalid options", **kwargs
            )
        self.config = config

    # -- fusion -------------------------------------------------------------------------------
    def _to_matrix(self, features: UserFeatures | np.ndarray, fit: bool) -> np.ndarray:
        if isinstance(features, UserFeatures):
            if fit:
                self.fuser_: Any = make_fusion(
                    features,
                    self.config.blocks,
                    self.config.block_weights,
                    self.config.missing_indicators,
                )
                return np.asarray(self.fuser_.fit_transform(features), dtype=np.float32)
            if self.fuser_ is None:
                raise UsageError("this segmenter was fit on a plain matrix; predict needs one too")
            return np.asarray(self.fuser_.transform(features), dtype=np.float32)
        if fit:
            self.fuser_ = None
        return as_matrix(features)

    @staticmethod
    def _user_ids(features: UserFeatures | np.ndarray) -> pd.Index:
        if isinstance(features, UserFeatures):
            return pd.Index(features.user_ids, name="user_id")
        return pd.Index([str(i) for i in range(len(features))], name="user_id")

    # -- verbs --------------------------------------------------------------------------------
    def fit(
        self,
        features: UserFeatures | np.ndarray,
        dataset: Any = None,
        previous: Segmentation | None = None,
    ) -> Segmentation:
        """Segment users; with ``previous``, keep its ids (and names) for matching segments."""
        x = self._to_matrix(features, fit=True)
        if len(x) < 2:
            raise UsageError(f"need at least 2 users to segment; got {len(x)}")
        labels, strength, centers, extras = self._fit_matrix(x, features, dataset)
        seg = Segmentation(
            user_ids=self._user_ids(features),
            labels=np.asarray(labels, dtype=np.int64),
            strength=np.asarray(strength, dtype=np.float64),
            method=self.name,
            centers=centers,
            noise=extras.pop("noise", None),
            soft=extras.pop("soft", None),
            quality=self._quality(x, labels, dataset, features, extras.pop("quality", {})),
            meta={"config": self.config.model_dump(), **extras},
        )
        if previous is not None:
            seg, mapping = align_to_previous(seg, previous)
            self._id_map_ = mapping
        else:
            self._id_map_ = {int(s): int(s) for s in np.unique(seg.labels)}
        self.segmentation_ = seg
        _log.info("%s: %d users in %d segments", self.name, len(x), seg.k)
        return seg

    def predict(self, features: UserFeatures | np.ndarray) -> np.ndarray:
        """Segment ids (in the id space of the last ``fit``) for any users with features."""
        if not hasattr(self, "segmentation_"):
            raise UsageError(f"{type(self).__name__} is not fitted; call fit() first")
        x = self._to_matrix(features, fit=False)
        raw = self._predict_matrix(x)
        return np.array([self._id_map_.get(int(r), int(r)) for r in raw], dtype=np.int64)

    # -- hooks --------------------------------------------------------------------------------
    def _fit_matrix(
        self, x: np.ndarray, features: Any, dataset: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
        raise NotImplementedError

    def _predict_matrix(self, x: np.ndarray) -> np.ndarray:
        return nearest_centers(x, self.centers_)[0]

    def _quality(
        self, x: np.ndarray, labels: np.ndarray, dataset: Any, features: Any, extra: dict
    ) -> dict[str, Any]:
        q: dict[str, Any] = dict(
            internal_quality(x, labels, self.config.quality_sample, self.config.random_state)
        )
        truth = getattr(dataset, "truth", None)
        if truth is not None and isinstance(features, UserFeatures):
            t = truth.reindex(pd.Index(features.user_ids).astype(str))
            ok = t.notna().to_numpy()
            if ok.sum() > 1:
                q.update(external_agreement(np.asarray(labels)[ok], t[ok].astype(str).to_numpy()))
        q.update(extra)
        return q


_REGISTRY: dict[str, type] = {}


def register_segmenter(name: str, cls: type) -> None:
    """Make ``cls`` available to :func:`get_segmenter` under ``name``."""
    _REGISTRY[name] = cls


def available_segmenters() -> list[str]:
    """Names :func:`get_segmenter` accepts."""
    return sorted(_REGISTRY)


def get_segmenter(name: str, **config: Any) -> Any:
    """A segmenter by name (``kmeans``, ``minibatch``, ``hdbscan``, ``dbscan``,
    ``agglomerative``, ``gnn``, ``tree``, ``forest``) with config keyword options.

        >>> seg = get_segmenter("kmeans", k=3, random_state=0)
    """
    if name not in _REGISTRY:
        raise UsageError(
            f"unknown segmenter method '{name}'; expected one of {available_segmenters()}"
        )
    return _REGISTRY[name](**config)
