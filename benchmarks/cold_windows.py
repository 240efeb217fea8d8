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
  popularity and age (fraction of the period since the item's first interaction);
* ``grid + cohort popularity`` / ``grid with a cohort key``: the grid plus popularity around each
  cold user's own training timestamps (a Gaussian kernel in time), weight and bandwidth chosen
  on the other windows, or one more grid key at a fixed bandwidth;
* ``grid with a transitions key`` (``--transitions``): the grid plus what people chose next
  after the cold user's own items (pairs up to 3 steps apart in each user's history, 1/step,
  both directions within one timestamp; rows normalised), one more key with weights {0, 1};
* ``grid on reciprocal ranks`` / ``grid on log ranks``: the grid on each component's per-user ranks
  (1/(60 + rank), or the z-score of -log(rank)) instead of its z-scores;
* ``text-to-item ridge``: a model trained for the cold situation on each window's training
  period: ridge regression from the sentence vector of what a user wrote about an item to the
  next 3 or 5 items they chose (pairs from each user's first item, or from every item;
  penalty 100 / 300 / 1000), blended with popularity (weight 0-2). Setting and weight are
  chosen on the other windows like the grid's.

Popularity alone is the reference. The hybrid's base models and segmentation are given on the
command line (those the evaluation picked, see ``results.json`` -> methods.hybrid.params).
``synthetic`` is the world of ``segrec demo`` and needs no shared data. Results and analysis:
``benchmarks/eval_results.md``, "Cold users across validation windows".

    .venv/bin/python benchmarks/cold_windows.py amazon --segmentation text --base pop --cold-base pop
    .venv/bin/python benchmarks/cold_windows.py lastfm --segmentation behavior --base bpr \\
        --cold-base als
    .venv/bin/python benchmarks/cold_windows.py synthetic --segmentation gnn --base itemknn \\
        --cold-base itemknn

``--config FILE`` takes the evaluation settings of ``segrec evaluate`` (TOML), for example
``[features.embedder]`` ``model = "large"`` for the large sentence encoder.
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
import scipy.sparse as sp

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
#: text-to-item ridge settings: (penalty, pairs from each user's "first" item or "each" item,
#: how many next items are the targets)
RIDGE_SETTINGS = [
    (lam, pairs, horizon)
    for lam in (100.0, 300.0, 1000.0)
    for pairs in ("first", "each")
    for horizon in (3, 5)
]
RIDGE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)  # of the ridge's z-score next to popularity's
#: cohort popularity: kernel bandwidths (fractions of the period) and weights in the blend
COHORT_BANDWIDTHS = (0.02, 0.05, 0.1)
COHORT_WEIGHTS = (0.5, 1.0)


def ridge_scores(tr: Any, h: Any, users: list[str], vectors: np.ndarray) -> list[np.ndarray]:
    """Text-to-item ridge scores of ``users`` (one array per :data:`RIDGE_SETTINGS`), trained
    on ``tr`` (a window's training period) with ``vectors`` (one row per ``tr.texts`` row).

    A pair is (unit mean vector of the user's texts on an item, the next ``horizon`` items the
    user chose, each weighted 1/count); a user is scored from the unit mean of all their
    texts (users without text get the targets' mean, a popularity)."""
    from segrec.features import pool_by_user

    it = tr.interactions.sort_values(["timestamp", "seq"], kind="mergesort")
    it = it.drop_duplicates(["user_id", "item_id"])
    it = it.iloc[np.argsort(it.user_id.astype(str).to_numpy(), kind="stable")]  # user, time
    user = it.user_id.astype(str).to_numpy()
    col = h.item_ids_.get_indexer(it.item_id.astype(str))
    texts = tr.texts.reset_index(drop=True)
    ok = texts.user_id.notna().to_numpy()
    t_user = texts.user_id.astype(str).to_numpy()
    t_pair = pd.MultiIndex.from_arrays([user, it.item_id.astype(str).to_numpy()]).get_indexer(
        pd.MultiIndex.from_arrays([t_user, texts.item_id.astype(str).to_numpy()])
    )
    sel = ok & (t_pair >= 0)
    pair_vec, has = pool_by_user(t_pair[sel], vectors[sel], len(it))
    pos = pd.Index(users).get_indexer(t_user)
    prof, has_prof = pool_by_user(pos[ok & (pos >= 0)], vectors[ok & (pos >= 0)], len(users))
    start = np.r_[True, user[1:] != user[:-1]]

    def unit(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)

    out = []
    for lam, pairs, horizon in RIDGE_SETTINGS:
        src = np.flatnonzero(has & start if pairs == "first" else has)
        rows, cols = [], []
        for step in range(1, horizon + 1):
            t = np.minimum(src + step, len(user) - 1)
            keep = (src + step < len(user)) & (user[t] == user[src]) & (col[t] >= 0)
            rows.append(np.flatnonzero(keep))
            cols.append(col[t[keep]])
        used, r = np.unique(np.concatenate(rows), return_inverse=True)
        y = sp.csr_matrix(
            (np.ones(len(r)), (r, np.concatenate(cols))), shape=(len(used), len(h.item_ids_))
        )
        y = sp.diags(1.0 / np.asarray(y.sum(1)).ravel()) @ y
        x = unit(pair_vec[src[used]])
        mx, my = x.mean(0), np.asarray(y.mean(0)).ravel()
        xc = x - mx
        w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), np.asarray((y.T @ xc).T))
        out.append(my[None, :] + np.where(has_prof[:, None], unit(prof) - mx, 0.0) @ w)
    return out


