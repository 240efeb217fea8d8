"""Behaviour taste vs activity columns inside the fused behaviour block (issue 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segrec.features import FeatureFusion, UserFeatures
from segrec.features._behavior import is_taste_column


def _features(columns: list[str], n: int = 300) -> UserFeatures:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, len(columns))) * rng.uniform(0.1, 50.0, len(columns))
    return UserFeatures(
        pd.Index([f"u{i}" for i in range(n)]), {"behavior": x}, {}, {"behavior": columns}, {}
    )


def test_taste_columns_are_recognised():
    assert is_taste_column("cat:guitars") and is_taste_column("price_level")
    assert not any(map(is_taste_column, ["frequency", "recency_days", "monetary_amount"]))


@pytest.mark.parametrize("aw", [0.0, 0.5, 1.0])
def test_activity_columns_get_their_weight_and_block_variance_stays_one(aw):
    cols = ["cat:a", "cat:b", "price_level", "frequency", "recency_days", "span_days"]
    out = FeatureFusion(indicators=False, activity_weight=aw).fit_transform(_features(cols))
    sd = out.std(0)
    assert sd[3:] == pytest.approx(aw * sd[0], rel=1e-3, abs=1e-6)
    assert sd[:3] == pytest.approx(np.full(3, sd[0]), rel=1e-3)
    assert float((out.var(0)).sum()) == pytest.approx(1.0, rel=1e-3)


def test_activity_only_block_is_unchanged():
    """Real datasets without prices/categories: behaviour is all activity, weights are moot."""
    cols = ["frequency", "recency_days", "span_days"]
    a = FeatureFusion(indicators=False, activity_weight=0.2).fit_transform(_features(cols))
    b = FeatureFusion(indicators=False, activity_weight=1.0).fit_transform(_features(cols))
    np.testing.assert_allclose(a, b)
    assert a.std(0) == pytest.approx(np.full(3, 1 / np.sqrt(3)), rel=1e-3)
