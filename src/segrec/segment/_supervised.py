"""Supervised segmenters: a decision tree or random forest trained on predefined labels.

Labels are an existing segmentation (a CRM segment, spend tiers): a ``pd.Series`` user_id ->
label, or a CSV/Parquet file with columns ``user_id`` and ``segment`` (or ``label``). The model
then assigns a segment to any user with features, including users the CRM never labelled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from segrec.diagnostics import UsageError
from segrec.features import UserFeatures
from segrec.segment._base import BaseSegmenter, SegmenterConfig, centers_of
from segrec.segment._segmentation import Segmentation

__all__ = ["ForestSegmenter", "SupervisedConfig", "TreeSegmenter", "read_labels"]


class SupervisedConfig(SegmenterConfig):
    labels_path: str | None = Field(None, description="CSV/Parquet with user_id and segment")
    max_depth: int | None = Field(8, ge=1)
    min_samples_leaf: int = Field(5, ge=1)
    n_estimators: int = Field(200, ge=1, description="forest only")


def read_labels(path: str | Path) -> pd.Series:
    """user_id -> label from a CSV or Parquet file with ``user_id`` and ``segment``/``label``."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"--labels {p}: no such file; give a CSV/Parquet with user_id,segment")
    df = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p, dtype={"user_id": str})
    col = next((c for c in ("segment", "label", "segment_id") if c in df.columns), None)
    if "user_id" not in df.columns or col is None:
        raise UsageError(
            f"labels file {p} has columns {list(df.columns)}; expected user_id and segment (or label)"
        )
    return pd.Series(df[col].astype(str).to_numpy(), index=df["user_id"].astype(str), name="label")


class _SupervisedSegmenter(BaseSegmenter):
    supports_k: ClassVar[bool] = False
    config: SupervisedConfig

    def _model(self) -> Any:
        raise NotImplementedError

    def fit(  # type: ignore[override]
        self,
        features: UserFeatures | np.ndarray,
        dataset: Any = None,
        previous: Segmentation | None = None,
        labels: pd.Series | None = None,
    ) -> Segmentation:
        """Train on users that have a label; segment every user. ``labels``: user_id -> label."""
        if labels is None:
            if self.config.labels_path is None:
                raise UsageError(
                    f"method '{self.name}' needs predefined labels: pass labels= (a Series "
                    "user_id -> label) or labels_path= / --labels FILE"
                )
            labels = read_labels(self.config.labels_path)
        self._labels_in = labels
        return super().fit(features, dataset, previous)

    def _fit_matrix(
        self, x: np.ndarray, features: Any, dataset: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
        lab = self._labels_in.copy()
        lab.index = lab.index.astype(str)
        y = lab.reindex(self._user_ids(features).astype(str))
        known = y.notna().to_numpy()
        if known.sum() < 2 or y[known].nunique() < 2:
            raise UsageError(
                f"labels cover {int(known.sum())} of {len(x)} users with "
                f"{y[known].nunique()} distinct values; need >= 2 labelled users and 2 labels"
            )
        classes = np.array(sorted(y[known].astype(str).unique()))
        y_int = np.searchsorted(classes, y[known].astype(str).to_numpy())
        self.model_ = self._model().fit(x[known], y_int)
        proba = self.model_.predict_proba(x)
        pred = np.asarray(self.model_.classes_)[proba.argmax(1)].astype(np.int64)
        self.classes_ = classes
        centers = centers_of(x, pred, len(classes))
        extras: dict[str, Any] = {
            "quality": {
                "train_accuracy": float((pred[known] == y_int).mean()),
                "labelled_users": int(known.sum()),
            },
            "label_names": {int(i): str(c) for i, c in enumerate(classes)},
        }
        return pred, proba.max(1), centers, extras

    def fit_names(self, seg: Segmentation) -> dict[int, str]:
        return {int(i): str(c) for i, c in enumerate(self.classes_)}

    def _predict_matrix(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(x), dtype=np.int64)


class TreeSegmenter(_SupervisedSegmenter):
    """Decision tree on predefined labels: readable, exactly reproducible."""

    name: ClassVar[str] = "tree"
    config_class: ClassVar[type[SegmenterConfig]] = SupervisedConfig

    def _model(self) -> Any:
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(
            max_depth=self.config.max_depth,
            min_samples_leaf=self.config.min_samples_leaf,
            random_state=self.config.random_state,
        )


class ForestSegmenter(_SupervisedSegmenter):
    """Random forest on predefined labels: more accurate, less readable than the tree."""

    name: ClassVar[str] = "forest"
    config_class: ClassVar[type[SegmenterConfig]] = SupervisedConfig

    def _model(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=self.config.n_estimators,
            max_depth=self.config.max_depth,
            min_samples_leaf=self.config.min_samples_leaf,
            random_state=self.config.random_state,
            n_jobs=1,
        )
