"""Which way of segmenting helps most: per-segmentation table, fairness and significance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segrec.evaluate._stats import bootstrap_ci, holm, paired_test

if TYPE_CHECKING:
    from segrec.evaluate._config import EvalConfig
    from segrec.evaluate._protocol import EvalSplit
    from segrec.evaluate._result import MethodRun
    from segrec.evaluate._segmentations import PhaseArtifacts
    from segrec.segment import Segmentation

__all__ = [
    "compare_segmentations",
    "fairness",
    "per_segment",
    "refresh_stability",
    "significance",
]


def per_segment(
    per_user: pd.DataFrame,
    seg: Segmentation,
    metric: str,
    min_users: int = 1,
    n_boot: int = 0,
    random_state: int = 0,
) -> pd.DataFrame:
    """Mean ``metric`` per segment over the test users (users the segmentation does not cover
    form segment -1). Columns: segment, name, n, mean, and with ``n_boot`` > 0 the bootstrap
    95% interval of each segment's mean (``lo``, ``hi``; its users resampled)."""
    lab = seg.series().reindex(per_user.index).fillna(-1).astype(int)
    g = per_user[metric].groupby(lab.to_numpy())
    df = pd.DataFrame({"n": g.size(), "mean": g.mean()}).rename_axis("segment").reset_index()
    if n_boot > 0:
        cis = [bootstrap_ci(v.to_numpy(), n_boot, random_state=random_state) for _, v in g]
        df["lo"], df["hi"] = [c[0] for c in cis], [c[1] for c in cis]
    df["name"] = [
        seg.names.get(int(s), f"segment {s}") if s >= 0 else "unassigned" for s in df.segment
    ]
    return df[df.n >= min_users].reset_index(drop=True)


def fairness(table: pd.DataFrame) -> dict[str, Any]:
    """Gap of the per-segment means: ``max - min`` and ``min / max`` (segments in ``table``)."""
    t = table[table.segment >= 0]
    if len(t) < 2:
        return {"gap": None, "ratio": None, "n_segments": len(t)}
    lo, hi = float(t["mean"].min()), float(t["mean"].max())
    return {
        "gap": hi - lo,
        "ratio": lo / hi if hi > 0 else None,
        "min": lo,
        "max": hi,
        "n_segments": len(t),
        "worst": str(t["name"].to_numpy()[int(np.argmin(t["mean"].to_numpy()))]),
        "best": str(t["name"].to_numpy()[int(np.argmax(t["mean"].to_numpy()))]),
    }


def _quality(seg: Segmentation, art: PhaseArtifacts, random_state: int) -> dict[str, Any]:
    q = {k: v for k, v in seg.quality.items() if isinstance(v, int | float | str | bool)}
    # one common space for every segmentation: the SVD of the training history
    if art.behavior_x is None:
        from segrec.evaluate._segmentations import behavior_svd

        art.behavior_users, art.behavior_x = behavior_svd(art.dataset, random_state=random_state)
    assert art.behavior_users is not None
    lab = seg.series().reindex(art.behavior_users)
    ok = lab.notna().to_numpy()
    labels = lab[ok].astype(int).to_numpy()
    if ok.sum() > 2 and len(np.unique(labels)) > 1:
        from sklearn.metrics import silhouette_score

        q["silhouette_behavior"] = float(
            silhouette_score(
                art.behavior_x[ok],
                labels,
                sample_size=min(3000, int(ok.sum())),
                random_state=random_state,
            )
        )
    return q


def refresh_stability(before: Segmentation, after: Segmentation) -> dict[str, Any]:
    """How far segments survive a data refresh: the adjusted Rand index between the labels a
    method gave on an earlier period and on a later one, over the users segmented in both.

    1 means the same partition (segment ids may be renamed), about 0 means no more agreement
    than chance. Empty when fewer than two users are in both.
    """
    from sklearn.metrics import adjusted_rand_score

    a, b = before.series(), after.series()
    common = a.index.intersection(b.index)
    if len(common) < 2:
        return {}
    return {
        "stability_refresh": float(adjusted_rand_score(a[common], b[common])),
        "stability_refresh_users": len(common),
    }


def _truth_agreement(seg: Segmentation, truth: pd.Series | None) -> dict[str, Any]:
    """ARI/NMI against ground-truth labels (the synthetic personas) when the dataset has them."""
    if truth is None:
        return {}
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    t = truth.reindex(seg.user_ids.astype(str))
    ok = t.notna().to_numpy()
    if ok.sum() < 2:
        return {}
    lab, ref = seg.labels[ok], t.to_numpy()[ok].astype(str)
    return {
        "ari_truth": float(adjusted_rand_score(ref, lab)),
        "nmi_truth": float(normalized_mutual_info_score(ref, lab)),
    }


