"""Benchmark: user-graph construction plus one GCN epoch at 100,000 users / 1,000,000 edges.

Run:  .venv/bin/python benchmarks/graph.py --users 100000 --interactions 1000000
      .venv/bin/python benchmarks/graph.py --dataset lastfm-hetrec:../shared/datasets/hetrec2011-lastfm-2k

With ``--dataset`` it instead fits the GNN segmenter on the training period (temporal split,
first 80%) of a real dataset with TF-IDF+SVD text and behaviour features, and reports training
time, k, silhouette on the embedding and modularity on the user graph, next to k-means (same k)
on the fused input features (modularity on the same graph) and on text alone.

A random shop (power-law item popularity, users in communities, friend ties) is built as a
:class:`~segrec.data.Dataset`; the script times the user-item graph, the co-interaction +
social user graph, normalisation, and one BPR epoch of the GCN with 64 input features, and
reports peak RSS (psutil, sampled every 50 ms).
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import numpy as np
import pandas as pd
import psutil

from segrec.data import Dataset
from segrec.graph import GCNEncoder, build_user_graph, build_user_item_graph


class PeakRSS:
    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def random_shop(users: int, interactions: int, items: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    communities = max(2, users // 2000)
    comm = rng.integers(0, communities, users)
    u = rng.integers(0, users, interactions)
    # items: each community prefers its own slice; popularity is Zipf-like inside it
    per = max(1, items // communities)
    local = np.minimum((rng.zipf(1.3, interactions) - 1), per - 1)
    own = rng.random(interactions) < 0.7
    item = np.where(own, comm[u] * per + local, rng.integers(0, items, interactions))
    inter = pd.DataFrame(
        {
            "user_id": u.astype(str),
            "item_id": item.astype(str),
            "timestamp": np.arange(interactions),
            "event": "purchase",
        }
    )
    ties = users * 2
    src = rng.integers(0, users, ties)
    same = rng.random(ties) < 0.8
    dst = np.where(same, src + rng.integers(-50, 50, ties), rng.integers(0, users, ties))
    dst = np.clip(dst, 0, users - 1)
    social = pd.DataFrame({"src": src.astype(str), "dst": dst.astype(str), "kind": "friend"})
    return Dataset(interactions=inter, social=social, name="bench")


def real(spec: str, k: int | None, seed: int) -> dict[str, object]:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from segrec.data import load_dataset, temporal_split
    from segrec.features import TextEmbedder, build_user_features
    from segrec.graph import GNNSegmenter, modularity
    from segrec.graph._inputs import InputFuser

    ds, _ = load_dataset(spec)
    train = temporal_split(ds, test_frac=0.2, val_frac=0.0).train_dataset()
    t = time.perf_counter()
    emb = TextEmbedder(backend="tfidf-svd", use_cache=False)
    feats = build_user_features(train, emb)
    out: dict[str, object] = {"dataset": train.summary(), "features_s": time.perf_counter() - t}
    t = time.perf_counter()
    model = GNNSegmenter(n_segments=k, random_state=seed)
    seg = model.fit(feats, train)
    out["gnn_fit_s"] = time.perf_counter() - t
    g = model._graph(train, feats.user_ids)
    out.update(
        k=seg.k,
        graph=seg.meta["graph"],
        isolated_users=seg.meta["isolated_users"],
        isolated_without_features=seg.meta["isolated_without_features"],
        gnn_silhouette=seg.quality.get("silhouette"),
        gnn_modularity=seg.quality["modularity"],
        sizes=seg.sizes().tolist(),
    )
    x = InputFuser().fit(feats).transform(feats)
    lab = KMeans(seg.k, n_init=10, random_state=seed).fit_predict(x)
    out["kmeans_fused_modularity"] = modularity(g.adjacency, lab)
    out["kmeans_fused_silhouette"] = float(silhouette_score(x, lab))
    if "text" in feats.blocks:
        lt = KMeans(seg.k, n_init=10, random_state=seed).fit_predict(feats.block("text"))
        out["kmeans_text_modularity"] = modularity(g.adjacency, lt)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dataset", default=None, help="KIND:PATH of a real dataset")
    ap.add_argument("--k", type=int, default=None, help="segments (default: by silhouette)")
    ap.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="cap the epoch at this many BPR steps (the 1M-user memory check uses a few)",
    )
    args = ap.parse_args()
    if args.dataset:
        print(json.dumps(real(args.dataset, args.k, args.seed), indent=1, default=float))
        return
    out: dict[str, float | int] = {}
    with PeakRSS() as rss:
        t = time.perf_counter()
        ds = random_shop(args.users, args.interactions, args.items, args.seed)
        out["dataset_s"] = time.perf_counter() - t
        t = time.perf_counter()
        ui = build_user_item_graph(ds)
        out["user_item_graph_s"] = time.perf_counter() - t
        out["user_item_edges"] = int(ui.matrix.nnz)
        t = time.perf_counter()
        g = build_user_graph(ds, topk=20, threshold=0.05)
        out["user_graph_s"] = time.perf_counter() - t
        out["user_graph_edges"] = g.n_edges
        out["isolated_users"] = int(g.isolated.sum())
        x = np.random.default_rng(0).normal(size=(len(g.user_ids), args.dim)).astype(np.float32)
        t = time.perf_counter()
        enc = GCNEncoder(
            epochs=1, batch_size=args.batch_size, max_steps_per_epoch=args.max_steps
        ).fit(x, g.adjacency)
        out["gcn_one_epoch_s"] = time.perf_counter() - t
        out["gcn_steps"] = enc._steps()
        t = time.perf_counter()
        enc.transform()
        out["gcn_full_forward_s"] = time.perf_counter() - t
    out["peak_rss_gib"] = rss.peak / 2**30
    print(
        json.dumps(
            {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, indent=1
        )
    )


if __name__ == "__main__":
    main()