def cohort_scores(tr: Any, h: Any, users: list[str]) -> dict[float, np.ndarray]:
    """Cohort popularity of ``users`` for each of :data:`COHORT_BANDWIDTHS`: log(1 + item
    counts over ``tr``'s interactions, each weighted by a Gaussian kernel in time around each
    of the user's own training timestamps, averaged over those)."""
    it = tr.interactions
    ts = pd.to_datetime(it.timestamp).astype("int64").to_numpy() / 1e9
    span = max(float(ts.max() - ts.min()), 1.0)
    col = h.item_ids_.get_indexer(it.item_id.astype(str))
    ok = col >= 0
    ts, col = ts[ok], col[ok]
    user = it.user_id.astype(str).to_numpy()[ok]
    out = {}
    for b in COHORT_BANDWIDTHS:
        rows = []
        for u in users:
            own = ts[user == u]
            w = np.zeros(len(ts))
            for t in own:
                w += np.exp(-0.5 * ((ts - t) / (b * span)) ** 2)
            w /= max(len(own), 1)
            rows.append(np.log1p(np.bincount(col, weights=w, minlength=len(h.item_ids_))))
        out[b] = np.array(rows).reshape(len(users), len(h.item_ids_))
    return out


def transition_scores(tr: Any, h: Any, users: list[str], steps: int = 3) -> np.ndarray:
    """Next-item scores of ``users`` (n_users, n_items): from ``tr``'s interactions per user in
    time order (duplicates keep the earliest), each pair (item at p, item at p + d), d <= ``steps``,
    counts 1/d, in both directions when both have the same timestamp; rows of the item-to-item
    counts are normalised to sum 1, and a user's score sums the rows of their own items."""
    it = tr.interactions.sort_values(["timestamp", "seq"], kind="mergesort")
    it = it.drop_duplicates(["user_id", "item_id"])
    it = it.iloc[np.argsort(it.user_id.astype(str).to_numpy(), kind="stable")]  # user, time
    user = it.user_id.astype(str).to_numpy()
    col = h.item_ids_.get_indexer(it.item_id.astype(str))
    ts = pd.to_datetime(it.timestamp).astype("int64").to_numpy()
    n_items = len(h.item_ids_)
    rows, cols, vals = [], [], []
    for d in range(1, steps + 1):
        a = np.arange(len(user) - d)
        b = a + d
        keep = (user[a] == user[b]) & (col[a] >= 0) & (col[b] >= 0)
        a, b = a[keep], b[keep]
        tie = ts[a] == ts[b]
        rows += [col[a], col[b[tie]]]
        cols += [col[b], col[a[tie]]]
        vals += [np.full(len(a), 1.0 / d), np.full(int(tie.sum()), 1.0 / d)]
    c = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
    )
    out_deg = np.asarray(c.sum(1)).ravel()
    c = sp.diags(np.where(out_deg > 0, 1.0 / np.maximum(out_deg, 1e-12), 0.0)) @ c
    own = pd.Index(users).get_indexer(user)
    sel = (own >= 0) & (col >= 0)
    hist = sp.csr_matrix(
        (np.ones(int(sel.sum())), (own[sel], col[sel])), shape=(len(users), n_items)
    )
    return np.asarray((hist @ c).todense())


