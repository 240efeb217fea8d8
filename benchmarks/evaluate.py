"""The evaluation benchmark of issue 6: ``run_evaluation`` on Amazon MI and Last.fm (../shared).

Settings as recorded in ``benchmarks/eval_results.md``: protocol v1, default methods, grids and
validation budget; Last.fm keeps its tag assignments (``events=["tag"]``: play counts carry no
time). ``--light`` uses the TF-IDF+SVD text backend and no graph/gnn segmentations (the setting
of the earlier measurements). Prints, per dataset, NDCG@10 overall/cold for every method,
segment_pop per segmentation, hybrid vs the best baseline (CI, p) and the runtime per stage.

    .venv/bin/python benchmarks/evaluate.py                 # both datasets, default settings
    .venv/bin/python benchmarks/evaluate.py --only lastfm --light --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(os.environ.get("SEGREC_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATASETS: dict[str, tuple[str, dict[str, Any]]] = {
    "amazon": ("amazon:{root}/datasets/amazon2014-musical-instruments-5core", {}),
    "lastfm": ("lastfm-hetrec:{root}/datasets/hetrec2011-lastfm-2k", {"events": ["tag"]}),
}
LIGHT: dict[str, Any] = {
    "features": {"embedder": {"backend": "tfidf-svd"}},
    "graph": None,
    "segmentations": ["random", "rfm", "behavior", "text", "fused", "demographic"],
}
BASELINES = ("pop", "itemknn", "als", "bpr", "ease", "lightgcn")


def _f(x: Any) -> str:
    return "-" if x is None else f"{x:.4f}"


def summarize(name: str, res: Any, seconds: float) -> dict[str, Any]:
    m = res.methods
    rows = {
        k: {"ndcg@10": v.get("ndcg@10"), "cold": v.get("ndcg@10_cold"), "s": v.get("seconds")}
        for k, v in m.items()
    }
    base = [b for b in BASELINES if b in m]
    best = max(base, key=lambda b: m[b]["ndcg@10"]) if base else None
    best_cold = max(base, key=lambda b: m[b]["ndcg@10_cold"] or 0.0) if base else None
    out: dict[str, Any] = {
        "dataset": name,
        "n_test_users": res.dataset.get("n_test_users"),
        "n_cold_users": res.dataset.get("n_cold_users"),
        "methods": rows,
        "best_baseline": best,
        "best_cold_baseline": best_cold,
        "hybrid_segmentation": res.protocol.get("hybrid_segmentation"),
        "segment_k": res.protocol.get("segment_k"),
        "significance": {
            k: {q: v.get(q) for q in ("mean_a", "mean_b", "diff_ci", "p_bootstrap", "p_wilcoxon")}
            for k, v in res.significance.items()
            if isinstance(v, dict)
        },
        "timings_s": res.protocol.get("timings_s"),
        "wall_s": round(seconds, 1),
        "skipped": res.protocol.get("skipped"),
    }
    if "hybrid" in m and best:
        h = m["hybrid"]
        out["hybrid_vs_best"] = h["ndcg@10"] / m[best]["ndcg@10"]
        out["hybrid_cold_vs_best_cold"] = (h["ndcg@10_cold"] or 0.0) / (
            m[best_cold]["ndcg@10_cold"] or float("nan")
        )
    return out


def show(s: dict[str, Any]) -> None:
    print(f"== {s['dataset']}: {s['n_test_users']} test users ({s['n_cold_users']} cold)")
    print(f"{'method':24s} {'ndcg@10':>8s} {'cold':>8s} {'seconds':>8s}")
    for k, v in sorted(s["methods"].items(), key=lambda kv: -(kv[1]["ndcg@10"] or 0.0)):
        print(f"{k:24s} {_f(v['ndcg@10']):>8s} {_f(v['cold']):>8s} {v['s'] or 0:8.1f}")
    print(f"best baseline {s['best_baseline']}, best cold baseline {s['best_cold_baseline']}")
    if "hybrid_vs_best" in s:
        print(
            f"hybrid / best = {s['hybrid_vs_best']:.3f}; "
            f"cold hybrid / best cold = {s['hybrid_cold_vs_best_cold']:.3f}"
        )
    print("hybrid segmentation:", s["hybrid_segmentation"], "segment k:", s["segment_k"])
    for k, v in s["significance"].items():
        ci = v["diff_ci"] or [float("nan")] * 2
        print(
            f"{k}: {_f(v['mean_a'])} vs {_f(v['mean_b'])}, diff CI [{ci[0]:.4f}, {ci[1]:.4f}],"
            f" p_boot {v['p_bootstrap']}, p_wilcoxon {_f(v['p_wilcoxon'])}"
        )
    print("timings:", s["timings_s"], "wall", s["wall_s"], "skipped:", s["skipped"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(DATASETS))
    ap.add_argument("--light", action="store_true", help="tfidf-svd text, no graph/gnn")
    ap.add_argument("--json", type=Path, help="write the summaries here")
    args = ap.parse_args()
    if not (SHARED / "datasets").is_dir():
        print(f"skipped: {SHARED / 'datasets'} not found (set SEGREC_SHARED)")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from segrec.data import load_dataset
    from segrec.evaluate import EvalConfig, run_evaluation

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    out = []
    for name, (spec, extra) in DATASETS.items():
        if args.only and name != args.only:
            continue
        t = time.perf_counter()
        ds, _ = load_dataset(spec.format(root=SHARED))
        cfg = EvalConfig(**{**extra, **(LIGHT if args.light else {})})
        res = run_evaluation(ds, cfg)
        s = summarize(name, res, time.perf_counter() - t)
        show(s)
        out.append(s)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
