"""Explanations: a decision-tree surrogate on interpretable features.

The surrogate learns to predict each user's segment from readable columns (recency, spend,
category shares, ...). Its leaves become rules per segment ("frequency > 12 and price_level <=
80"), each with precision and coverage; ``fidelity`` is how often the surrogate agrees with the
real segmentation on users it did not train on, so a reader knows how far to trust the rules.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

__all__ = ["RulesConfig", "SegmentRules"]


class RulesConfig(BaseModel):
    max_depth: int = Field(4, ge=1, le=10)
    min_leaf_share: float = Field(0.01, gt=0, lt=0.5)
    rules_per_segment: int = Field(3, ge=1)
    random_state: int = 0


def _fmt(v: float) -> str:
    """A threshold as a person writes it, never in exponent form: 3 significant digits, or one
    decimal from 1000 up (1079.5, not 1.08e+03, which also moved the cut)."""
    r = round(v, 1) if abs(v) >= 1000 else float(f"{v:.3g}")
    return np.format_float_positional(r, trim="-")


class SegmentRules:
    """Fit with :meth:`fit`; read ``rules_`` and ``fidelity_``; explain a user with :meth:`explain`."""

    def __init__(self, config: RulesConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else RulesConfig(**kwargs)

    def fit(self, table: pd.DataFrame, labels: pd.Series) -> SegmentRules:
        """``table``: users x interpretable features (index user_id); ``labels``: user -> segment."""
        from sklearn.model_selection import train_test_split
        from sklearn.tree import DecisionTreeClassifier

        x = table.astype(float).fillna(table.median(numeric_only=True)).fillna(0.0)
        y = labels.reindex(x.index).to_numpy()
        cfg = self.config
        leaf = max(2, int(cfg.min_leaf_share * len(x)))

        def tree() -> DecisionTreeClassifier:
            return DecisionTreeClassifier(
                max_depth=cfg.max_depth, min_samples_leaf=leaf, random_state=cfg.random_state
            )

        counts = pd.Series(y).value_counts()
        strat = y if len(x) >= 40 and counts.min() >= 2 else None
        xtr, xte, ytr, yte = train_test_split(
            x, y, test_size=0.25, random_state=cfg.random_state, stratify=strat
        )
        self.fidelity_ = float((tree().fit(xtr, ytr).predict(xte) == yte).mean())
        self.tree_ = tree().fit(x, y)
        pred = self.tree_.predict(x)
        self.train_fidelity_ = float((pred == y).mean())
        self.columns_ = list(x.columns)
        self.mean_ = x.mean()
        self.std_ = x.std().replace(0, 1.0).fillna(1.0)
        self.segment_mean_ = x.groupby(y).mean()
        self.rules_ = self._rules(x, y, pred)
        return self

    def _path(self, node_ids: np.ndarray) -> list[str]:
        t = self.tree_.tree_
        bounds: dict[str, list[float]] = {}
        for parent, child in itertools.pairwise(node_ids):
            f = self.columns_[t.feature[parent]]
            thr = float(t.threshold[parent])
            lo, hi = bounds.get(f, [-np.inf, np.inf])
            if child == t.children_left[parent]:
                hi = min(hi, thr)
            else:
                lo = max(lo, thr)
            bounds[f] = [lo, hi]
        out = []
        for f, (lo, hi) in bounds.items():
            if np.isfinite(lo) and np.isfinite(hi):
                out.append(f"{_fmt(lo)} < {f} <= {_fmt(hi)}")
            elif np.isfinite(lo):
                out.append(f"{f} > {_fmt(lo)}")
            else:
                out.append(f"{f} <= {_fmt(hi)}")
        return out

    def _leaf_paths(self) -> dict[int, list[int]]:
        t = self.tree_.tree_
        paths: dict[int, list[int]] = {}

        def walk(node: int, path: list[int]) -> None:
            if t.children_left[node] == -1:
                paths[node] = [*path, node]
                return
            walk(int(t.children_left[node]), [*path, node])
            walk(int(t.children_right[node]), [*path, node])

        walk(0, [])
        return paths

    def _rules(self, x: pd.DataFrame, y: np.ndarray, pred: np.ndarray) -> dict[int, dict[str, Any]]:
        leaves = self.tree_.apply(x)
        paths = self._leaf_paths()
        out: dict[int, dict[str, Any]] = {}
        for seg in np.unique(y):
            members = y == seg
            rules = []
            for leaf, path in paths.items():
                in_leaf = leaves == leaf
                if not in_leaf.any() or pred[in_leaf][0] != seg:
                    continue
                rules.append(
                    {
                        "if": " and ".join(self._path(np.asarray(path))) or "always",
                        "precision": float(members[in_leaf].mean()),
                        "coverage": float((in_leaf & members).sum() / max(members.sum(), 1)),
                    }
                )
            rules.sort(key=lambda r: -float(r["coverage"]))  # type: ignore[arg-type]
            hit = pred == seg
            out[int(seg)] = {
                "rules": rules[: self.config.rules_per_segment],
                "recall": float((hit & members).sum() / max(members.sum(), 1)),
                "precision": float((hit & members).sum() / max(hit.sum(), 1)),
            }
        return out

    def explain(self, row: pd.Series, segment: int, top: int = 4) -> dict[str, Any]:
        """Why ``row`` (one user's interpretable features) is in ``segment``."""
        x = row.reindex(self.columns_).astype(float).fillna(self.mean_)
        path = self.tree_.decision_path(x.to_frame().T).indices
        z = (x - self.mean_) / self.std_
        seg_dir = (
            np.sign(self.segment_mean_.loc[segment] - self.mean_)
            if (segment in self.segment_mean_.index)
            else np.sign(z)
        )
        aligned = (z * seg_dir).sort_values(ascending=False)
        feats = [
            {
                "feature": f,
                "value": float(x[f]),
                "population_mean": float(self.mean_[f]),
                "z": float(z[f]),
            }
            for f in aligned.index[:top]
            if aligned[f] > 0.25
        ]
        return {
            "segment_id": int(segment),
            "surrogate_segment": int(self.tree_.predict(x.to_frame().T)[0]),
            "rule": " and ".join(self._path(np.asarray(path))),
            "features": feats,
        }
