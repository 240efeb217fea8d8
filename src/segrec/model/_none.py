"""The assigner of a model fit without a segmentation: every user is in no segment (-1)."""

from __future__ import annotations

from typing import Any

import numpy as np

from segrec.model._folder import State

__all__ = ["NoSegments"]


class NoSegments:
    """Assigns nobody: the model still recommends (the hybrid's segment prior is global)."""

    def predict_detail(self, features: Any, users: Any = None) -> Any:
        from segrec.segment import SegmentAssignment

        n = features.n_users if features is not None else len(users.user_ids)
        return SegmentAssignment(
            labels=np.full(n, -1, np.int64),
            strength=np.zeros(n),
            alternative=np.full(n, -1, np.int64),
            distance=np.full(n, np.nan),
        )

    def to_state(self) -> State:
        return {"name": "none"}, {}