def build_windows(
    kind: str, seg: str, base: str, cold_base: str, n: int, config: str | None = None
) -> list[Window]:
    from segrec.data import load_dataset
    from segrec.evaluate._config import EvalConfig
    from segrec.evaluate._protocol import make_split
    from segrec.evaluate._run import _build_phase, _context
    from segrec.features import TextEmbedder
    from segrec.recommend._hybrid import HybridRecommender, _rel_rows, _z

    spec, events = DATASETS[kind]
    ds, _ = load_dataset(spec.format(root=SHARED))
    if events:
        ds = ds.replace(interactions=ds.interactions[ds.interactions.event.isin(events)])
    cfg = EvalConfig.from_toml(config, cold_windows=n) if config else EvalConfig(cold_windows=n)
    split = make_split(ds)
    embedder = TextEmbedder(**cfg.features.get("embedder", {}))  # one model load for every window
    out = []
    for j, (tr, held) in enumerate([(split.fit_dataset(), split.val), *split.earlier_windows(n)]):
        art = _build_phase(tr, cfg, [seg], f"window {j}")
        ctx = _context(art, art.segmentations.get(seg), cfg)
        h = HybridRecommender(base=base, cold_base=cold_base, tune_shortlist=None).fit(ctx)
        ev = h._eval_set(held, K)  # the window's users as the hybrid tunes on them, all items
        if ev is None:
            continue
        ids, parts, mask, rel = ev
        cold = np.flatnonzero(parts.n <= h.config.cold_max)
        vectors = embedder.encode(tr.texts.text.fillna("").tolist())
        ridge = ridge_scores(tr, h, [ids[c] for c in cold], vectors)
        parts, mask, rel = parts.rows(cold), mask[cold], _rel_rows(rel, cold)
        ts = pd.to_datetime(tr.interactions.timestamp)
        first = ts.groupby(tr.interactions.item_id.astype(str).to_numpy()).min()
        age = ((ts.max() - first) / (ts.max() - ts.min())).reindex(h.item_ids_).fillna(1.0)
        item = {
            "log_pop": np.log1p(h.popularity_),
            "log_trending": np.log1p(h.recent_),
            "age": age.to_numpy(),
        }
        cohort = cohort_scores(tr, h, [ids[c] for c in cold])
        trans = transition_scores(tr, h, [ids[c] for c in cold])
        out.append(
            {
                "transitions": _z(trans, h.candidates_),
                "cohort": {b: _z(v, h.candidates_) for b, v in cohort.items()},
                "z": {k: np.broadcast_to(v, mask.shape) for k, v in parts.z.items()},
                "item": {k: np.broadcast_to(v, mask.shape) for k, v in item.items()},
                "mask": mask,
                "ok": np.isfinite(mask) & h.candidates_[None, :],
                "rel": rel,
                "ridge": [_z(r, h.candidates_) for r in ridge],
            }
        )
        print(f"window {len(out) - 1}: {len(cold)} cold users", file=sys.stderr, flush=True)
    return out


def ndcg(w: Window, s: np.ndarray) -> np.ndarray:
    from segrec.recommend._hybrid import _ndcg

    return _ndcg(s + w["mask"], w["rel"], K)


def grid_choice(
    frac: float = 0.0, grid: dict[str, list[float]] | None = None
) -> Callable[[list[Window]], Scorer]:
    """The grid's best combination (``frac`` 0), or the mean of the sum-normalised weights of
    its best ``frac`` share of combinations. ``grid``: the product's cold grid unless given."""
    from segrec.recommend._hybrid import DEFAULT_COLD_GRID

    grid = grid or DEFAULT_COLD_GRID
    COLD_KEYS = tuple(grid)

    def blend(w: Window, wt: np.ndarray) -> np.ndarray:
        return sum((c * w["z"][k] for k, c in zip(COLD_KEYS, wt, strict=True) if c), 0.0)

    combos = [np.array(c) for c in itertools.product(*grid.values()) if any(c)]

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


def on_ranks(kind: str, fit: Callable[[list[Window]], Scorer]) -> Callable[[list[Window]], Scorer]:
    """``fit`` on each component's per-user ranks instead of its z-scores: ``"rrf"`` gives an
    item 1/(60 + rank) (reciprocal rank fusion), ``"log"`` the z-score of -log(rank). Heavy-tailed
    components (popularity, trending) no longer swamp the others' z-scores."""
    from scipy.stats import rankdata

    def transform(w: Window) -> Window:
        if kind not in w.setdefault("ranked", {}):
            out = {}
            for name, v in w["z"].items():
                r = rankdata(-np.where(w["ok"], v, -np.inf), method="average", axis=1)
                s = 1.0 / (60.0 + r) if kind == "rrf" else -np.log(r)
                if kind == "log":
                    c = np.where(w["ok"], s, np.nan)
                    sd = np.nanstd(c, axis=1, keepdims=True)
                    s = (s - np.nanmean(c, axis=1, keepdims=True)) / np.where(sd > 1e-12, sd, 1.0)
                out[name] = np.where(np.ptp(v) > 0, s, 0.0)  # a dead component stays dead
            w["ranked"][kind] = {**w, "z": out}
        return w["ranked"][kind]  # type: ignore[no-any-return]

    def wrapped(train: list[Window]) -> Scorer:
        scorer = fit([transform(w) for w in train])
        return lambda w: scorer(transform(w))

    return wrapped


