"""Recommenders by name: ``get_recommender("ease", l2=100)``."""

from __future__ import annotations

from typing import Any

from segrec.diagnostics import UsageError
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["available_recommenders", "get_recommender"]


def _classes() -> dict[str, type[ScoringRecommender]]:
    from segrec.recommend._content import ContentRecommender
    from segrec.recommend._ease import EASERecommender
    from segrec.recommend._hybrid import HybridRecommender
    from segrec.recommend._implicit import ALSRecommender, BPRRecommender
    from segrec.recommend._itemknn import ItemKNNRecommender
    from segrec.recommend._lightgcn import LightGCNRecommender
    from segrec.recommend._pop import PopRecommender
    from segrec.recommend._segment import SegmentPopRecommender
    from segrec.recommend._social import SocialRecommender
    from segrec.recommend._strategy import SegmentStrategyRecommender
    from segrec.recommend._textknn import TextKNNRecommender

    classes: list[type[ScoringRecommender]] = [
        PopRecommender,
        SocialRecommender,
        TextKNNRecommender,
        ItemKNNRecommender,
        ALSRecommender,
        BPRRecommender,
        EASERecommender,
        LightGCNRecommender,
        ContentRecommender,
        SegmentPopRecommender,
        HybridRecommender,
        SegmentStrategyRecommender,
    ]
    return {c.name: c for c in classes}


def available_recommenders() -> list[str]:
    """Registered names: pop, social, textknn, itemknn, als, bpr, ease, lightgcn, content, segment_pop,
    hybrid, segment_strategy."""
    return list(_classes())


def get_recommender(name: str, **params: Any) -> ScoringRecommender:
    """A new, unfitted recommender ``name`` configured with ``params``.

    >>> get_recommender("ease", l2=100.0).params()["l2"]
    100.0
    """
    classes = _classes()
    base = name.split(":", 1)[0]
    if base not in classes:
        raise UsageError(f"unknown recommender '{name}'; expected one of {sorted(classes)}")
    return classes[base](**params)
