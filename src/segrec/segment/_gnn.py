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
        self._dataset = dataset
        self.segmentation_ = seg
        return seg

    def predict(self, features: Any, dataset: Any = None) -> np.ndarray:
        """Segment ids; propagates over the fit dataset's graph when it holds these users."""
        if dataset is None and features is not None:
            known = np.isin(
                np.asarray(features.user_ids, dtype=str),
                np.asarray(self._dataset.user_ids, dtype=str),
            )
            dataset = self._dataset if known.all() else None
        raw = self._inner.predict(features, dataset).labels
        return np.array([self._id_map.get(int(r), int(r)) for r in raw], dtype=np.int64)