def cohort_choice(train: list[Window]) -> Scorer:
    """The grid plus cohort popularity: every grid combination with no cohort term or with one
    of :data:`COHORT_WEIGHTS` x :data:`COHORT_BANDWIDTHS`, best pooled NDCG@10."""
    from segrec.recommend._hybrid import COLD_KEYS, DEFAULT_COLD_GRID

    def blend(w: Window, wt: np.ndarray) -> np.ndarray:
        return sum((c * w["z"][k] for k, c in zip(COLD_KEYS, wt, strict=True) if c), 0.0)

    dead = np.array([not any(np.any(w["z"][k]) for w in train) for k in COLD_KEYS])
    combos = [
        np.array(c)
        for c in itertools.product(*DEFAULT_COLD_GRID.values())
        if any(c) and not np.array(c)[dead].any()
    ]
    extras = [(None, 0.0)] + [(b, a) for b in COHORT_BANDWIDTHS for a in COHORT_WEIGHTS]
    best, best_nd = (combos[0], extras[0]), -1.0
    for c in combos:
        base = [blend(w, c) for w in train]
        for b, a in extras:
            s = [
                x + a * w["cohort"][b] if b is not None else x
                for x, w in zip(base, train, strict=True)
            ]
            nd = np.concatenate([ndcg(w, x) for w, x in zip(train, s, strict=True)]).mean()
            if nd > best_nd:
                best, best_nd = (c, (b, a)), nd
    (c, (b, a)) = best
    print(f"  cohort pick: bandwidth {b}, weight {a}", file=sys.stderr)
    return lambda w: blend(w, c) + (a * w["cohort"][b] if b is not None else 0.0)


def keyed_grid(
    key: str, values: Callable[[Window], np.ndarray]
) -> Callable[[list[Window]], Scorer]:
    """The product's grid with ``values(window)`` as one more component ``key``, weights {0, 1}."""

    def with_key(w: Window) -> Window:
        name = f"grid key {key}"
        if name not in w:
            w[name] = {**w, "z": {**w["z"], key: values(w)}}
        return w[name]  # type: ignore[no-any-return]

    def fit(train: list[Window]) -> Scorer:
        from segrec.recommend._hybrid import DEFAULT_COLD_GRID

        scorer = grid_choice(grid={**DEFAULT_COLD_GRID, key: [0.0, 1.0]})(
            [with_key(w) for w in train]
        )
        return lambda w: scorer(with_key(w))

    return fit


def cohort_key(bandwidth: float) -> Callable[[list[Window]], Scorer]:
    """The grid with cohort popularity (fixed ``bandwidth``) as one more key, weights {0, 1}."""
    return keyed_grid(f"cohort {bandwidth}", lambda w: w["cohort"][bandwidth])


def ridge_choice(train: list[Window]) -> Scorer:
    """The text-to-item ridge setting and popularity blend with the best pooled NDCG@10."""
    best = max(
        ((i, a) for i in range(len(RIDGE_SETTINGS)) for a in RIDGE_WEIGHTS),
        key=lambda c: np.concatenate(
            [ndcg(w, w["z"]["pop"] + c[1] * w["ridge"][c[0]]) for w in train]
        ).mean(),
    )
    return lambda w: w["z"]["pop"] + best[1] * w["ridge"][best[0]]


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


def nested_cohort(wins: list[Window], n: int) -> None:
    """Session 10's confirmation on fresh cold users: the windows after the first ``n`` (those
    further back, ``--extra``) are only ever scored. On the first ``n``, leave-one-window-out
    decides whether the cohort key (bandwidth 0.02) enters the grid; the grid is then chosen on
    all ``n`` and scored on each extra window, against the plain grid chosen the same way."""
    product, extra = wins[:n], wins[n:]
    plain, keyed = grid_choice(), cohort_key(0.02)

    def loo(fit: Callable[[list[Window]], Scorer]) -> float:
        nd = [ndcg(w, fit(product[:i] + product[i + 1 :])(w)) for i, w in enumerate(product)]
        return float(np.concatenate(nd).mean())

    with_key, without = loo(keyed), loo(plain)
    take = with_key > without
    print(
        f"\nnested decision on the {n} product windows: grid {without:.4f}, with the cohort key "
        f"{with_key:.4f} -> {'with' if take else 'without'} the key\n"
    )
    score_extra(extra, (keyed if take else plain)(product), plain(product), "nested cohort")


