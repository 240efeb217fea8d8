"""Report tests reuse the evaluation helpers (planted dataset, test popularity model); ``res``
is a hand-made EvalResult (no run behind it) for the fast page tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluate"))

from segrec.evaluate import EvalResult, MethodRun

SCORES = {  # NDCG@10 per method: the variant on another segmentation scores highest of all
    "pop": 0.12,
    "ease": 0.28,
    "hybrid": 0.297,
    "segment_pop": 0.29,
    "segment_strategy": 0.30,
    "segment_pop:graph": 0.31,
    "hybrid:random": 0.25,
}


def _method(name: str, v: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ndcg@10": v,
        "ndcg@10_ci": [v - 0.02, v + 0.02],
        "ndcg@10_cold": v - 0.01,
        "ndcg@10_warm": v + 0.01,
        "ndcg@10_cold_ci": [v - 0.05, v + 0.03],
        "ndcg@10_warm_ci": [v - 0.01, v + 0.03],
        "n_users": 400,
        "n_cold": 60,
    }
    if name == "ease":
        out["params"] = {"model": "ease", "l2": 200.0, "dtype": "float32"}
        out["tuned_params"] = {"l2": 200.0}
    if name == "hybrid":
        out["params"] = {
            "model": "hybrid",
            "base": "ease",
            "base_params": {"l2": 200.0},
            "cold_weights": {"pop": 0.5, "text": 0.5},
            "soft": False,
        }
        out["tuned_params"] = {"base": "ease", "base_params": {"l2": 200.0}}
    return out


@pytest.fixture(scope="module")
def res() -> EvalResult:
    rng = np.random.default_rng(0)
    users = pd.Index([f"u{i}" for i in range(400)])
    runs = {}
    for name, v in SCORES.items():
        per_user = pd.DataFrame({"ndcg@10": np.clip(rng.normal(v, 0.1, 400), 0, 1)}, index=users)
        runs[name] = MethodRun(name, {}, per_user, None, None)  # type: ignore[arg-type]
    sig = {
        "metric": "ndcg@10",
        "hybrid_vs_best_baseline": {
            "a": "hybrid",
            "b": "ease",
            "n_users": 400,
            "mean_diff": 0.017,
            "diff_ci": [0.01, 0.02],
            "ratio": 1.06,
            "ratio_ci": [1.03, 1.09],
            "p_bootstrap": 0.001,
            "p_bootstrap_holm": 0.002,
            "p_wilcoxon": 2.3e-7,
        },
    }
    dataset = {
        "name": "synthetic",
        "n_interactions": 20122,
        "n_train": 16098,
        "n_fit": 14488,
        "n_val": 1213,
        "n_test": 2116,
        "n_test_users": 400,
        "n_cold_users": 60,
        "n_warm_users": 340,
        "n_users_total": 2000,
        "n_rows_loaded": 56280,
    }
    out = EvalResult(
        dataset=dataset,
        protocol={"name": "v1", "k": 10, "hybrid_segmentation": "behavior", "timings_s": {}},
        methods={n: _method(n, v) for n, v in SCORES.items()},
        segmentations={},
        significance=sig,
        runs=runs,
    )
    return out
