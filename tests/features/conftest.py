"""Fixtures of the features tests: tiny hand-built datasets and one shared MiniLM cache."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset

DAY = 86400


@pytest.fixture
def tiny_ds() -> Dataset:
    """3 users: u1 writes two reviews, u2 writes none but buys a titled item, u3 is silent."""
    inter = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u3"],
            "item_id": ["i1", "i2", "i3", "i1", "i9"],
            "timestamp": [0, 10 * DAY, 30 * DAY, 20 * DAY, 5 * DAY],
            "event": "purchase",
            "rating": [5.0, 1.0, np.nan, 4.0, 3.0],
            "amount": [10.0, 20.0, 30.0, 12.0, np.nan],
        }
    )
    texts = pd.DataFrame(
        {
            "user_id": ["u1", "u1"],
            "item_id": ["i1", "i2"],
            "timestamp": [0, 10 * DAY],
            "text": ["great guitar strings", "awful cable broke"],
            "kind": "review",
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["i1", "i2", "i3"],
            "title": ["Bright guitar strings", "Patch cable", None],
            "categories": ["guitars|strings", "accessories|cables", "guitars"],
            "price": [10.0, 20.0, 30.0],
        }
    )
    return Dataset(interactions=inter, texts=texts, items=items, name="tiny")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One cache folder for the model tests, so the ONNX export happens once per session."""
    return str(tmp_path_factory.mktemp("segrec-model-cache"))