def score_extra(extra: list[Window], chosen: Scorer, plain: Scorer, label: str) -> None:
    """Print the extra windows' table: popularity, the plain grid and ``chosen`` (both chosen
    on the product windows only), each extra window only scored."""
    print(f"| extra window (scored only) | popularity | plain grid | {label} |")
    print("|---|---|---|---|")
    pooled: dict[str, list[np.ndarray]] = {"pop": [], "plain": [], "chosen": []}
    for j, w in enumerate(extra):
        row = {
            "pop": ndcg(w, w["z"]["pop"]),
            "plain": ndcg(w, plain(w)),
            "chosen": ndcg(w, chosen(w)),
        }
        for k, v in row.items():
            pooled[k].append(v)
        cells = " | ".join(f"{v.mean():.4f}" for v in row.values())
        print(f"| further back {j + 1} ({len(w['mask'])} users) | {cells} |")
    means = {k: float(np.concatenate(v).mean()) for k, v in pooled.items()}
    cells = " | ".join(f"{m:.4f} ({m / means['pop']:.2f}x)" for m in means.values())
    print(f"| pooled | {cells} |")
    print(f"gain in ratio units: {(means['chosen'] - means['plain']) / means['pop']:+.4f}")


def main() -> int:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", choices=sorted(DATASETS))
    ap.add_argument("--segmentation", default="text")
    ap.add_argument("--base", default="pop")
    ap.add_argument("--cold-base", default="pop")
    ap.add_argument("--windows", type=int, default=3, help="earlier windows besides validation")
    ap.add_argument(
        "--extra",
        type=int,
        default=0,
        help="windows further back that only ever help choose (never held out): does choosing "
        "on more cold users carry over better to the same held-out windows?",
    )
    ap.add_argument("--config", help="evaluation settings (TOML), as for segrec evaluate")
    ap.add_argument(
        "--nested-cohort",
        action="store_true",
        help="with --extra: only the session-10 confirmation of the nested cohort decision, "
        "scored on the extra windows",
    )
    ap.add_argument(
        "--transitions",
        action="store_true",
        help="only popularity, the grid and the grid with a transitions key (session 11); with "
        "--extra, both are chosen on the product windows and scored on the extra ones",
    )
    args = ap.parse_args()
    if args.dataset != "synthetic" and not (SHARED / "datasets").is_dir():
        print(f"skipped: no shared datasets at {SHARED / 'datasets'}", file=sys.stderr)
        return 0
    wins = build_windows(
        args.dataset,
        args.segmentation,
        args.base,
        args.cold_base,
        args.windows + args.extra,
        args.config,
    )
    if args.nested_cohort:
        if not args.extra:
            ap.error("--nested-cohort needs --extra N (the windows it is scored on)")
        nested_cohort(wins, args.windows + 1)
        return 0
    n = args.windows + 1  # the windows that are held out in turn
    transitions = keyed_grid("transitions", lambda w: w["transitions"])
    if args.transitions and args.extra:
        product = wins[:n]
        score_extra(wins[n:], transitions(product), grid_choice()(product), "transitions key")
        return 0
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
        "text-to-item ridge": ridge_choice,
        "grid on reciprocal ranks": on_ranks("rrf", grid_choice()),
        "grid on log ranks": on_ranks("log", grid_choice()),
        "grid + cohort popularity": cohort_choice,
        "grid with a cohort key (bandwidth 0.02)": cohort_key(0.02),
    }
    if args.transitions:
        methods = {
            "popularity": methods["popularity"],
            "grid": methods["grid"],
            "grid with a transitions key": transitions,
        }
    if len(wins) > n:  # --extra: the grid again, choosing on the extra windows too
        methods[f"grid, {len(wins) - n} extra windows"] = grid_choice()
    print(f"| held-out window | {' | '.join(methods)} |")
    print(f"|---|{'---|' * len(methods)}")
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    for i, w in enumerate(wins[:n]):
        cells = []
        for m, fit in methods.items():
            pool = wins if "extra windows" in m else wins[:n]
            train = [v for j, v in enumerate(pool) if j != i]
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
