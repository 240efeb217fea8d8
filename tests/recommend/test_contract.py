"""Every registered recommender passes the contract (three-line subclasses)."""

import os
from typing import Any, ClassVar

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from segrec.testing._recommenders import RecommenderContract


class TestPop(RecommenderContract):
    name = "pop"


class TestItemKNN(RecommenderContract):
    name = "itemknn"
    params: ClassVar[dict[str, Any]] = {"neighbours": 10}


class TestALS(RecommenderContract):
    name = "als"
    params: ClassVar[dict[str, Any]] = {"factors": 8, "iterations": 5}


class TestBPR(RecommenderContract):
    name = "bpr"
    params: ClassVar[dict[str, Any]] = {"factors": 8, "iterations": 20, "num_threads": 1}


class TestEASE(RecommenderContract):
    name = "ease"
    params: ClassVar[dict[str, Any]] = {"l2": 10.0}


class TestLightGCN(RecommenderContract):
    name = "lightgcn"
    params: ClassVar[dict[str, Any]] = {"dim": 8, "epochs": 5}


class TestContent(RecommenderContract):
    name = "content"
    params: ClassVar[dict[str, Any]] = {"dim": 4}


class TestSegmentPop(RecommenderContract):
    name = "segment_pop"
    params: ClassVar[dict[str, Any]] = {"shrinkage": 5.0}


class TestHybrid(RecommenderContract):
    name = "hybrid"
    params: ClassVar[dict[str, Any]] = {"base": "ease", "base_params": {"l2": 10.0}}


class TestSegmentStrategy(RecommenderContract):
    name = "segment_strategy"
    params: ClassVar[dict[str, Any]] = {"segments": {2: {"model": "pop", "price_tier": "premium"}}}


class TestTextKNN(RecommenderContract):
    name = "textknn"
    params: ClassVar[dict[str, Any]] = {"neighbours": 10}
