"""Benchmark: the Spark engine at 100k / 300k / 1M synthetic users (fit and score), and the local
engine at the smallest size in the same run, for the ratio.

Run:  nice -n 10 .venv/bin/python benchmarks/spark_scale.py --users 100000 300000 \\
          --local-at 100000 --master 'local[2]' --work /tmp/segrec-spark-bench

Both engines fit the same choice without tuning (segmentation ``fused`` at k=8, the hybrid's
defaults), text with the tfidf-svd backend (64-d), no GCN graph block, and score every user
(assignment and top-10; the reason per item only with ``--reasons``, which makes scoring many
times slower on both engines) from the folder they wrote. The shop is written as Parquet part files
(``segrec data synth --stream``) and read by Spark from there. Peak memory is the resident set of
this process and all its children (the JVM and Spark's Python workers), sampled every 0.2 s,
per stage. Prints one JSON object per engine and size, and the whole list at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil

CONFIG = {
    "features": {"embedder": {"backend": "tfidf-svd", "tfidf_dim": 64}},
    "graph": None,
    "hybrid_segmentation": "fused",
    "segmentation_params": {"fused": {"k": 8}},
}


class PeakRSS:
    """Peak resident memory of this process tree while a ``with`` block runs."""

    def __init__(self) -> None:
        self.proc = psutil.Process()

    def _rss(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            with suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    @contextmanager
    def measure(self, out: dict[str, Any], label: str) -> Iterator[None]:
        peak = [self._rss()]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], self._rss())

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        start = time.perf_counter()
        try:
            yield
        finally:
            done.set()
            t.join()
            out[label] = {
                "seconds": round(time.perf_counter() - start, 1),
                "peak_rss_mib": round(peak[0] / 2**20),
            }


def _shop(work: Path, users: int) -> Path:
    from segrec.data.synthetic import stream_to_disk

    folder = work / f"shop-{users}"
    if not (folder / "meta.json").exists():
        stream_to_disk(folder, users=users, seed=0, chunk_users=50_000)
    return folder


def _run(label: str, users: int, steps: list[tuple[str, Callable[[], Any]]]) -> dict[str, Any]:
    mem = PeakRSS()
    stages: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name, step in steps:
        with mem.measure(stages, name):
            step()
    res = {
        "engine": label,
        "users": users,
        "total_seconds": round(time.perf_counter() - t0, 1),
        "stages": stages,
        "loadavg": os.getloadavg(),
    }
    print(json.dumps(res), flush=True)
    return res


def spark_run(work: Path, users: int, master: str, reasons: bool) -> dict[str, Any]:
    from segrec.engines import EngineConfig, get_engine
    from segrec.evaluate import EvalConfig

    shop = _shop(work, users)
    spec = f"generic:{shop}"
    eng: Any = get_engine(
        "spark", EngineConfig(master=master, spark_conf={"spark.driver.memory": "6g"})
    )
    model_dir = work / f"model-spark-{users}"
    box: dict[str, Any] = {}

    def fit() -> None:
        box["model"] = eng.fit_model(spec, EvalConfig(**CONFIG))
        box["model"].save(model_dir)
        box["fit_stages"] = dict(eng.seconds)

    steps = [
        ("session", lambda: eng.spark),
        ("fit", fit),
        (
            "score",
            lambda: box.update(
                score=eng.score(model_dir, spec, work / f"score-spark-{users}", 10, reasons)
            ),
        ),
    ]
    res = _run("spark", users, steps)
    res["fit_stage_seconds"] = box.get("fit_stages")
    res["score_stage_seconds"] = {k: round(v, 1) for k, v in box["score"].seconds.items()}
    eng.stop()
    return res


def local_run(work: Path, users: int, reasons: bool) -> dict[str, Any]:
    from segrec.data import load_dataset
    from segrec.engines import get_engine
    from segrec.evaluate import EvalConfig
    from segrec.model._fit import Choice, fit_chosen, serving_dataset

    shop = _shop(work, users)
    spec = f"generic:{shop}"
    cfg = EvalConfig(**CONFIG)
    model_dir = work / f"model-local-{users}"
    box: dict[str, Any] = {}

    def load() -> None:
        box["ds"] = serving_dataset(load_dataset(spec)[0], cfg)

    def fit() -> None:
        choice = Choice("fused", {"k": 8}, {}, {})
        fit_chosen(box.pop("ds"), cfg, choice).save(model_dir)

    steps = [
        ("load", load),
        ("fit", fit),
        (
            "score",
            lambda: get_engine("local").score(
                model_dir, spec, work / f"score-local-{users}", 10, reasons
            ),
        ),
    ]
    return _run("local", users, steps)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--users", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--local-at", type=int, nargs="*", default=[100_000])
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--work", type=Path, default=Path("/tmp/segrec-spark-bench"))
    ap.add_argument(
        "--reasons", action="store_true", help="score with a reason per item (slow: explain)"
    )
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SEGREC_CACHE", str(args.work / "cache"))
    out = []
    for n in args.users:
        if n in args.local_at:
            out.append(local_run(args.work, n, args.reasons))
        out.append(spark_run(args.work, n, args.master, args.reasons))
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
