"""Segmentation + Dataset -> :class:`RecLists`: baselines, segment-aware models, reasons."""

from segrec.recommend._base import FitContext, RecLists, Recommender
from segrec.recommend._content import ContentConfig, ContentRecommender, tfidf_vectors
from segrec.recommend._ease import EASEConfig, EASERecommender
from segrec.recommend._hybrid import DEFAULT_HYBRID_GRID, HybridConfig, HybridRecommender
from segrec.recommend._implicit import ALSConfig, ALSRecommender, BPRConfig, BPRRecommender
from segrec.recommend._itemknn import ItemKNNConfig, ItemKNNRecommender
from segrec.recommend._lightgcn import LightGCNConfig, LightGCNRecommender
from segrec.recommend._pop import PopConfig, PopRecommender
from segrec.recommend._reasons import ReasonIndex, reason_index
from segrec.recommend._registry import available_recommenders, get_recommender
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender, top_k
from segrec.recommend._segment import SegmentPopConfig, SegmentPopRecommender, SegmentRule
from segrec.recommend._social import SocialConfig, SocialRecommender
from segrec.recommend._state import recommender_from_state, recommender_to_state
from segrec.recommend._strategy import SegmentStrategyConfig, SegmentStrategyRecommender
from segrec.recommend._textknn import TextKNNConfig, TextKNNRecommender

__all__ = [
    "DEFAULT_HYBRID_GRID",
    "ALSConfig",
    "ALSRecommender",
    "BPRConfig",
    "BPRRecommender",
    "ContentConfig",
    "ContentRecommender",
    "EASEConfig",
    "EASERecommender",
    "FitContext",
    "HybridConfig",
    "HybridRecommender",
    "ItemKNNConfig",
    "ItemKNNRecommender",
    "LightGCNConfig",
    "LightGCNRecommender",
    "PopConfig",
    "PopRecommender",
    "ReasonIndex",
    "RecLists",
    "Recommender",
    "ScoringRecommender",
    "SegmentPopConfig",
    "SegmentPopRecommender",
    "SegmentRule",
    "SegmentStrategyConfig",
    "SegmentStrategyRecommender",
    "SocialConfig",
    "SocialRecommender",
    "TextKNNConfig",
    "TextKNNRecommender",
    "UserRows",
    "available_recommenders",
    "get_recommender",
    "reason_index",
    "recommender_from_state",
    "recommender_to_state",
    "tfidf_vectors",
    "top_k",
]
