"""Cold users across validation windows: does the hybrid's cold blend generalise, and would a
learned ranker do better? (issue 6; validation data only, the test period is never read)

For the validation period and ``--windows`` earlier windows of protocol v1 (the same windows
the hybrid tunes its cold weights on), the hybrid is fitted on what came before each window and
its z-scored components are taken for the window's cold users (1-2 training interactions).
Each window is then held out in turn and scored by a choice made on the other windows:

* ``grid``: the hybrid's own cold-blend grid (:data:`DEFAULT_COLD_GRID`), best pooled NDCG@10;
* ``grid, top N% averaged``: the mean of the sum-normalised weights of the grid's best N% of
  combinations (averaging near-optimal choices lowers the variance of the pick);
* ``logistic``: logistic regression on the components, one row per (user, unseen item);
* ``boosting``: gradient-boosted trees on the components plus item popularity, trending
  popularity and age (fraction of the period since the item's first interaction).

Popularity alone is the reference. The hybrid's base models and segmentation are given on the
command line (those the evaluation picked, see ``results.json`` -> methods.hybrid.params).
``synthetic`` is the world of ``segrec demo`` and needs no shared data. Results and analysis:
``benchmarks/eval_results.md``, "Cold users across validation windows".

    .venv/bin/python benchmarks/cold_windows.py amazon --segmentation text --base pop --cold-base pop
    .venv/bin/python benchmarks/cold_windows.py lastfm --segmentation behavior --base bpr \\
        --cold-base als
    .venv/bin/python benchmarks/cold_windows.py synthetic --segmentation gnn --base itemknn \\
        --cold-base itemknn
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(os.environ.get("SEGREC_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATASETS = {
    "amazon": ("amazon:{root}/datasets/amazon2014-musical-instruments-5core", None),
    "lastfm": ("lastfm-hetrec:{root}/datasets/hetrec2011-lastfm-2k", ["tag"]),
    "synthetic": ("synthetic:", None),  # the world of ``segrec demo``
}
K = 10

Window = dict[str, Any]
Scorer = Callable[[Window], np.ndarray]


def build_windows(kind: str, seg: str, base: str, cold_base: str, n: int) -> list[Window]:
    from segrec.data import load_dataset
    from segrec.evaluate._config import EvalConfig
    from segrec.evaluate._protocol import make_split
    from segrec.evaluate._run import _build_phase, _context
    from segrec.recommend._hybrid import HybridRecommender, _rel_rows

    spec, events = DATASETS[kind]
    ds, _ = load_dataset(spec.format(root=SHARED))
    if events:
        ds = ds.replace(interactions=ds.interactions[ds.interactions.event.isin(events)])
    cfg = EvalConfig(cold_windows=n)
    split = make_split(ds)
    out = []
    for tr, held in [(split.fit_dataset(), split.val), *split.earlier_windows(n)]:
        art = _build_phase(tr, cfg, [seg])
        ctx = _context(art, art.segmentations.get(seg), cfg)
        h = HybridRecommender(base=base, cold_base=cold_base, tune_shortlist=None).fit(ctx)
        ev = h._eval_set(held, K)  # the window's users as the hybrid tunes on them, all items
        if ev is None:
            continue
        _, parts, mask, rel = ev
        cold = np.flatnonzero(parts.n <= h.config.cold_max)
        parts, mask, rel = parts.rows(cold), mask[cold], _rel_rows(rel, cold)
        ts = pd.to_datetime(tr.interactions.timestamp)
        first = ts.groupby(tr.interactions.item_id.astype(str).to_numpy()).min()
        age = ((ts.max() - first) / (ts.max() - ts.min())).reindex(h.item_ids_).fillna(1.0)
        item = {
            "log_pop": np.log1p(h.popularity_),
            "log_trending": np.log1p(h.recent_),
            "age": age.to_numpy(),
        }
        out.append(
            {
                "z": {k: np.broadcast_to(v, mask.shape) for k, v in parts.z.items()},
                "item": {k: np.broadcast_to(v, mask.shape) for k, v in item.items()},
                "mask": mask,
                "ok": np.isfinite(mask) & h.candidates_[None, :],
                "rel": rel,
            }
        )
        print(f"window {len(out) - 1}: {len(cold)} cold users", file=sys.stderr, flush=True)
    return out


def ndcg(w: Window, s: np.ndarray) -> np.ndarray:
    from segrec.recommend._hybrid import _ndcg

    return _ndcg(s + w["mask"], w["rel"], K)


def grid_choice(frac: float = 0.0) -> Callable[[list[Window]], Scorer]:
    """The grid's best combination (``frac`` 0), or the mean of the sum-normalised weights of
    its best ``frac`` share of combinations."""
    from segrec.recommend._hybrid import COLD_KEYS, DEFAULT_COLD_GRID

    def blend(w: Window, wt: np.ndarray) -> np.ndarray:
        return sum((c * w["z"][k] for k, c in zip(COLD_KEYS, wt, strict=True) if c), 0.0)

    combos = [np.array(c) for c in itertools.product(*DEFAULT_COLD_GRID.values()) if any(c)]

    def fit(train: list[Window]) -> Scorer:
        # as in the product, a component that is zero everywhere (no ties, no text) is left out
        dead = np.array([not any(np.any(w["z"][k]) for w in train) for k in COLD_KEYS])
        combos_ = [c for c in combos if not c[dead].any()]
        nd = [np.concatenate([ndcg(w, blend(w, c)) for w in train]).mean() for c in combos_]
        top = np.argsort(-np.array(nd), kind="stable")[: max(1, math.ceil(frac * len(combos_)))]
        wt = (
            combos_[top[0]]
            if frac == 0
            else np.mean([combos_[t] / combos_[t].sum() for t in top], 0)
        )
        return lambda w: blend(w, wt)

    return fit


def learned(make: Callable[[], Any], with_items: bool) -> Callable[[list[Window]], Scorer]:
    def features(w: Window) -> np.ndarray:
        cols = [w["z"][c] for c in ("pop", "recent", "segment", "text", "peers", "social")]
        if with_items:
            cols += list(w["item"].values())
        return np.stack(cols, -1)

    def fit(train: list[Window]) -> Scorer:
        x = np.concatenate([features(w)[w["ok"]] for w in train])
        y = np.concatenate([w["rel"][0][w["ok"]] for w in train])
        model = make().fit(x, y)

        def score(w: Window) -> np.ndarray:
            f = features(w)
            return model.predict_proba(f.reshape(-1, f.shape[-1]))[:, 1].reshape(f.shape[:2])

        return score

    return fit


def main() -> int:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", choices=sorted(DATASETS))
    ap.add_argument("--segmentation", default="text")
    ap.add_argument("--base", default="pop")
    ap.add_argument("--cold-base", default="pop")
    ap.add_argument("--windows", type=int, default=3, help="earlier windows besides validation")
    args = ap.parse_args()
    if args.dataset != "synthetic" and not (SHARED / "datasets").is_dir():
        print(f"skipped: no shared datasets at {SHARED / 'datasets'}", file=sys.stderr)
        return 0
    wins = build_windows(args.dataset, args.segmentation, args.base, args.cold_base, args.windows)
    methods: dict[str, Callable[[list[Window]], Scorer]] = {
        "popularity": lambda train: lambda w: w["z"]["pop"],
        "grid": grid_choice(),
        "grid, top 5% averaged": grid_choice(0.05),
        "grid, top 10% averaged": grid_choice(0.1),
        "logistic": learned(lambda: LogisticRegression(max_iter=2000), with_items=False),
        "boosting": learned(
            lambda: HistGradientBoostingClassifier(
                learning_rate=0.05, max_iter=200, min_samples_leaf=50, random_state=0
            ),
            with_items=True,
        ),
    }
    print(f"| held-out window | {' | '.join(methods)} |")
    print(f"|---|{'---|' * len(methods)}")
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    for i, w in enumerate(wins):
        train = [v for j, v in enumerate(wins) if j != i]
        cells = []
        for m, fit in methods.items():
            nd = ndcg(w, fit(train)(w))
            pooled[m].append(nd)
            cells.append(f"{nd.mean():.4f}")
        name = "validation" if i == 0 else f"earlier {i}"
        print(f"| {name} ({len(w['mask'])} users) | {' | '.join(cells)} |")
    ref = np.concatenate(pooled["popularity"]).mean()
    cells = [
        f"{np.concatenate(v).mean():.4f} ({np.concatenate(v).mean() / ref:.2f}x)"
        for v in pooled.values()
    ]
    print(f"| pooled | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
