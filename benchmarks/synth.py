"""Benchmark: stream 1,000,000 synthetic users to Parquet part files; time and peak memory.

Run:  .venv/bin/python benchmarks/synth.py --users 1000000 --out /tmp/synth-1m
Prints one JSON object (seconds, peak RSS, rows per table, bytes on disk).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from segrec.data.synthetic import stream_to_disk


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-users", type=int, default=50_000)
    ap.add_argument("--out", type=Path, default=None, help="kept if given, else a temp dir")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="segrec-synth-"))
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    done = threading.Event()

    def sample() -> None:  # psutil sampling as a cross-check of ru_maxrss
        while not done.wait(0.2):
            peak[0] = max(peak[0], proc.memory_info().rss)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.perf_counter()
    summary = stream_to_disk(out, users=args.users, seed=args.seed, chunk_users=args.chunk_users)
    seconds = time.perf_counter() - start
    done.set()
    t.join()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss_bytes = maxrss if sys.platform == "darwin" else maxrss * 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result: dict[str, object] = {
        "benchmark": "synthetic stream_to_disk",
        "users": args.users,
        "chunk_users": args.chunk_users,
        "seconds": round(seconds, 1),
        "users_per_second": round(args.users / seconds),
        "peak_rss_mib": round(max(peak[0], maxrss_bytes) / 2**20),
        "rows": summary["rows"],
        "parts": summary["parts"],
        "disk_mib": round(size / 2**20, 1),
        "python": platform.python_version(),
        "cpus": psutil.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
