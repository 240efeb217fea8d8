"""Build every segmentation the evaluation compares, from one training-period dataset.

``random``, ``rfm`` (classic quantile RFM), ``behavior`` (truncated SVD of the training history +
k-means) and ``demographic`` (user attribute columns) need nothing but the dataset. ``text``,
``graph``, ``fused`` and ``gnn`` use the user features and segmenters of :mod:`segrec.features`
and :mod:`segrec.segment`; when a component is unavailable the segmentation is skipped and the
reason recorded, never replaced by something else under the same name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import Dataset
from segrec.evaluate._assigners import (
    SEGMENTATIONS,
    BehaviorAssigner,
    FeatureAssigner,
    RandomAssigner,
    RFMAssigner,
)
from segrec.evaluate._demographic import demographic, fit_demographic
from segrec.features import UserFeatures
from segrec.segment import Segmentation

if TYPE_CHECKING:
    from segrec.evaluate._config import EvalConfig

__all__ = [
    "SEGMENTATIONS",
    "PhaseArtifacts",
    "behavior_svd",
    "build_segmentation",
    "classic_rfm",
    "demographic",
    "pick_segmentation",
    "search_k",
]

_log = logging.getLogger(__name__)


@dataclass
class PhaseArtifacts:
    """What one training period yields: features, item vectors, segmentations, skip reasons,
    and ``assigners``: for each segmentation, the fitted rule that assigns any user
    (``predict_detail(features, users)``, ``to_state()``; see :mod:`segrec.evaluate._assigners`)."""

    dataset: Dataset
    features: UserFeatures | None = None
    item_vectors: pd.DataFrame | None = None
    user_text: pd.DataFrame | None = None
    segmentations: dict[str, Segmentation] = field(default_factory=dict)
    assigners: dict[str, Any] = field(default_factory=dict)
    #: the fitted UserFeaturizer that made ``features`` (None when none were built)
    featurizer: Any = None
    skipped: dict[str, str] = field(default_factory=dict)
    behavior_x: np.ndarray | None = None  # users-with-history x d SVD space (quality reference)
    behavior_users: pd.Index | None = None
    behavior_fold: dict[str, np.ndarray] | None = None  # item ids, idf, SVD components


def _active_users(ds: Dataset) -> tuple[pd.Index, sp.csr_matrix]:
    m = ds.interaction_matrix("binary").tocsr()
    rows = np.flatnonzero(np.diff(m.indptr) > 0)
    return pd.Index(ds.user_ids[rows], name="user_id"), m[rows]


def behavior_svd(ds: Dataset, dim: int = 32, random_state: int = 0) -> tuple[pd.Index, np.ndarray]:
    """L2-normalised truncated SVD of the (tf-idf weighted) user x item training matrix."""
    users, z, _ = _behavior_fit(ds, dim, random_state)
    return users, z


def _behavior_fit(
    ds: Dataset, dim: int, random_state: int
) -> tuple[pd.Index, np.ndarray, dict[str, np.ndarray]]:
    """``behavior_svd`` and what folds a new user in: item ids, idf, SVD components."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    users, m = _active_users(ds)
    tfidf = TfidfTransformer()
    x = tfidf.fit_transform(m)
    d = max(2, min(dim, min(x.shape) - 1))
    svd = TruncatedSVD(d, random_state=random_state)
    z = svd.fit_transform(x)
    parts = {
        "item_ids": np.asarray(ds.item_ids, dtype=str),
        "idf": tfidf.idf_,
        "components": svd.components_,
    }
    return users, normalize(z).astype(np.float32), parts


def _kmeans(
    x: np.ndarray, users: pd.Index, k: int | None, random_state: int, name: str
) -> Segmentation:
    try:
        from segrec.segment import get_segmenter

        kw: dict[str, Any] = {"random_state": random_state}
        if k is not None:
            kw["k"] = k
        seg = get_segmenter("kmeans", **kw).fit(x)
        return Segmentation(users, seg.labels, seg.strength, name, seg.centers, quality=seg.quality)
    except ImportError:
        from sklearn.cluster import KMeans

        from segrec._threads import reproducible_threads

        with reproducible_threads():
            km = KMeans(k or 8, n_init=4, random_state=random_state).fit(x)
        return Segmentation(users, km.labels_, np.ones(len(users)), name, km.cluster_centers_)


def _random(users: pd.Index, k: int, random_state: int) -> Segmentation:
    """Uniform segments from a seeded hash of each user id: a user's segment depends on the
    seed and the id only, not on which other users the period holds."""
    labels = RandomAssigner(k, random_state).labels(users)
    return Segmentation(users, labels, np.ones(len(users)), "random")


def classic_rfm(ds: Dataset) -> Segmentation:
    """Classic quantile RFM: 1-5 quantile scores and the usual named R x F cells (Champions,
    Loyal Customers, At Risk, ...), from :func:`segrec.features.rfm_segments`."""
    from segrec.features import rfm_scores, rfm_segments

    named = rfm_segments(rfm_scores(ds))
    cats = sorted(named.unique())
    labels = pd.Categorical(named.to_numpy(), categories=cats).codes.astype(np.int64)
    return Segmentation(
        pd.Index(named.index.astype(str), name="user_id"),
        labels,
        np.ones(len(labels)),
        "rfm",
        names=dict(enumerate(cats)),
    )


class _Skip(Exception):
    """A segmentation this dataset cannot have; the message is the reason the run reports."""


