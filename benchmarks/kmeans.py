"""k-means benchmarks for issue 5.

1. FAISS k-means on 1,000,000 x 384 float32 vectors with k=50 (target <= 60 s on 2 cores):
   fit (FAISS samples max_points_per_centroid=256 points per centroid) + assignment of every
   row with its strength, through the same ``KMeansSegmenter`` users call.
2. The auto-k sweep (k=2..12, silhouette + bootstrap stability) on 100,000 users.

Data: Gaussian blobs with planted centres (so the chosen k can be checked).

    .venv/bin/python benchmarks/kmeans.py            # both
    .venv/bin/python benchmarks/kmeans.py --only big # just the 1M run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np


def blobs(n: int, d: int, k: int, seed: int, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d), dtype=np.float32) * 4.0 / np.sqrt(d) * np.sqrt(d / 8)
    truth = rng.integers(0, k, n)
    x = rng.standard_normal((n, d), dtype=np.float32) * spread
    x += centres[truth]
    return x, truth


def run_big(n: int, d: int, k: int) -> dict:
    from sklearn.metrics import adjusted_rand_score

    from segrec.segment import KMeansSegmenter

    x, truth = blobs(n, d, k, seed=0)
    t0 = time.perf_counter()
    seg = KMeansSegmenter(k=k, backend="faiss", n_init=1, random_state=0, quality_sample=2000)
    s = seg.fit(x)
    wall = time.perf_counter() - t0
    sub = np.random.default_rng(1).choice(n, 100_000, replace=False)
    return {
        "task": f"faiss k-means {n:,} x {d}, k={k} (fit + assign + quality)",
        "seconds": round(wall, 2),
        "segments": int(s.k),
        "ari_vs_planted_100k_sample": round(
            float(adjusted_rand_score(truth[sub], s.labels[sub])), 4
        ),
    }


def run_sweep(n: int, d: int, k: int) -> dict:
    from sklearn.metrics import adjusted_rand_score

    from segrec.segment import KMeansSegmenter

    x, truth = blobs(n, d, k, seed=2, spread=1.0)
    t0 = time.perf_counter()
    s = KMeansSegmenter(k="auto", k_min=2, k_max=12, random_state=0).fit(x)
    wall = time.perf_counter() - t0
    return {
        "task": f"auto-k sweep k=2..12 on {n:,} x {d} (planted k={k}), then final fit",
        "seconds": round(wall, 2),
        "k_selected": int(s.quality["k_selected"]),
        "ari_vs_planted": round(float(adjusted_rand_score(truth, s.labels)), 4),
        "backend": s.meta.get("backend"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["big", "sweep"], default=None)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--sweep-n", type=int, default=100_000)
    args = ap.parse_args()
    info = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg(),
    }
    out = [info]
    if args.only in (None, "big"):
        out.append(run_big(args.n, 384, 50))
    if args.only in (None, "sweep"):
        out.append(run_sweep(args.sweep_n, 384, 8))
    info["load_avg_at_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
