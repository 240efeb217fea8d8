"""Whole processes side by side, as a user times them (imported by ``benchmarks/embed.py``).

For one corpus written as an Amazon-style review file, in one run and interleaved:

* ``reference``: a fresh Python process that imports sentence-transformers, loads the model,
  reads the same file, embeds the same texts (review and summary) and writes them to .npy;
* ``segrec embed`` as a user runs it: ``first run, model not prepared`` (empty cache, empty
  models folder: pays the ONNX export and check), ``first run after install`` (model prepared
  by ``segrec models prepare``, empty embedding cache), and ``cached rerun``.

Each process's wall time is measured from outside; segrec's own ``time:`` line gives the
breakdown. Accuracy is measured in-process by ``benchmarks/embed.py`` on identical texts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REFERENCE = r"""
import gzip, json, sys, numpy as np
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
texts = []
with gzip.open(sys.argv[2], "rt") as f:
    for line in f:
        r = json.loads(line)
        texts += [t for t in (r.get("reviewText"), r.get("summary")) if t and t.strip()]
np.save(sys.argv[3], model.encode(texts))
"""

_TIME = re.compile(r"([a-z][a-z -]+?) (\d+\.\d)s")


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {p.stderr[-2000:]}")
    return wall, p.stdout


def _breakdown(stdout: str) -> dict[str, float]:
    line = next((x for x in stdout.splitlines() if x.startswith("time: ")), "")
    return {k.strip(): float(v) for k, v in _TIME.findall(line[6:])}


def whole_processes(
    corpus: str, review_file: Path, model_path: Path, segrec: Path, repeat: int = 2
) -> list[dict]:
    """Rows for one corpus: wall seconds of each process kind (best of ``repeat``, runs
    interleaved), ratio to the reference, segrec's breakdown and cosines."""
    work = Path(tempfile.mkdtemp(prefix="segrec-proc-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    prepared_models = work / "models"  # prepared once, as scripts/install.sh does
    subprocess.run(
        [str(segrec), "models", "prepare", "--dest", str(prepared_models)],
        env=env,
        check=True,
        capture_output=True,
    )
    kinds = ["reference", "first run, model not prepared", "first run after install", "cached"]
    walls: dict[str, list[float]] = {k: [] for k in kinds}
    notes: dict[str, dict[str, float]] = {}
    out = work / "out"
    for r in range(repeat):
        ref_npy = work / "ref.npy"
        wall, _ = _run(
            [sys.executable, "-c", REFERENCE, str(model_path), str(review_file), str(ref_npy)], env
        )
        walls["reference"].append(wall)
        for kind in kinds[1:]:
            cache = work / f"cache-{r}"
            if kind != "cached":
                shutil.rmtree(cache, ignore_errors=True)
            models = (
                work / f"empty-models-{r}" if kind.endswith("not prepared") else prepared_models
            )
            cmd = [
                str(segrec),
                "--no-progress",
                "embed",
                "-d",
                f"amazon:{review_file}",
                "-o",
                str(out),
                "--cache-dir",
                str(cache),
            ]
            wall, stdout = _run(cmd, {**env, "SEGREC_MODELS": str(models)})
            walls[kind].append(wall)
            if wall <= min(walls[kind]):
                notes[kind] = _breakdown(stdout)
    n_ref = len(np.load(work / "ref.npy"))
    rows = []
    base = min(walls["reference"])
    for kind in kinds:
        rows.append(
            {
                "corpus": corpus,
                "process": kind,
                "wall_s": min(walls[kind]),
                "runs_s": walls[kind],
                "x_reference": base / min(walls[kind]),
                "breakdown": notes.get(kind, {}),
            }
        )
    for row in rows:
        row["n_texts"] = int(n_ref)
    shutil.rmtree(work, ignore_errors=True)
    return rows


def write_reviews(texts: list[str], path: Path) -> Path:
    """``texts`` as an Amazon-style review file (one review per text, no summary)."""
    import gzip
    import json

    with gzip.open(path, "wt") as f:
        for i, t in enumerate(texts):
            rec = {
                "reviewerID": f"u{i % 997}",
                "asin": f"i{i % 301}",
                "overall": 4.0,
                "unixReviewTime": 1_400_000_000 + i,
                "reviewText": t,
            }
            f.write(json.dumps(rec) + "\n")
    return path


def markdown(rows: list[dict]) -> str:
    out = [
        "| corpus | process | wall s (best) | runs s | x reference | where segrec's time went |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        bd = ", ".join(f"{k} {v:.1f}" for k, v in r["breakdown"].items()) or "-"
        runs = ", ".join(f"{x:.1f}" for x in r["runs_s"])
        out.append(
            f"| {r['corpus']} | {r['process']} | {r['wall_s']:.1f} | {runs} | "
            f"{r['x_reference']:.2f} | {bd} |"
        )
    return "\n".join(out)
