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
from segrec.evaluate._config import SEGMENTATIONS
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
    """What one training period yields: features, item vectors, segmentations, skip reasons."""

    dataset: Dataset
    features: UserFeatures | None = None
    item_vectors: pd.DataFrame | None = None
    user_text: pd.DataFrame | None = None
    segmentations: dict[str, Segmentation] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    behavior_x: np.ndarray | None = None  # users-with-history x d SVD space (quality reference)
    behavior_users: pd.Index | None = None


def _active_users(ds: Dataset) -> tuple[pd.Index, sp.csr_matrix]:
    m = ds.interaction_matrix("binary").tocsr()
    rows = np.flatnonzero(np.diff(m.indptr) > 0)
    return pd.Index(ds.user_ids[rows], name="user_id"), m[rows]


def behavior_svd(ds: Dataset, dim: int = 32, random_state: int = 0) -> tuple[pd.Index, np.ndarray]:
    """L2-normalised truncated SVD of the (tf-idf weighted) user x item training matrix."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    users, m = _active_users(ds)
    x = TfidfTransformer().fit_transform(m)
    d = max(2, min(dim, min(x.shape) - 1))
    z = TruncatedSVD(d, random_state=random_state).fit_transform(x)
    return users, normalize(z).astype(np.float32)


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

        km = KMeans(k or 8, n_init=4, random_state=random_state).fit(x)
        return Segmentation(users, km.labels_, np.ones(len(users)), name, km.cluster_centers_)


def _random(users: pd.Index, k: int, random_state: int) -> Segmentation:
    """Uniform segments from a seeded hash of each user id: a user's segment depends on the
    seed and the id only, not on which other users the period holds."""
    key = f"segrec-random{random_state:03d}"[-16:]  # pandas' hash key: 16 characters
    h = pd.util.hash_array(np.asarray(users.astype(str), dtype=object), hash_key=key)
    return Segmentation(users, (h % np.uint64(k)).astype(np.int64), np.ones(len(users)), "random")


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


def demographic(ds: Dataset, max_groups: int = 12) -> Segmentation | None:
    """Groups of users sharing their attribute values (numbers cut into terciles); ``None``
    when the users table has no attribute columns."""
    attrs = [c for c in ds.users.columns if c != "user_id"]
    if not attrs or len(ds.users) == 0:
        return None
    t = ds.users.set_index(ds.users.user_id.astype(str))[attrs]
    sort_parts, parts = [], []  # per attribute: an order and a readable value per user
    for c in attrs:
        s = t[c]
        if pd.api.types.is_numeric_dtype(s) and s.nunique() > 6:
            tier = pd.qcut(s, 3, labels=False, duplicates="drop")
            span = s.groupby(tier).agg(["min", "max"])
            text = {b: f"{c} {_num(r['min'])}-{_num(r['max'])}" for b, r in span.iterrows()}
            sort_parts.append(tier.astype("string"))
            parts.append(tier.map(text).astype("string"))
        elif s.nunique() <= 6:
            sort_parts.append(s.astype("string"))
            parts.append((c + " " + s.astype("string")).astype("string"))
    if not parts:
        return None
    key, order = parts[0].fillna("?"), sort_parts[0].fillna("~")
    for p, o in zip(parts[1:], sort_parts[1:], strict=True):
        key, order = key + ", " + p.fillna("?"), order + "|" + o.fillna("~")
    counts = key.value_counts()
    keep = set(counts.index[: max_groups - 1])
    kept = key.isin(keep)
    key, order = key.where(kept, "other"), order.where(kept, "~other")
    # groups in attribute order (youngest first), the lumped rest last
    cats = list(pd.DataFrame({"k": key, "o": order}).drop_duplicates("k").sort_values("o").k)
    labels = pd.Categorical(key, categories=cats).codes.astype(np.int64)
    return Segmentation(
        pd.Index(t.index, name="user_id"),
        labels,
        np.ones(len(labels)),
        "demographic",
        names=dict(enumerate(cats)),
    )


def _num(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:.0f}"


class _Skip(Exception):
    """A segmentation this dataset cannot have; the message is the reason the run reports."""


def _from_features(
    name: str, feats: UserFeatures, ds: Dataset, random_state: int, params: dict[str, Any]
) -> Segmentation:
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
    seg = get_segmenter(algo, **kw).fit(feats, dataset=ds)
    return seg


def build_segmentation(
    name: str,
    art: PhaseArtifacts,
    random_state: int = 0,
    k_random: int = 8,
    params: dict[str, Any] | None = None,
) -> Segmentation | None:
    """Segmentation ``name`` of the users of ``art.dataset``; ``None`` (with the reason in
    ``art.skipped``) when it cannot be built for this dataset."""
    ds = art.dataset
    params = dict(params or {})
    try:
        if name == "random":
            users, _ = _active_users(ds)
            return _random(users, k_random, random_state)
        if name == "rfm":
            return classic_rfm(ds)
        if name == "behavior":
            if art.behavior_x is None:
                art.behavior_users, art.behavior_x = behavior_svd(ds, random_state=random_state)
            assert art.behavior_users is not None
            return _kmeans(
                art.behavior_x, art.behavior_users, params.get("k"), random_state, "behavior"
            )
        if name == "demographic":
            seg = demographic(ds)
            if seg is None:
                art.skipped[name] = "the users table has no attribute columns"
            return seg
        if art.features is None:
            art.skipped[name] = "user features are unavailable"
            return None
        return _from_features(name, art.features, ds, random_state, params)
    except _Skip as exc:
        art.skipped[name] = str(exc)
        return None
    except (ImportError, KeyError) as exc:
        art.skipped[name] = f"{type(exc).__name__}: {exc}"
        _log.info("segmentation %r skipped: %s", name, exc)  # the run warns once, at the end
        return None


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
        for k in cfg.segment_k[: cfg.budget]:
            if k == "auto":
                seg: Segmentation | None = tune.segmentations[s]
            else:
                seg = build_segmentation(s, tune, cfg.random_state, cfg.k_random, {**base, "k": k})
            if seg is None:
                continue
            trials.append((k, score(fit(seg)), seg))
        if not trials:
            continue
        best = max(range(len(trials)), key=lambda i: (trials[i][1], -i))
        tune.segmentations[s] = trials[best][2]
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
