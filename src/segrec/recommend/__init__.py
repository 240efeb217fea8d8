"""Segmentation + Dataset -> :class:`RecLists`: baselines, segment-aware models, reasons."""

from segrec.recommend._base import FitContext, RecLists, Recommender

__all__ = ["FitContext", "RecLists", "Recommender"]
