"""``method="gnn"``: delegates to :class:`segrec.graph.GNNSegmenter` (imported lazily)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from segrec.diagnostics import UsageError
from segrec.segment._segmentation import Segmentation

__all__ = ["GNNSegmenterAdapter"]


class GNNSegmenterAdapter:
    """Registry entry for the graph segmenter; needs the dataset (its interaction graph)."""

    name: ClassVar[str] = "gnn"
    supports_k: ClassVar[bool] = True
    #: predict folds users into the graph from their own rows: pass the users' Dataset
    needs_dataset: ClassVar[bool] = True

    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        try:
            from segrec.graph import GNNSegmenter  # type: ignore[attr-defined]
        except ImportError as exc:
            raise UsageError(
                "method 'gnn' needs segrec.graph.GNNSegmenter, which is not available in this "
                f"install ({exc}); use kmeans or install the 'graph' extra"
            ) from exc
        if "k" in kwargs:  # the registry-wide name for the number of segments
            k = kwargs.pop("k")
            kwargs["n_segments"] = None if k in (None, "auto") else int(k)
        self._inner = (
            GNNSegmenter(config, **kwargs) if config is not None else GNNSegmenter(**kwargs)
        )

    def fit(self, features: Any, dataset: Any = None, previous: Any = None) -> Segmentation:
        if dataset is None:
            raise UsageError("method 'gnn' needs the dataset (fit(features, dataset))")
        seg = self._inner.fit(features, dataset)
        self._id_map: dict[int, int] = {int(s): int(s) for s in np.unique(seg.labels)}
        if previous is not None:
            from segrec.segment._stable_ids import align_to_previous

            seg, self._id_map = align_to_previous(seg, previous)
        self.segmentation_ = seg
        return seg

    def predict(self, features: Any, dataset: Any = None) -> np.ndarray:
        """Segment ids through the graph fold-in: ``dataset`` holds these users' own rows
        (interactions, named friends); without it known users keep their fit-time graph rows
        and unknown users are embedded from their own features."""
        raw = self._inner.predict(features, dataset).labels
        return np.array([self._id_map.get(int(r), int(r)) for r in raw], dtype=np.int64)

    def predict_detail(self, features: Any, dataset: Any = None) -> Any:
        """Segment, strength (the DEC soft membership, as at fit), the next most likely segment
        and the distance to the centre in the GCN space, through the fold-in."""
        from segrec.segment._segmentation import SegmentAssignment

        seg = self._inner.predict(features, dataset)
        q = np.asarray(seg.soft)
        order = np.argsort(-q, axis=1, kind="stable")

        def ids(raw: np.ndarray) -> np.ndarray:
            return np.array([self._id_map.get(int(r), int(r)) for r in raw], dtype=np.int64)

        alt = ids(order[:, 1]) if q.shape[1] > 1 else np.full(len(q), -1, np.int64)
        return SegmentAssignment(
            labels=ids(order[:, 0]),
            strength=q.max(axis=1),
            alternative=alt,
            distance=np.asarray(seg.meta["distance"], np.float64),
            user_ids=seg.user_ids,
        )

    # -- state (no pickle) ------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able meta, arrays); :meth:`from_state` needs neither torch nor the Dataset."""
        if not hasattr(self, "_id_map"):
            raise UsageError("segmenter 'gnn' is not fitted; nothing to save")
        meta, arrays = self._inner.to_state()
        out = {
            "registry": self.name,
            "config": meta["config"],
            "id_map": [[int(a), int(b)] for a, b in self._id_map.items()],
            "inner": meta,
        }
        return out, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GNNSegmenterAdapter:
        from segrec.graph import GNNSegmenter

        self = cls.__new__(cls)
        self._inner = GNNSegmenter.from_state(meta["inner"], arrays)
        self._id_map = {int(a): int(b) for a, b in meta["id_map"]}
        return self
