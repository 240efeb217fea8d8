"""UserFeatures -> :class:`Segmentation`: clusterers, k selection, stability, classifiers."""

from segrec.segment._segmentation import Segmentation

__all__ = ["Segmentation"]
