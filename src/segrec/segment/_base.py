"""The segmenter protocol, a shared base class and the name registry."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.diagnostics import UsageError, validated
from segrec.features import UserFeatures
from segrec.segment._fuse import FittedFusion, as_matrix, make_fusion
from segrec.segment._quality import external_agreement, internal_quality
from segrec.segment._segmentation import SegmentAssignment, Segmentation
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


def sq_distances(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (float32) between rows and centres."""
    x = np.asarray(x, dtype=np.float32)
    c = np.asarray(centers, dtype=np.float32)
    d2 = (x * x).sum(1)[:, None] - 2.0 * x @ c.T + (c * c).sum(1)[None, :]
    np.maximum(d2, 0.0, out=d2)
    return d2


def nearest_centers(x: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre per row and a strength in [0, 1] from the distance margin.

    Strength is ``1 - d1/d2`` (nearest over second-nearest distance): 1 for a user sitting on
    a centre, 0 for a user exactly between two segments.
    """
    lab, strength, _, _ = center_detail(x, centers)
    return lab, strength


def center_detail(
    x: np.ndarray, centers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest centre, margin strength, second-nearest centre (-1 if none) and the distance."""
    d2 = sq_distances(x, centers)
    n, k = d2.shape
    rows = np.arange(n)
    order = np.argsort(d2, axis=1)[:, :2] if k > 1 else np.zeros((n, 1), int)
    lab = order[:, 0]
    d1 = np.sqrt(d2[rows, lab]).astype(np.float64) if k else np.full(n, np.nan)
    if k < 2:
        return lab, np.ones(n), np.full(n, -1, np.int64), d1
    dd = np.sqrt(d2[rows, order[:, 1]])
    d1f = np.sqrt(d2[rows, order[:, 0]])
    strength = np.where(dd > 0, 1.0 - d1f / np.maximum(dd, 1e-12), 0.0)
    return lab, np.clip(strength, 0.0, 1.0), order[:, 1].astype(np.int64), d1


def centers_of(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of each segment's rows (segments 0..k-1)."""
    out = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(out, labels, x)
    counts = np.bincount(labels, minlength=k).astype(float)
    return (out / np.maximum(counts, 1)[:, None]).astype(np.float32)


class BaseSegmenter:
    """Shared plumbing: config handling, fusion, quality, stable ids, nearest-centre predict.

    Subclasses implement ``_fit_matrix(x) -> (labels, strength, centers, extras)`` and may
    override ``_detail_matrix`` (and ``_state``/``_load_state`` for extra fitted state).
    """

    name: ClassVar[str] = "base"
    config_class: ClassVar[type[SegmenterConfig]] = SegmenterConfig
    #: whether ``k`` is an option (density methods and classifiers find their own number)
    supports_k: ClassVar[bool] = True
    #: whether ``fit`` needs predefined labels (classifiers: ``labels=`` or ``labels_path``)
    needs_labels: ClassVar[bool] = False
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
                x = np.asarray(self.fuser_.fit_transform(features), dtype=np.float32)
                self.fusion_: FittedFusion | None = FittedFusion.from_fusion(self.fuser_, features)
                return x
            if self.fusion_ is None:
                raise UsageError("this segmenter was fit on a plain matrix; predict needs one too")
            return self.fusion_.transform(features)
        if fit:
            self.fuser_ = self.fusion_ = None
        x = as_matrix(features)
        if not fit and self.fusion_ is not None:
            # a matrix at predict: already fused by the caller (fusion_.transform)
            width = self.fusion_.n_output
            if x.shape[1] != width:
                raise UsageError(
                    f"features matrix has {x.shape[1]} columns; this segmenter was fit on "
                    f"{width} fused columns (pass UserFeatures, or fusion_.transform(features))"
                )
        return x

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
        return self.predict_detail(features).labels

    def predict_detail(self, features: UserFeatures | np.ndarray) -> SegmentAssignment:
        """Segment, strength, nearest other segment and distance to the centre per user.

        Works for any number of users whose features come from the fitted featurizers
        (``UserFeatures`` with the fit's blocks and columns, or an already fused matrix).
        """
        if not hasattr(self, "_id_map_"):
            raise UsageError(f"{type(self).__name__} is not fitted; call fit() first")
        x = self._to_matrix(features, fit=False)
        raw, strength, alt, dist, noise = self._detail_matrix(x)
        ids = self._user_ids(features) if isinstance(features, UserFeatures) else None
        return SegmentAssignment(
            self._map_ids(raw),
            np.asarray(strength, float),
            self._map_ids(alt),
            np.asarray(dist, float),
            ids,
            noise,
        )

    def _map_ids(self, raw: np.ndarray) -> np.ndarray:
        m = self._id_map_
        return np.array([m.get(int(r), int(r)) if r >= 0 else -1 for r in raw], dtype=np.int64)

    # -- hooks --------------------------------------------------------------------------------
    def _fit_matrix(
        self, x: np.ndarray, features: Any, dataset: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
        raise NotImplementedError

    def _detail_matrix(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Raw labels, strength, raw alternative, distance and noise flags (or None)."""
        lab, strength, alt, dist = center_detail(x, self.centers_)
        return lab, strength, alt, dist, None

    # -- state (no pickle: JSON-able meta and plain arrays) ----------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(meta, arrays) that :meth:`from_state` turns back into this fitted segmenter."""
        if not hasattr(self, "_id_map_"):
            raise UsageError(f"segmenter '{self.name}' is not fitted; nothing to save")
        meta: dict[str, Any] = {
            "registry": self.name,
            "config": self.config.model_dump(mode="json"),
            "id_map": [[int(a), int(b)] for a, b in self._id_map_.items()],
            "fusion": None,
        }
        arrays: dict[str, np.ndarray] = {}
        if self.fusion_ is not None:
            fm, fa = self.fusion_.to_state()
            meta["fusion"] = fm
            arrays.update({f"fusion.{k}": v for k, v in fa.items()})
        m, a = self._state()
        meta.update(m)
        arrays.update(a)
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> BaseSegmenter:
        """A fitted segmenter from :meth:`to_state` output (nothing is executed)."""
        seg = cls(config=cls.config_class.model_validate(meta["config"]))
        seg._id_map_ = {int(a): int(b) for a, b in meta["id_map"]}
        seg.fuser_ = None
        seg.fusion_ = None
        if meta.get("fusion") is not None:
            fa = {k[7:]: v for k, v in arrays.items() if k.startswith("fusion.")}
            seg.fusion_ = FittedFusion.from_state(meta["fusion"], fa)
        seg._load_state(meta, arrays)
        return seg

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {"centers": np.asarray(self.centers_)}

    def _load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.centers_ = np.asarray(arrays["centers"], dtype=np.float32)

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
