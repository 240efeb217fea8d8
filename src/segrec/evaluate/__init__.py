"""RecLists + held-out interactions -> :class:`EvalResult`: protocols, metrics, significance.

The pipeline entry point is :func:`run_evaluation`; the protocols (``v1`` global temporal split,
``llo`` leave-last-out) are in :func:`make_split`; metrics are plain functions over hit
matrices so they can be checked by hand.
"""

from segrec.evaluate._compare import compare_segmentations, fairness, per_segment, significance
from segrec.evaluate._config import DEFAULT_GRIDS, DEFAULT_METHODS, EvalConfig
from segrec.evaluate._metrics import (
    ACCURACY_METRICS,
    accuracy_metrics,
    catalog_coverage,
    hit_matrix,
    intra_list_diversity,
    list_metrics,
    novelty,
)
from segrec.evaluate._protocol import PROTOCOLS, EvalSplit, dedupe_interactions, make_split
from segrec.evaluate._result import EvalResult, MethodRun
from segrec.evaluate._run import RecommenderFactory, run_evaluation
from segrec.evaluate._scoring import ItemSpace, per_user_metrics, summarize
from segrec.evaluate._segmentations import (
    SEGMENTATIONS,
    PhaseArtifacts,
    behavior_svd,
    build_segmentation,
    classic_rfm,
    demographic,
)
from segrec.evaluate._stats import bootstrap_ci, paired_test

__all__ = [
    "ACCURACY_METRICS",
    "DEFAULT_GRIDS",
    "DEFAULT_METHODS",
    "PROTOCOLS",
    "SEGMENTATIONS",
    "EvalConfig",
    "EvalResult",
    "EvalSplit",
    "ItemSpace",
    "MethodRun",
    "PhaseArtifacts",
    "RecommenderFactory",
    "accuracy_metrics",
    "behavior_svd",
    "bootstrap_ci",
    "build_segmentation",
    "catalog_coverage",
    "classic_rfm",
    "compare_segmentations",
    "dedupe_interactions",
    "demographic",
    "fairness",
    "hit_matrix",
    "intra_list_diversity",
    "list_metrics",
    "make_split",
    "novelty",
    "paired_test",
    "per_segment",
    "per_user_metrics",
    "run_evaluation",
    "significance",
    "summarize",
]
