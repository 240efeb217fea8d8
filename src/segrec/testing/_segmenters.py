"""Contract tests every segmenter passes; a new segmenter's test is a three-line subclass.

class TestKMeans(SegmenterContract):
    def make(self, k=None):
        return KMeansSegmenter(k=k or "auto", random_state=0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from segrec.features import UserFeatures
from segrec.segment import Segmentation

__all__ = ["SegmenterContract", "planted_dataset_for", "planted_features"]


def planted_features(
    n_per: int = 60, k: int = 4, dim_text: int = 16, seed: int = 0
) -> tuple[UserFeatures, pd.Series]:
    """Small UserFeatures (text + behaviour blocks) with ``k`` planted groups and their truth.

    Some users have no text (``missing['text']``), like real shops.
    """
    rng = np.random.default_rng(seed)
    n = n_per * k
    truth = np.repeat(np.arange(k), n_per)
    tc = rng.normal(size=(k, dim_text)) * 3.0
    bc = rng.normal(size=(k, 4)) * 2.0
    text = tc[truth] + rng.normal(size=(n, dim_text))
    behavior = bc[truth] + rng.normal(size=(n, 4)) * 0.7
    missing = rng.random(n) < 0.05
    text[missing] = 0.0
    ids = pd.Index([f"u{i:04d}" for i in range(n)], name="user_id")
    feats = UserFeatures(
        ids,
        {"text": text.astype(np.float32), "behavior": behavior.astype(np.float32)},
        {"text": missing},
        {"behavior": ["recency_days", "frequency", "monetary", "rating_mean"]},
    )
    return feats, pd.Series(truth.astype(str), index=ids, name="persona")


def planted_dataset_for(features: UserFeatures, truth: pd.Series, seed: int = 0) -> Any:
    """A Dataset whose interactions follow ``truth``: each group buys mostly its own items.

    For segmenters (the GNN) that need an interaction graph besides the feature matrix.
    """
    from segrec.data import Dataset

    rng = np.random.default_rng(seed)
    groups = sorted(truth.unique())
    rows = []
    for uid, g in truth.items():
        gi = groups.index(g)
        for _ in range(8):
            own = rng.random() < 0.85
            grp = gi if own else int(rng.integers(len(groups)))
            item = f"i{grp}_{int(rng.integers(10))}"
            rows.append((str(uid), item, int(rng.integers(1_600_000_000, 1_700_000_000))))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"] = "purchase"
    inter["rating"] = np.nan
    inter["amount"] = rng.uniform(5, 50, len(inter))
    return Dataset(interactions=inter, truth=truth.astype(str), name="planted")


class SegmenterContract:
    """Subclass and implement :meth:`make`; override :meth:`fit` when fitting needs extras."""

    #: the contract's own expectations; density methods and classifiers set ``supports_k``
    supports_k: bool = True
    min_predict_agreement: float = 0.9

    def make(self, k: int | None = None) -> Any:
        raise NotImplementedError

    def fit(self, segmenter: Any, features: UserFeatures, truth: pd.Series) -> Segmentation:
        return segmenter.fit(features)

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls) -> tuple[UserFeatures, pd.Series]:
        return planted_features()

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, data: tuple[UserFeatures, pd.Series]) -> tuple[Any, Segmentation]:
        inst = cls()
        seg = inst.make()
        return seg, inst.fit(seg, *data)

    def test_one_label_per_user(self, data, fitted) -> None:
        feats, _ = data
        _, s = fitted
        assert isinstance(s, Segmentation)
        assert list(s.user_ids) == list(feats.user_ids)
        assert s.labels.shape == (feats.n_users,)
        assert (s.labels >= 0).all()
        assert np.issubdtype(s.labels.dtype, np.integer)

    def test_strength_in_unit_interval(self, fitted) -> None:
        _, s = fitted
        assert np.isfinite(s.strength).all()
        assert (s.strength >= 0).all() and (s.strength <= 1).all()

    def test_same_seed_same_labels(self, data, fitted) -> None:
        _, s = fitted
        again = self.fit(self.make(), *data)
        np.testing.assert_array_equal(s.labels, again.labels)

    def test_predict_agrees_with_fit(self, data, fitted) -> None:
        feats, _ = data
        seg, s = fitted
        pred = seg.predict(feats)
        assert pred.shape == s.labels.shape
        assert (pred == s.labels).mean() >= self.min_predict_agreement

    def test_finds_planted_groups(self, data, fitted) -> None:
        from sklearn.metrics import adjusted_rand_score

        _, truth = data
        _, s = fitted
        assert adjusted_rand_score(truth.to_numpy(), s.labels) >= 0.8

    def test_k_given(self, data) -> None:
        if not self.supports_k:
            pytest.skip("this segmenter chooses its own number of segments")
        s = self.fit(self.make(k=3), *data)
        assert s.k == 3
