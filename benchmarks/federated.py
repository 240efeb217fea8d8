"""Federated k-means against central k-means: ARI to the planted personas and segment_pop
NDCG@10, at several privacy budgets and client counts.

    nice -n 10 .venv/bin/python benchmarks/federated.py [--users 5000] [--clients 10 100]
        [--epsilons none 8 4 1] [--rounds 10] [--segments 7] [--processes 2] [--repeats 2]
        [--flower 10 [--flower-nodes 0]] [--json out.json]

The shop is split in time (the last 20% of interactions are the test); features, the shared
state and every segmentation come from the training period. segment_pop ranks, for each user,
the items most chosen by their segment in training (items the user already had removed);
NDCG@10 is over the users with test interactions (binary relevance). "central" is the fused
k-means segrec fits on all training users (k-means++, 4 restarts); "same-init Lloyd" runs
Lloyd's algorithm centrally from the federated run's first centres for as many rounds.

Clients run in ``--processes`` worker processes of the local engine (100 clients: 50 per
process with the default 2), exchanging exactly the protocol's messages; ``--flower N`` also
times one run of N clients on Flower's deployment engine (one SuperNode per client, or
``--flower-nodes`` SuperNodes hosting them between them). DP noise
comes from the OS (it must not be reproducible), so ``--repeats`` runs each noisy setting
several times and reports the mean and the range.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _labels(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
    return np.argmin(d2, axis=1)


def segment_pop_ndcg(train: pd.DataFrame, test: pd.DataFrame, seg: pd.Series, k: int = 10) -> float:
    """Mean NDCG@k of segment popularity over users with test items (binary relevance)."""
    tr = train.assign(s=train.user_id.map(seg)).dropna(subset=["s"])
    pop = tr.groupby(["s", "item_id"]).user_id.nunique().rename("n").reset_index()
    ranked = {
        s: g.sort_values(["n", "item_id"], ascending=[False, True]).item_id.tolist()
        for s, g in pop.groupby("s")
    }
    seen = train.groupby("user_id").item_id.agg(set)
    truth = test.groupby("user_id").item_id.agg(set)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for u, rel in truth.items():
        if u not in seg.index:
            continue
        have = seen.get(u, set())
        top = [i for i in ranked.get(seg[u], []) if i not in have][:k]
        gain = sum(disc[j] for j, i in enumerate(top) if i in rel)
        ideal = disc[: min(len(rel), k)].sum()
        scores.append(gain / ideal if ideal else 0.0)
    return float(np.mean(scores)) if scores else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--segments", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--clients", type=int, nargs="+", default=[10, 100])
    ap.add_argument("--epsilons", nargs="+", default=["none", "8", "4", "1"])
    ap.add_argument("--delta", type=float, default=1e-5)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--flower", type=int, default=0, help="also time N clients on Flower")
    ap.add_argument(
        "--flower-nodes", type=int, default=0, help="SuperNodes hosting them (0: one per client)"
    )
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from segrec.data import load_dataset, temporal_split
    from segrec.evaluate import EvalConfig
    from segrec.federated import clip_rows
    from segrec.federated._run import prepare_shared, run_protocol

    load0 = os.getloadavg()
    ds, _ = load_dataset(f"synthetic:users={args.users},seed={args.seed}")
    split = temporal_split(ds)
    train_ds = split.train_dataset()
    cfg = EvalConfig(
        features={"embedder": {"backend": "tfidf-svd", "tfidf_dim": 32, "use_cache": False}},
        graph=None,
    )
    t = time.perf_counter()
    shared = prepare_shared(train_ds, cfg, k=args.segments)
    t_shared = time.perf_counter() - t
    users = pd.Index(shared.artifacts.features.user_ids.astype(str))
    x = clip_rows(shared.features, shared.clip)
    truth = ds.truth.reindex(users).astype(str).to_numpy()
    train = shared.dataset.interactions[["user_id", "item_id"]].astype(str)
    test = split.test[["user_id", "item_id"]].astype(str)

    def score(lab: np.ndarray) -> dict[str, float]:
        seg = pd.Series(lab, index=users)
        return {
            "ari_personas": float(adjusted_rand_score(truth, lab)),
            "ndcg@10": segment_pop_ndcg(train, test, seg),
        }

    rows: list[dict[str, Any]] = []
    central = shared.segmenter.centers_.astype(np.float64)
    rows.append(
        {"setting": "central k-means (k-means++, 4 restarts)", **score(_labels(x, central))}
    )
    lloyd = KMeans(args.segments, init=shared.init, n_init=1, max_iter=args.rounds, tol=0)
    rows.append({"setting": "central Lloyd, same init", **score(lloyd.fit(x).labels_)})
    for n in args.clients:
        for e in args.epsilons:
            eps = None if e == "none" else float(e)
            reps = 1 if eps is None else args.repeats
            got, secs = [], []
            for _ in range(reps):
                t = time.perf_counter()
                server, book, _ = run_protocol(
                    shared, n_clients=n, rounds=args.rounds, dp_epsilon=eps,
                    dp_delta=args.delta, engine="local", processes=args.processes,
                )  # fmt: skip
                secs.append(time.perf_counter() - t)
                lab = _labels(x, server.centers)
                got.append({**score(lab), "ari_central": float(adjusted_rand_score(
                    _labels(x, central), lab))})  # fmt: skip
            row: dict[str, Any] = {"setting": f"federated, {n} clients, epsilon {e}"}
            for key in got[0]:
                vals = [g[key] for g in got]
                row[key] = float(np.mean(vals))
                row[f"{key}_range"] = [float(min(vals)), float(max(vals))]
            row.update(
                sigma=book["sigma"], epsilon_spent=book["epsilon_spent"], seconds=np.mean(secs)
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
    flower = None
    if args.flower:
        t = time.perf_counter()
        server, book, wire = run_protocol(
            shared,
            n_clients=args.flower,
            rounds=args.rounds,
            engine="flower",
            processes=args.flower_nodes,
        )
        flower = {
            "clients": args.flower,
            "supernodes": args.flower_nodes or args.flower,
            "rounds": args.rounds,
            "seconds": time.perf_counter() - t,
            "max_abs_diff_vs_local_no_noise": None,
            "messages_from_clients": len(wire),
        }
        local, _, _ = run_protocol(shared, n_clients=args.flower, rounds=args.rounds,
                                   engine="local")  # fmt: skip
        flower["max_abs_diff_vs_local_no_noise"] = float(
            np.abs(server.centers - local.centers).max()
        )
    out = {
        "users": args.users,
        "segments": args.segments,
        "rounds": args.rounds,
        "clip": shared.clip,
        "shared_state_seconds": t_shared,
        "loadavg_start": load0,
        "loadavg_end": os.getloadavg(),
        "rows": rows,
        "flower": flower,
    }
    print("\n| setting | ARI personas | ARI vs central | segment_pop NDCG@10 | sigma | s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        rng = r.get("ari_personas_range")
        ari = f"{r['ari_personas']:.3f}" + (
            f" [{rng[0]:.2f}, {rng[1]:.2f}]" if rng and rng[0] != rng[1] else ""
        )
        print(
            f"| {r['setting']} | {ari} | {r.get('ari_central', float('nan')):.3f} | "
            f"{r['ndcg@10']:.4f} | {r.get('sigma', 0):.3g} | {r.get('seconds', 0):.1f} |"
        )
    print(f"\nload average {load0} -> {os.getloadavg()}; flower: {flower}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
