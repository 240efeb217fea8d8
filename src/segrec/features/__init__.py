"""Dataset -> :class:`UserFeatures`: text embeddings, behaviour/RFM features, fusion.

Text profiles and behaviour features use only the dataset they are given: pass the
training-period dataset (``split.train_dataset()``) so nothing from the test period leaks.
"""

from segrec.features._backends import TfidfSvdBackend, TorchBackend, default_model_path
from segrec.features._behavior import (
    RFM_SEGMENTS,
    BehaviorConfig,
    BehaviorFeaturizer,
    rfm_scores,
    rfm_segments,
    rfm_table,
)
from segrec.features._cache import EmbeddingCache, default_cache_dir
from segrec.features._featurizer import UserFeaturizer, UserFeaturizerConfig
from segrec.features._fusion import FeatureFusion, FusionConfig, build_user_features
from segrec.features._gate import accuracy_gate, gate_sample
from segrec.features._models import MODELS, install_model, models_dir, resolve_model
from segrec.features._profiles import (
    TextProfiler,
    TextProfiles,
    item_embeddings,
    item_review_vectors,
    item_texts,
    pool_by_user,
    user_text_profiles,
)
from segrec.features._text import BACKENDS, TextEmbedder, TextEmbedderConfig
from segrec.features._user_features import UserFeatures

__all__ = [
    "BACKENDS",
    "MODELS",
    "RFM_SEGMENTS",
    "BehaviorConfig",
    "BehaviorFeaturizer",
    "EmbeddingCache",
    "FeatureFusion",
    "FusionConfig",
    "TextEmbedder",
    "TextEmbedderConfig",
    "TextProfiler",
    "TextProfiles",
    "TfidfSvdBackend",
    "TorchBackend",
    "UserFeatures",
    "UserFeaturizer",
    "UserFeaturizerConfig",
    "accuracy_gate",
    "build_user_features",
    "default_cache_dir",
    "default_model_path",
    "gate_sample",
    "install_model",
    "item_embeddings",
    "item_review_vectors",
    "item_texts",
    "models_dir",
    "pool_by_user",
    "resolve_model",
    "rfm_scores",
    "rfm_segments",
    "rfm_table",
    "user_text_profiles",
]
