"""Embedding throughput: segrec backends vs plain sentence-transformers ``encode`` (the peer).

One run, same texts, interleaved: for each corpus (synthetic ~40-word reviews; the Amazon
Musical Instruments reviews when ../shared is present) it reports texts/s of the peer
(``SentenceTransformer(path).encode(texts)`` with default settings) and of each segrec backend,
the ratio to the peer, mean/min cosine to the peer's fp32 vectors, peak RSS during the run, and
the time and embedded count of a cached re-run. Each config runs ``--repeat`` times and its
fastest run counts; the peer runs that many times before and after the backends and its fastest
run of all is the baseline. Not a timed test::

    .venv/bin/python benchmarks/embed.py --n 1000 --json embed.json

Then, with ``--processes N`` (default 750 reviews), whole processes as a user times them
(:mod:`_embed_process`): a fresh sentence-transformers process against ``segrec embed`` on a
first run before and after ``segrec models prepare`` and a cached rerun, with segrec's own
breakdown of its wall time (``--processes 0`` skips it)::

    .venv/bin/python benchmarks/embed.py --backends auto --repeat 1 --processes 750
    .venv/bin/python benchmarks/embed.py --model large --backends bf16 --repeat 1  # the large encoder
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import psutil

AMAZON = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "datasets"
    / ("amazon2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz")
)
if not AMAZON.exists():
    AMAZON = Path(
        "/work/shared/datasets/amazon2014-musical-instruments-5core/"
        "reviews_Musical_Instruments_5.json.gz"
    )


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> PeakRSS:
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def synthetic_texts(n: int, seed: int) -> list[str]:
    try:
        from segrec.data.synthetic import generate

        users = max(200, n)
        while True:
            t = generate(users=users, seed=seed).texts["text"].dropna().astype(str)
            t = t[t.str.len() > 0].drop_duplicates()
            if len(t) >= n or users > 50 * n:
                return t.sample(min(n, len(t)), random_state=seed).tolist()
            users *= 2
    except ImportError:  # generator not built yet: ~40-word template reviews
        rng = np.random.default_rng(seed)
        words = [
            "guitar",
            "strings",
            "tone",
            "bright",
            "warm",
            "cable",
            "pedal",
            "amp",
            "broke",
            "cheap",
            "quality",
            "sound",
            "great",
            "price",
            "shipping",
            "tuner",
            "strap",
            "works",
            "well",
            "would",
            "recommend",
            "after",
            "month",
            "noise",
            "hum",
            "solid",
            "build",
            "easy",
            "beginner",
        ]
        return [" ".join(rng.choice(words, int(rng.integers(30, 50)))) for _ in range(n)]


def amazon_texts(n: int, seed: int) -> list[str] | None:
    if not AMAZON.exists():
        return None
    with gzip.open(AMAZON, "rt") as f:
        texts = [json.loads(line).get("reviewText") or "" for line in f]
    texts = sorted({t for t in texts if t.strip()})
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.choice(len(texts), min(n, len(texts)), replace=False)]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def run_corpus(
    name: str,
    texts: list[str],
    backends: list[str],
    cache: Path,
    peer_model: object,
    repeat: int = 3,
    model: str | None = None,
) -> list[dict]:
    """Every config is timed ``repeat`` times and its fastest run counts (as ``timeit`` does);
    the peer runs ``repeat`` times before and ``repeat`` times after the backends, and its
    fastest run of all is the baseline, so load swings and warm-up cannot favour segrec."""
    from segrec.features import TextEmbedder

    rows = []
    peer_model.encode(["warm-up sentence one", "and a second one"])  # type: ignore[attr-defined]

    def peer_runs() -> tuple[list[float], np.ndarray, float]:
        out, vecs = [], None
        with PeakRSS() as mem:
            for _ in range(repeat):
                t0 = time.perf_counter()
                vecs = peer_model.encode(texts)  # type: ignore[attr-defined]
                out.append(time.perf_counter() - t0)
        return out, np.asarray(vecs, dtype=np.float32), mem.peak

    before, ref, peer_peak = peer_runs()
    ref = _unit(ref)
    rows.append(
        {
            "corpus": name,
            "config": "peer: sentence-transformers encode (defaults)",
            "backend": "peer",
            "n": len(texts),
            "mean_cos": 1.0,
            "min_cos": 1.0,
            "peak_rss_mb": peer_peak / 2**20,
        }
    )
    for b in backends:
        TextEmbedder(backend=b, model=model, use_cache=False, cache_dir=str(cache)).encode(
            ["warm-up sentence one", "and a second one"]
        )  # export, gate, first-call costs
        runs, st, v, mem_peak = [], {}, None, 0
        for _ in range(repeat):
            shutil.rmtree(cache / "embeddings", ignore_errors=True)  # cold text cache
            emb = TextEmbedder(backend=b, model=model, cache_dir=str(cache))
            emb.backend  # noqa: B018  (load / export / gate before timing)
            with PeakRSS() as mem:
                v = emb.encode(texts)
            mem_peak = max(mem_peak, mem.peak)
            runs.append(emb.stats_["seconds"])
            if emb.stats_["seconds"] <= min(runs):
                st = dict(emb.stats_)
        assert v is not None
        cos = (v * ref).sum(1) if v.shape[1] == ref.shape[1] else np.full(len(v), np.nan)
        t0 = time.perf_counter()
        emb.encode(texts)
        rerun_s = time.perf_counter() - t0
        rows.append(
            {
                "corpus": name,
                "config": f"segrec {b}" + (" (default)" if b == "auto" else ""),
                "backend": emb.backend_,
                "n": len(texts),
                "seconds": st["seconds"],
                "runs_s": runs,
                "texts_per_s": st["texts_per_s"],
                "mean_cos": float(np.nanmean(cos)) if np.isfinite(cos).any() else None,
                "min_cos": float(np.nanmin(cos)) if np.isfinite(cos).any() else None,
                "peak_rss_mb": mem_peak / 2**20,
                "n_unique": st["n_unique"],
                "n_truncated": st["n_truncated"],
                "rerun_seconds": rerun_s,
                "rerun_embedded": emb.stats_["n_embedded"],
                "gate": emb.gate_,
                "fallback": emb.fallback_reason_,
            }
        )
    after, _, _ = peer_runs()
    peer_s = min(before + after)
    rows[0].update(
        seconds=peer_s,
        texts_per_s=len(texts) / peer_s,
        ratio=1.0,
        runs_s=before + after,
        peer_runs_s=before + after,
    )
    for r in rows[1:]:
        r["ratio"] = peer_s / r["seconds"]
    return rows


def markdown(rows: list[dict]) -> str:
    out = [
        "| corpus | config (ran as) | n | texts/s | x peer | mean cos | min cos | peak RSS MiB "
        "| cached re-run s (embedded) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cos = (
            f"{r['mean_cos']:.4f} | {r['min_cos']:.4f}"
            if r["mean_cos"] is not None
            else "n/a | n/a"
        )
        rerun = f"{r['rerun_seconds']:.2f} ({r['rerun_embedded']})" if "rerun_seconds" in r else "-"
        out.append(
            f"| {r['corpus']} | {r['config']} ({r['backend']}) | {r['n']} | "
            f"{r['texts_per_s']:.1f} | {r['ratio']:.2f} | {cos} | "
            f"{r['peak_rss_mb']:.0f} | {rerun} |"
        )
    peers = [
        f"{r['corpus']}: {', '.join(f'{x:.1f}s' for x in r['peer_runs_s'])}"
        for r in rows
        if "peer_runs_s" in r
    ]
    out.append(
        "\npeer runs (before, then after the backends; the fastest is the baseline): "
        + "; ".join(peers)
    )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="texts per corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backends", default="auto,onnx-int8,bf16,hf,sentence-transformers,tfidf-svd")
    ap.add_argument("--corpora", default="synthetic,amazon")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    ap.add_argument(
        "--repeat", type=int, default=3, help="timed runs per config (the fastest counts)"
    )
    ap.add_argument("--model", default=None, help="minilm (default), mpnet/large or a folder")
    ap.add_argument("--processes", type=int, default=750, help="reviews per whole-process run")
    ap.add_argument("--process-repeat", type=int, default=2, help="interleaved rounds")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)

    from sentence_transformers import SentenceTransformer

    from segrec.features import resolve_model

    peer = SentenceTransformer(str(resolve_model(args.model)), device="cpu")
    backends = [b for b in args.backends.split(",") if b]
    cache = Path(tempfile.mkdtemp(prefix="segrec-bench-"))
    rows: list[dict] = []
    for corpus in args.corpora.split(","):
        texts = (
            synthetic_texts(args.n, args.seed)
            if corpus == "synthetic"
            else (amazon_texts(args.n, args.seed))
        )
        if texts is None:
            print(f"{corpus}: skipped (data not found)")
            continue
        words = np.mean([len(t.split()) for t in texts])
        print(f"{corpus}: {len(texts)} unique texts, mean {words:.0f} words", flush=True)
        rows += run_corpus(corpus, texts, backends, cache, peer, args.repeat, args.model)
        print(markdown([r for r in rows if r["corpus"] == corpus]), flush=True)
    import torch

    print(
        f"\nmachine: {platform.processor() or platform.machine()}, "
        f"{psutil.cpu_count()} logical CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"torch threads {torch.get_num_threads()}, load avg {os.getloadavg()}"
    )
    print(markdown(rows))
    if args.processes:
        rows += processes(args, resolve_model(args.model))
    print(f"load average at end: {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    shutil.rmtree(cache, ignore_errors=True)


def processes(args: argparse.Namespace, model_path: Path) -> list[dict]:
    """Whole-process rows for each corpus (see :mod:`_embed_process`)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _embed_process import markdown as proc_markdown
    from _embed_process import whole_processes, write_reviews

    segrec = Path(sys.executable).with_name("segrec")
    tmp = Path(tempfile.mkdtemp(prefix="segrec-reviews-"))
    rows: list[dict] = []
    for corpus in args.corpora.split(","):
        if corpus == "synthetic":
            file = write_reviews(synthetic_texts(args.processes, args.seed), tmp / "synth.json.gz")
        elif AMAZON.exists():
            file = tmp / "amazon.json.gz"
            with gzip.open(AMAZON, "rt") as f:
                lines = f.readlines()
            rng = np.random.default_rng(args.seed)
            pick = rng.choice(len(lines), min(args.processes, len(lines)), replace=False)
            with gzip.open(file, "wt") as f:
                f.writelines(lines[i] for i in sorted(pick))
        else:
            print(f"{corpus}: whole processes skipped (data not found)")
            continue
        print(f"{corpus}: whole processes, load avg {os.getloadavg()}", flush=True)
        got = whole_processes(corpus, file, model_path, segrec, args.process_repeat)
        for r in got:
            r["loadavg"] = os.getloadavg()
        print(proc_markdown(got), flush=True)
        rows += got
    shutil.rmtree(tmp, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