def _from_features(
    name: str, feats: UserFeatures, ds: Dataset, random_state: int, params: dict[str, Any]
) -> tuple[Segmentation, Any]:
    from segrec.segment import get_segmenter

    blocks = {"text": ["text"], "graph": ["graph"], "fused": None}.get(name)
    missing = [b for b in blocks or [] if b not in feats.blocks]
    if missing == ["text"] and len(ds.texts) == 0:
        raise _Skip("the dataset has no user-written text (reviews, tags or comments)")
    if missing:
        raise _Skip(f"the user features have no {missing} block (they have {sorted(feats.blocks)})")
    algo = "gnn" if name == "gnn" else params.pop("segmenter", "kmeans")
    kw = {"random_state": random_state, **params}
    if blocks is not None and algo != "gnn":
        kw["blocks"] = blocks
    segmenter = get_segmenter(algo, **kw)
    seg = segmenter.fit(feats, dataset=ds)
    return seg, FeatureAssigner(name, segmenter)


def build_segmentation(
    name: str,
    art: PhaseArtifacts,
    random_state: int = 0,
    k_random: int = 8,
    params: dict[str, Any] | None = None,
) -> Segmentation | None:
    """Segmentation ``name`` of the users of ``art.dataset``; ``None`` (with the reason in
    ``art.skipped``) when it cannot be built for this dataset. The fitted rule that made it
    is kept in ``art.assigners[name]``."""
    try:
        seg, assigner = _build(name, art, random_state, k_random, dict(params or {}))
    except _Skip as exc:
        art.skipped[name] = str(exc)
        return None
    except (ImportError, KeyError) as exc:
        art.skipped[name] = f"{type(exc).__name__}: {exc}"
        _log.info("segmentation %r skipped: %s", name, exc)  # the run warns once, at the end
        return None
    if seg is not None:
        art.assigners[name] = assigner
    return seg


def _build(
    name: str, art: PhaseArtifacts, random_state: int, k_random: int, params: dict[str, Any]
) -> tuple[Segmentation | None, Any]:
    ds = art.dataset
    if name == "random":
        users, _ = _active_users(ds)
        return _random(users, k_random, random_state), RandomAssigner(k_random, random_state)
    if name == "rfm":
        seg = classic_rfm(ds)
        return seg, RFMAssigner.fit(ds, [seg.names[i] for i in range(len(seg.names))])
    if name == "behavior":
        if art.behavior_x is None or art.behavior_fold is None:
            art.behavior_users, art.behavior_x, art.behavior_fold = _behavior_fit(
                ds, 32, random_state
            )
        assert art.behavior_users is not None
        seg = _kmeans(art.behavior_x, art.behavior_users, params.get("k"), random_state, "behavior")
        f = art.behavior_fold
        assert seg.centers is not None
        return seg, BehaviorAssigner(f["item_ids"], f["idf"], f["components"], seg.centers)
    if name == "demographic":
        demo, assigner = fit_demographic(ds)
        if demo is None:
            raise _Skip("the users table has no attribute columns")
        return demo, assigner
    if art.features is None:
        raise _Skip("user features are unavailable")
    return _from_features(name, art.features, ds, random_state, params)


def search_k(
    cfg: EvalConfig,
    tune: PhaseArtifacts,
    fit: Callable[[Segmentation], Any],
    score: Callable[[Any], float],
) -> dict[str, dict[str, Any]]:
    """Pick k for the clustered segmentations (``cfg.segment_k_for``) among the first
    ``budget`` of ``cfg.segment_k`` by validation NDCG@k of ``segment_pop`` (default
    shrinkage) on the tuning period; the chosen segmentation replaces the tuning one.
    ``fit`` returns a ``segment_pop`` fitted on the tuning period with a segmentation and
    ``score`` its validation NDCG@k."""
    out: dict[str, dict[str, Any]] = {}
    for s in cfg.segment_k_for:
        base = dict(cfg.segmentation_params.get(s) or {})
        if s not in tune.segmentations or "k" in base:
            continue
        trials: list[tuple[Any, float, Segmentation]] = []
        auto_assigner = tune.assigners.get(s)
        assigners: list[Any] = []
        for k in cfg.segment_k[: cfg.budget]:
            if k == "auto":
                seg: Segmentation | None = tune.segmentations[s]
                assigner = auto_assigner
            else:
                seg = build_segmentation(s, tune, cfg.random_state, cfg.k_random, {**base, "k": k})
                assigner = tune.assigners.get(s)
            if seg is None:
                continue
            trials.append((k, score(fit(seg)), seg))
            assigners.append(assigner)
        if not trials:
            continue
        best = max(range(len(trials)), key=lambda i: (trials[i][1], -i))
        tune.segmentations[s] = trials[best][2]
        tune.assigners[s] = assigners[best]
        out[s] = {
            "k": trials[best][0],
            "n_segments_tuning": int(trials[best][2].k),
            "candidates": [
                {"k": k, "n_segments": int(g.k), f"val_ndcg@{cfg.k}": v} for k, v, g in trials
            ],
        }
        _log.info("segment k for %s: %s", s, out[s])
    return out


def pick_segmentation(
    cfg: EvalConfig,
    built: Mapping[str, Segmentation],
    runs: Mapping[str, Any] | None = None,
) -> str | None:
    """``cfg.hybrid_segmentation``; else the built segmentation (``random`` excluded) whose
    ``segment_pop`` had the best validation NDCG; else the first of the preference list."""
    if cfg.hybrid_segmentation is not None:
        return cfg.hybrid_segmentation if cfg.hybrid_segmentation in built else None
    col = f"val_ndcg@{cfg.k}"
    scored = {
        s: runs[f"segment_pop:{s}"].summary.get(col)
        for s in built
        if s != "random" and runs is not None and f"segment_pop:{s}" in runs
    }
    scored = {s: v for s, v in scored.items() if v is not None and np.isfinite(v)}
    if scored:
        return max(scored, key=lambda s: (scored[s], -list(built).index(s)))
    return next((s for s in cfg.segmentation_preference if s in built), None)
