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
from segrec.segment._base import BaseSegmenter, SegmenterConfig, centers_of, sq_distances
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
    needs_labels: ClassVar[bool] = True
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
        model = self._model().fit(x[known], y_int)
        self.trees_ = [tree_arrays(t) for t in getattr(model, "estimators_", [model])]
        self.tree_classes_ = np.asarray(model.classes_, dtype=np.int64)
        proba = self._proba(x)
        pred = self.tree_classes_[proba.argmax(1)]
        self.classes_ = classes
        self.centers_ = centers = centers_of(x, pred, len(classes))
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

    def _proba(self, x: np.ndarray) -> np.ndarray:
        """Mean class probabilities over the trees (one tree: its leaf's class shares)."""
        out = np.zeros((len(x), len(self.tree_classes_)))
        for t in self.trees_:
            out += tree_proba(t, x)
        return out / len(self.trees_)

    def _detail_matrix(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        proba = self._proba(x)
        order = np.argsort(-proba, axis=1, kind="stable")
        lab = self.tree_classes_[proba.argmax(1)]
        rows = np.arange(len(x))
        alt = (
            np.where(proba[rows, order[:, 1]] > 0, self.tree_classes_[order[:, 1]], -1)
            if proba.shape[1] > 1
            else np.full(len(x), -1)
        )
        dist = np.sqrt(sq_distances(x, self.centers_)[rows, lab]).astype(np.float64)
        return lab, proba.max(1), alt.astype(np.int64), dist, None

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {"centers": np.asarray(self.centers_), "tree_classes": self.tree_classes_}
        for i, t in enumerate(self.trees_):
            arrays.update({f"tree{i}.{k}": v for k, v in t.items()})
        meta = {"n_trees": len(self.trees_), "classes": [str(c) for c in self.classes_]}
        return meta, arrays

    def _load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._load_state(meta, arrays)
        self.tree_classes_ = np.asarray(arrays["tree_classes"], dtype=np.int64)
        self.classes_ = np.array(meta["classes"])
        self.trees_ = [
            {k: np.asarray(arrays[f"tree{i}.{k}"]) for k in _TREE_FIELDS}
            for i in range(int(meta["n_trees"]))
        ]


_TREE_FIELDS = ("children_left", "children_right", "feature", "threshold", "value")


def tree_arrays(tree: Any) -> dict[str, np.ndarray]:
    """The arrays of a fitted sklearn tree that prediction needs (no pickle)."""
    t = tree.tree_
    value = np.asarray(t.value[:, 0, :], dtype=np.float64)
    value = value / np.maximum(value.sum(1, keepdims=True), 1e-300)
    return {
        "children_left": np.asarray(t.children_left, dtype=np.int64),
        "children_right": np.asarray(t.children_right, dtype=np.int64),
        "feature": np.asarray(t.feature, dtype=np.int64),
        "threshold": np.asarray(t.threshold, dtype=np.float64),
        "value": value,
    }


def tree_proba(t: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class shares of the leaf each row falls in (sklearn's rule: left when ``x <= t``)."""
    x = np.asarray(x, dtype=np.float32)
    node = np.zeros(len(x), dtype=np.int64)
    left, right = t["children_left"], t["children_right"]
    active = np.flatnonzero(left[node] >= 0)
    while len(active):
        n = node[active]
        go_left = x[active, t["feature"][n]] <= t["threshold"][n]
        node[active] = np.where(go_left, left[n], right[n])
        active = active[left[node[active]] >= 0]
    out: np.ndarray = t["value"][node]
    return out


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
