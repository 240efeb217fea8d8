"""The default ``segrec run`` on the synthetic shop at growing size: time and memory per method.

    nice -n 10 .venv/bin/python benchmarks/scale_eval.py --users 2000 --users 10000
        [--items-per-user 10] [--out /tmp/scale] [--config eval.toml] [--json scale.json]

For each ``--users N``: ``segrec -v --log-file LOG run --dataset
synthetic:users=N,n_items=10N`` in a fresh process (every default method and segmentation),
its wall time, the peak resident memory of its whole process tree (polled every 0.2 s), and
from its ``results.json`` what each method cost (``methods.<m>.cost``: seconds of tuning,
refit, scoring and metrics, and the process's peak while it ran) and which were skipped. The
text embedding cache is a fresh folder per size (``SEGREC_CACHE``), so every run embeds
its texts once, as a new user's first run would; the ONNX export of the encoder is shared.

Targets (issue 24, 2-core machine): 10,000 users x 100,000 items in <= 15 minutes and
<= 8 GB with every default method. Prints a Markdown table per size and one that shows how
the cost grows, with the load average before and after each run (the machine may be shared).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def _fresh_cache(folder: Path) -> Path:
    """An empty embedding cache that shares the exported encoder and its accuracy gate."""
    cache = folder / "cache"
    cache.mkdir(exist_ok=True)
    home = Path(os.environ.get("SEGREC_CACHE") or Path.home() / ".cache" / "segrec")
    for shared in ("onnx", "gates"):
        if (home / shared).is_dir() and not (cache / shared).exists():
            (cache / shared).symlink_to(home / shared)
    return cache


def run_one(users: int, items: int, out: Path, config: Path | None) -> dict[str, Any]:
    """One ``segrec run`` at ``users`` x ``items``; its figures."""
    folder = out / f"u{users}"
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "run.log"
    cmd = [
        sys.executable,
        "-m",
        "segrec",
        "-v",
        "--log-file",
        str(log),
        "run",
        "--dataset",
        f"synthetic:users={users},n_items={items}",
        "--out",
        str(folder / "out"),
    ]
    if config is not None:
        cmd += ["--config", str(config)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SEGREC_CACHE": str(_fresh_cache(folder))}
    load_before = os.getloadavg()
    t = time.perf_counter()
    with open(folder / "stderr.txt", "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        ps = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, _tree_rss(ps))
            time.sleep(0.2)
    wall = time.perf_counter() - t
    res_path = folder / "out" / "results.json"
    res = json.loads(res_path.read_text()) if res_path.is_file() else {}
    proto = res.get("protocol", {})
    return {
        "users": users,
        "items": items,
        "command": " ".join(cmd),
        "returncode": proc.returncode,
        "wall_s": round(wall, 1),
        "peak_gb": round(peak / 1e9, 2),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "timings_s": proto.get("timings_s", {}),
        "costs": proto.get("method_costs", {}),
        "skipped": proto.get("skipped", {}),
        "counts": res.get("dataset", {}),
    }


def _table(r: dict[str, Any]) -> str:
    rows = [
        f"### {r['users']:,} users x {r['items']:,} items: {r['wall_s'] / 60:.1f} min, "
        f"peak {r['peak_gb']:.2f} GB (exit {r['returncode']})",
        "",
        f"load average before {r['load_before']}, after {r['load_after']}; "
        f"evaluation phases (s): {r['timings_s']}",
        "",
        "| method | status | tune s | refit s | score s | metrics s | total s | peak MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m, c in sorted(r["costs"].items(), key=lambda kv: -(kv[1].get("seconds") or 0)):
        rows.append(
            f"| {m} | {c.get('status')} | {c.get('tune_seconds', '')} | "
            f"{c.get('fit_seconds', '')} | {c.get('score_seconds', '')} | "
            f"{c.get('metrics_seconds', '')} | {c.get('seconds')} | {c.get('peak_mb')} |"
        )
    for m, why in r["skipped"].items():
        if m not in r["costs"]:
            rows.append(f"| {m} | skipped: {why} | | | | | | |")
    return "\n".join(rows)


def _growth(results: list[dict[str, Any]]) -> str:
    methods = sorted({m for r in results for m in r["costs"] if ":" not in m})
    head = "| method | " + " | ".join(f"{r['users']:,} x {r['items']:,}" for r in results) + " |"
    rows = [head, "|---" * (len(results) + 1) + "|"]
    for m in methods:
        cells = [str((r["costs"].get(m) or {}).get("seconds", "-")) for r in results]
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    rows.append("| **total wall s** | " + " | ".join(str(r["wall_s"]) for r in results) + " |")
    rows.append("| **peak GB** | " + " | ".join(str(r["peak_gb"]) for r in results) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, action="append", help="repeatable; default 2000 10000")
    ap.add_argument("--items-per-user", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("/tmp/segrec-scale"))
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = []
    for n in args.users or [2000, 10000]:
        r = run_one(n, n * args.items_per_user, args.out, args.config)
        results.append(r)
        print(_table(r), "\n", flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=2))
    print("## How the cost grows (seconds per method)\n")
    print(_growth(results))


if __name__ == "__main__":
    main()
