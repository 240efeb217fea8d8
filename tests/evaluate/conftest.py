"""Fixtures of the evaluation tests (helpers live in ``evalkit.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from evalkit import planted_dataset

from segrec.data import Dataset


@pytest.fixture(scope="session")
def planted() -> Dataset:
    return planted_dataset()
