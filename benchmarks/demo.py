"""``segrec demo`` from an empty cache, alone and beside CPU-bound processes (issue 23).

One run measures the same command three ways: alone, beside one busy process and beside two
(each ``python -c 'while True: pass'``, started ``--warmup`` seconds before so the load average
a newcomer's laptop shows is already there, and killed after). For each it records wall time,
CPU time, peak RSS of the segrec process, the per-stage seconds from the run's
``manifest.json``, the thread budget segrec would pick at start and the load average (start,
end, peak while running). Prints a Markdown table and writes JSON.

Targets of the issue: <= 3 minutes alone, <= 6 minutes beside one busy process, and no stage
slower than 3x its time alone.

    .venv/bin/python benchmarks/demo.py                       # segrec demo, three ways
    .venv/bin/python benchmarks/demo.py --quick               # segrec run on 300 users
    .venv/bin/python benchmarks/demo.py --users 600 --busy 0,1 --json out.json

Run it on an otherwise quiet machine: other work on the box counts as busy processes too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TARGETS = {"alone_s": 180.0, "beside_one_s": 360.0, "stage_ratio": 3.0}
BUSY_CODE = "while True: pass"


def loadavg() -> float:
    return os.getloadavg()[0]


def planned_threads(env: dict[str, str]) -> int | None:
    """The thread budget a segrec process started now would choose."""
    code = "from segrec._threads import thread_budget; print(thread_budget())"
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        return int(out.stdout.strip())
    except (ValueError, subprocess.SubprocessError):
        return None


class LoadSampler:
    """Samples the 1-minute load average every few seconds while a run is going."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(loadavg())

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_once(cmd: list[str], busy: int, warmup: float, timeout: float, log: Path) -> dict[str, Any]:
    """One measurement: ``busy`` CPU-bound processes, then ``cmd`` from an empty cache."""
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY_CODE]) for _ in range(busy)]
    try:
        if busy:
            time.sleep(warmup)
        with tempfile.TemporaryDirectory(prefix="segrec-bench-") as tmp:
            out = Path(tmp) / "out"
            env = {
                **os.environ,
                "SEGREC_CACHE": str(Path(tmp) / "cache"),  # empty cache: nothing precomputed
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            }
            threads = planned_threads(env)
            load_start = loadavg()
            t0 = time.perf_counter()
            with log.open("w") as fh, LoadSampler() as sampler:
                proc = subprocess.Popen([*cmd, "--out", str(out)], env=env, stdout=fh, stderr=fh)
                status, usage = _wait(proc, timeout)
            wall = time.perf_counter() - t0
            manifest = out / "manifest.json"
            stages = json.loads(manifest.read_text())["seconds"] if manifest.exists() else {}
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.wait()
    return {
        "busy_processes": busy,
        "returncode": status,
        "wall_s": round(wall, 1),
        "user_cpu_s": round(usage.ru_utime, 1) if usage else None,
        "sys_cpu_s": round(usage.ru_stime, 1) if usage else None,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 0) if usage else None,
        "stages_s": stages,
        "thread_budget": threads,
        "load_start": round(load_start, 2),
        "load_end": round(loadavg(), 2),
        "load_peak": round(max(sampler.samples, default=load_start), 2),
        "log": str(log),
    }


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, Any]:
    """Exit status and resource usage of ``proc`` alone (os.wait4), killing it after
    ``timeout`` seconds (status -9 then)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage
        time.sleep(0.5)


def verdict(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, checked on the rows measured (full demo only)."""
    by = {r["busy_processes"]: r for r in rows}
    out = []
    if 0 in by:
        out.append(f"alone {by[0]['wall_s']:.0f} s (target <= {TARGETS['alone_s']:.0f} s)")
    if 1 in by:
        out.append(
            f"beside one {by[1]['wall_s']:.0f} s (target <= {TARGETS['beside_one_s']:.0f} s)"
        )
    if 0 in by:
        base = by[0]["stages_s"]
        for busy, r in sorted(by.items()):
            if busy == 0:
                continue
            worst = max(
                ((s, v / base[s]) for s, v in r["stages_s"].items() if base.get(s)),
                key=lambda sv: sv[1],
                default=None,
            )
            if worst:
                out.append(
                    f"beside {busy}: slowest stage {worst[0]} at {worst[1]:.1f}x alone "
                    f"(target <= {TARGETS['stage_ratio']:.0f}x)"
                )
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    stages = sorted({s for r in rows for s in r["stages_s"]} - {"total"})
    head = ["busy processes", "wall s", "x alone", *[f"{s} s" for s in stages]]
    head += ["user CPU s", "peak RSS MB", "threads", "load start / peak / end", "exit"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    alone = next((r["wall_s"] for r in rows if r["busy_processes"] == 0), None)
    for r in rows:
        ratio = f"{r['wall_s'] / alone:.2f}" if alone else "-"
        cells = [str(r["busy_processes"]), f"{r['wall_s']:.1f}", ratio]
        cells += [f"{r['stages_s'][s]:.1f}" if s in r["stages_s"] else "-" for s in stages]
        cells += [
            f"{r['user_cpu_s']}",
            f"{r['peak_rss_mb']:.0f}" if r["peak_rss_mb"] is not None else "-",
            str(r["thread_budget"]),
            f"{r['load_start']} / {r['load_peak']} / {r['load_end']}",
            str(r["returncode"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="segrec run on 300 users, not demo")
    ap.add_argument("--users", type=int, help="segrec run on this many synthetic users")
    ap.add_argument("--busy", default="0,1,2", help="busy-process counts to measure")
    ap.add_argument("--warmup", type=float, help="seconds the busy processes run first")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per run, seconds")
    ap.add_argument("--backend", help="text backend passed to segrec (default: its own)")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/demo_results.json"))
    ap.add_argument("--logs", type=Path, help="folder for each run's output (default: temp)")
    args = ap.parse_args()

    users = args.users or (300 if args.quick else None)
    cmd = [sys.executable, "-m", "segrec"]
    cmd += ["run", "--dataset", f"synthetic:users={users},seed=7"] if users else ["demo"]
    if args.backend:
        cmd += ["--backend", args.backend]
    warmup = args.warmup if args.warmup is not None else (5.0 if users else 60.0)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="segrec-bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    rows = []
    for busy in (int(b) for b in args.busy.split(",")):
        print(f"measuring with {busy} busy process(es): {' '.join(cmd[2:])}", file=sys.stderr)
        rows.append(run_once(cmd, busy, warmup, args.timeout, logs / f"busy{busy}.log"))
        print(f"  {rows[-1]['wall_s']:.1f} s, exit {rows[-1]['returncode']}", file=sys.stderr)
    targets = [] if users else verdict(rows)
    result: dict[str, Any] = {
        "command": " ".join(["segrec", *cmd[3:]]),
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "warmup_s": warmup,
        "runs": rows,
        "targets": targets,
    }
    print(markdown(rows))
    for line in targets:
        print(f"- {line}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}", file=sys.stderr)
    if any(r["returncode"] != 0 for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
