"""Dataset -> :class:`UserFeatures`: text embeddings, behaviour/RFM features, fusion."""

from segrec.features._user_features import UserFeatures

__all__ = ["UserFeatures"]