def compare_segmentations(
    split: EvalSplit,
    final: PhaseArtifacts,
    runs: Mapping[str, MethodRun],
    cfg: EvalConfig,
    tune: PhaseArtifacts | None = None,
) -> dict[str, dict[str, Any]]:
    """For each segmentation: k, sizes, quality, coverage of test users, and per segment-aware
    method its NDCG@k (with CI), per-segment NDCG and the fairness gap.

    ``stability`` is :func:`refresh_stability` between the segmentation built on the tuning
    period (``tune``) and the final one; without ``tune``, the segmenter's own bootstrap
    stability when it measured one."""
    k = cfg.k
    metric = f"ndcg@{k}"
    test_users = split.test_users
    out: dict[str, dict[str, Any]] = {}
    for name, seg in final.segmentations.items():
        covered = seg.series().reindex(test_users).notna().to_numpy()
        q = _quality(seg, final, cfg.random_state)
        if tune is not None and name in tune.segmentations:
            q.update(refresh_stability(tune.segmentations[name], seg))
        row: dict[str, Any] = {
            "k": int(seg.k),
            "method": seg.method,
            "silhouette": q.get("silhouette", q.get("silhouette_behavior")),
            "stability": q.get("stability_refresh", q.get("stability")),
            "quality": q,
            "sizes": [int(v) for v in seg.sizes().to_numpy()],
            "names": {int(s): str(n) for s, n in seg.names.items()},
            "test_user_coverage": float(covered.mean()) if len(covered) else None,
        }
        row.update(_truth_agreement(seg, final.dataset.truth))
        for m in cfg.segment_methods:
            run = runs.get(f"{m}:{name}")
            if run is None:
                continue
            table = per_segment(
                run.per_user, seg, metric, cfg.min_segment_users, cfg.n_bootstrap, cfg.random_state
            )
            row[m] = {
                metric: run.summary.get(metric),
                f"{metric}_ci": run.summary.get(f"{metric}_ci"),
                f"{metric}_cold": run.summary.get(f"{metric}_cold"),
                f"{metric}_warm": run.summary.get(f"{metric}_warm"),
                "per_segment": [
                    {
                        "segment": int(r["segment"]),
                        "name": str(r["name"]),
                        "n": int(r["n"]),
                        metric: float(r["mean"]),
                        f"{metric}_ci": [float(r["lo"]), float(r["hi"])],
                    }
                    for _, r in table.iterrows()
                ],
                "fairness": fairness(table),
            }
        out[name] = row
    return out


def _best(
    runs: Mapping[str, MethodRun], names: list[str], col: str, mask: np.ndarray | None
) -> str | None:
    best, score = None, -np.inf
    for n in names:
        if n not in runs:
            continue
        v = runs[n].per_user[col].to_numpy()
        s = float(v[mask].mean()) if mask is not None and mask.any() else float(v.mean())
        if s > score:
            best, score = n, s
    return best


def significance(
    runs: Mapping[str, MethodRun], cfg: EvalConfig, cold: np.ndarray
) -> dict[str, Any]:
    """Paired tests on per-user NDCG@k: hybrid vs the best baseline (all users and cold users),
    and segment popularity on text/fused segments vs rfm and random segments; each with its
    bootstrap p-value Holm-adjusted over the run's comparisons (``p_bootstrap_holm``)."""
    col = f"ndcg@{cfg.k}"
    out: dict[str, Any] = {"metric": col, "test": "paired bootstrap + Wilcoxon signed-rank"}
    cold = np.asarray(cold, dtype=bool)

    def test(a: str, b: str, mask: np.ndarray | None = None) -> dict[str, Any]:
        x = runs[a].per_user[col].to_numpy()
        y = runs[b].per_user[col].to_numpy()
        if mask is not None:
            x, y = x[mask], y[mask]
        res = paired_test(x, y, cfg.n_bootstrap, random_state=cfg.random_state)
        return {"a": a, "b": b, **res}

    base = [b for b in cfg.baselines if b in runs]
    best = _best(runs, base, col, None)
    best_cold = _best(runs, base, col, cold)
    out["best_baseline"] = best
    out["best_baseline_cold"] = best_cold
    if "hybrid" in runs and best is not None:
        out["hybrid_vs_best_baseline"] = test("hybrid", best)
    if "hybrid" in runs and best_cold is not None and cold.any():
        out["hybrid_vs_best_baseline_cold"] = test("hybrid", best_cold, cold)
    for a in ("text", "fused"):
        for b in ("rfm", "random"):
            ka, kb = f"segment_pop:{a}", f"segment_pop:{b}"
            if ka in runs and kb in runs:
                out[f"{ka}_vs_{kb}"] = test(ka, kb)
    # several comparisons in one run: Holm's correction keeps the chance of any false
    # "significant" under 5% across them
    tests = [v for v in out.values() if isinstance(v, dict)]
    for t, adj in zip(tests, holm([t.get("p_bootstrap") for t in tests]), strict=True):
        t["p_bootstrap_holm"] = adj
    return out
