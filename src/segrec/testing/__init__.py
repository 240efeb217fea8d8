"""Fixtures and contract tests shared by segrec's test suite and by plug-in authors."""

from segrec.testing._segmenters import SegmenterContract, planted_dataset_for, planted_features

__all__ = ["SegmenterContract", "planted_dataset_for", "planted_features"]
