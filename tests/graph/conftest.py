"""Fixtures of the graph tests (the planted world lives in ``_planted``)."""

from __future__ import annotations

import os

import pytest

from segrec.data import Dataset
from segrec.features import UserFeatures

from ._planted import planted_world, text_features

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def planted() -> Dataset:
    return planted_world()


@pytest.fixture(scope="session")
def planted_text(planted: Dataset) -> UserFeatures:
    return text_features(planted)
