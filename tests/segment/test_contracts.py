"""Every registered segmenter passes the same contract (segrec.testing.SegmenterContract)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from segrec.segment import available_segmenters, get_segmenter
from segrec.testing import SegmenterContract


class TestKMeans(SegmenterContract):
    def make(self, k=None):
        return get_segmenter("kmeans", k=k or "auto", k_max=6, random_state=0)


class TestMiniBatch(SegmenterContract):
    def make(self, k=None):
        return get_segmenter("minibatch", k=k or 4, random_state=0)


class TestKMeansFaiss(SegmenterContract):
    def make(self, k=None):
        pytest.importorskip("faiss")
        return get_segmenter("kmeans", k=k or 4, backend="faiss", random_state=0)


class TestHDBSCAN(SegmenterContract):
    supports_k = False

    def make(self, k=None):
        return get_segmenter("hdbscan", min_cluster_size=15)


class TestDBSCAN(SegmenterContract):
    supports_k = False
    min_predict_agreement = 0.85

    def make(self, k=None):
        return get_segmenter("dbscan", min_samples=8)


class TestAgglomerative(SegmenterContract):
    def make(self, k=None):
        return get_segmenter("agglomerative", k=k or "auto", k_max=6)


class TestTree(SegmenterContract):
    supports_k = False

    def make(self, k=None):
        return get_segmenter("tree", max_depth=6, random_state=0)

    def fit(self, segmenter, features, truth):
        return segmenter.fit(features, labels=truth)


class TestForest(SegmenterContract):
    supports_k = False

    def make(self, k=None):
        return get_segmenter("forest", n_estimators=50, random_state=0)

    def fit(self, segmenter, features, truth):
        return segmenter.fit(features, labels=truth)


@pytest.mark.slow
class TestGNN(SegmenterContract):
    """The graph segmenter needs a Dataset; runs once segrec.graph provides GNNSegmenter."""

    def make(self, k=None):
        graph = pytest.importorskip("segrec.graph")
        if not hasattr(graph, "GNNSegmenter"):
            pytest.skip("segrec.graph.GNNSegmenter is not available yet")
        return get_segmenter("gnn", k=k or 4, epochs=5, refine_epochs=5, random_state=0)

    def fit(self, segmenter, features, truth):
        from segrec.testing import planted_dataset_for

        return segmenter.fit(features, planted_dataset_for(features, truth))


def test_every_registered_segmenter_has_a_contract_test():
    tested = {"kmeans", "minibatch", "hdbscan", "dbscan", "agglomerative", "tree", "forest", "gnn"}
    assert set(available_segmenters()) <= tested
