"""A cache tied to a training :class:`Dataset` object, shared by every FitContext built on it.

The evaluation builds one FitContext per segmentation and per tried configuration over the same
training dataset; fitted personal models (EASE on 8k items takes tens of seconds) and text
vectors are reused through this cache instead of being recomputed. Entries live as long as the
dataset object does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segrec.data._cache import shared_cache

if TYPE_CHECKING:
    from segrec.recommend._base import FitContext
    from segrec.recommend._scorer import ScoringRecommender

__all__ = ["base_cache_key", "shared_cache", "shared_model"]


def base_cache_key(name: str, params: dict[str, Any], random_state: int) -> str:
    """The :func:`shared_cache` key of a fitted personal model."""
    return f"base:{name}:{sorted(params.items())}:{random_state}"


def shared_model(name: str, params: dict[str, Any], ctx: FitContext) -> ScoringRecommender:
    """Recommender ``name`` with ``params`` fitted on ``ctx``, fitted once per training dataset
    (the evaluation puts its tuned baselines here, so the hybrid and the segment strategies
    reuse them). Only for models that do not depend on the segmentation."""
    from segrec.recommend._registry import get_recommender

    cache = shared_cache(ctx.train)
    key = base_cache_key(name, params, ctx.random_state)
    if key not in cache:
        cache[key] = get_recommender(name, **params).fit(ctx)
    model: ScoringRecommender = cache[key]
    return model
