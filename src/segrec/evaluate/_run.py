"""The evaluation pipeline: split, build training-period artifacts, tune on validation, refit,
score the test period, compare segmentations and test significance."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from segrec._budget import check_budget, remaining, time_budget
from segrec._progress import stage
from segrec.data import Dataset
from segrec.diagnostics import TimeBudgetExceeded, UsageError
from segrec.evaluate._config import DATA_DEPENDENT, EvalConfig
from segrec.evaluate._cost import CostMeter
from segrec.evaluate._protocol import COLD_MAX, EvalSplit, make_split
from segrec.evaluate._result import EvalResult, MethodRun
from segrec.evaluate._scoring import ItemSpace, per_user_metrics, summarize
from segrec.evaluate._segmentations import (
    PhaseArtifacts,
    build_segmentation,
    pick_segmentation,
    search_k,
)
from segrec.recommend import FitContext, RecLists, Recommender
from segrec.segment import Segmentation

__all__ = ["RecommenderFactory", "run_evaluation"]

_log = logging.getLogger(__name__)

RecommenderFactory = Callable[..., Recommender]


def _factory(name: str, factories: Mapping[str, RecommenderFactory] | None) -> RecommenderFactory:
    base = name.split(":", 1)[0]
    if factories is not None and base in factories:
        return factories[base]
    from segrec.recommend import get_recommender  # type: ignore[attr-defined]

    return lambda **params: get_recommender(base, **params)  # type: ignore[return-value]


def _build_phase(ds: Dataset, cfg: EvalConfig, names: list[str], label: str) -> PhaseArtifacts:
    """Features and segmentations of ``ds``; ``label`` names the period on progress bars."""
    art = PhaseArtifacts(ds)
    wants_features = any(n in names for n in ("text", "graph", "fused", "gnn")) or any(
        m in cfg.methods for m in ("content", "hybrid")
    )
    with stage(label):
        if wants_features:
            try:
                art.features, art.featurizer = _features(
                    ds, cfg, any(n in names for n in ("graph", "fused"))
                )
            except ImportError as exc:
                art.skipped["features"] = f"ImportError: {exc}"
                _log.warning("user features unavailable: %s", exc)
        if cfg.item_vectors and art.features is not None:
            art.item_vectors, art.user_text = _text_space(art.features)
        for n in names:
            seg = build_segmentation(
                n, art, cfg.random_state, cfg.k_random, cfg.segmentation_params.get(n)
            )
            if seg is not None:
                art.segmentations[n] = seg
    return art


def _text_space(feats: Any) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Item vectors and the profiles of the users who wrote something, both in the sentence
    encoder's space (for content-based scores), or (None, None) without a text block."""
    items = feats.meta.get("item_text_vectors")
    if "text" not in feats.blocks or items is None or not len(items):
        return None, None
    source = feats.meta.get("text_source")
    wrote = ~feats.missing.get("text", np.zeros(feats.n_users, bool))
    if source is not None:
        wrote &= source.to_numpy() == "reviews"
    users = pd.DataFrame(feats.block("text")[wrote], index=feats.user_ids[wrote].astype(str))
    return items, users


def _features(ds: Dataset, cfg: EvalConfig, graph: bool) -> tuple[Any, Any]:
    """Text + behaviour user features of ``ds`` (plus a GCN ``graph`` block when wanted) and
    the fitted :class:`~segrec.features.UserFeaturizer` that made them (what a model keeps)."""
    from segrec.features import TextEmbedder, UserFeaturizer

    opts = dict(cfg.features)
    emb = opts.pop("embedder", None)
    if isinstance(emb, dict):
        emb = TextEmbedder(**emb)
    g = dict(cfg.graph) if graph and cfg.graph is not None else None
    fz = UserFeaturizer(
        emb, item_vectors=cfg.item_vectors, graph=g, random_state=cfg.random_state, **opts
    )
    return fz.fit_transform(ds), fz


def _context(art: PhaseArtifacts, seg: Segmentation | None, cfg: EvalConfig) -> FitContext:
    return FitContext(
        train=art.dataset,
        features=art.features,
        segmentation=seg,
        item_vectors=art.item_vectors,
        user_text=art.user_text,
        segment_names=dict(seg.names) if seg is not None else {},
        random_state=cfg.random_state,
    )


def _recommend(rec: Recommender, users: list[str], k: int) -> RecLists:
    if "reasons" in inspect.signature(rec.recommend).parameters:
        return rec.recommend(users, k, reasons=False)  # type: ignore[call-arg]
    return rec.recommend(users, k)


def _params_of(rec: Recommender, given: dict[str, Any]) -> dict[str, Any]:
    p = getattr(rec, "params", None)
    return p() if callable(p) else dict(given)


class _Evaluator:
    """Holds the two phases (fit -> val for tuning, train -> test for scoring)."""

    def __init__(
        self,
        split: EvalSplit,
        cfg: EvalConfig,
        tune: PhaseArtifacts,
        final: PhaseArtifacts,
        windows: list[tuple[PhaseArtifacts, pd.DataFrame]] | None = None,
    ) -> None:
        self.split, self.cfg, self.tune, self.final = split, cfg, tune, final
        #: earlier validation windows (artifacts of the period before each, its held-out rows)
        self.windows = windows or []
        self.kmax = max(cfg.cutoffs)
        #: what each method cost (seconds per phase, peak memory), ran or stopped
        self.costs: dict[str, dict[str, Any]] = {}
        self.val_users = [str(u) for u in split.val_users]
        self.test_users = [str(u) for u in split.test_users]
        self.val_rel = split.relevant("val")
        self.test_rel = split.relevant("test")
        self.cold = split.cold_mask(split.test_users)
        self.val_cold = split.cold_mask(split.val_users, period="fit")
        self.tune_space = ItemSpace(tune.dataset.item_ids, tune.dataset.interaction_matrix())
        self.final_space = ItemSpace(final.dataset.item_ids, final.dataset.interaction_matrix())

    def _val_score(self, rec: Recommender) -> tuple[float, float]:
        """Validation NDCG@k over all validation users and over the cold ones."""
        if not self.val_users:
            return float("nan"), float("nan")
        lists = _recommend(rec, self.val_users, self.cfg.k)
        codes = self.tune_space.codes(lists, self.val_users, self.cfg.k)
        rel = [self.val_rel[u] for u in self.val_users]
        nd = per_user_metrics(codes, rel, self.tune_space, [self.cfg.k])[f"ndcg@{self.cfg.k}"]
        nd = nd.to_numpy()
        cold = nd[self.val_cold]
        return float(nd.mean()), float(cold.mean()) if len(cold) else float("nan")

    def _candidate(
        self,
        factory: RecommenderFactory,
        params: dict[str, Any],
        ctx: FitContext,
        seg_name: str | None = None,
    ) -> Recommender:
        rec = factory(**params)
        tune = getattr(rec, "tune", None)
        if callable(tune):  # models with cheap inner weights (hybrid) tune them on val here
            kw: dict[str, Any] = {"k": self.cfg.k}
            if self.windows and _takes_windows(rec):
                kw["windows"] = [
                    (
                        _context(
                            art, art.segmentations.get(seg_name) if seg_name else None, self.cfg
                        ),
                        held,
                    )
                    for art, held in self.windows
                ]
            tune(ctx, self.split.val, **kw)
        else:
            rec.fit(ctx)
        return rec

    def _share(self, name: str, params: dict[str, Any], tuned: Any, final: Any) -> None:
        """Put the fitted baseline where the hybrid looks for its personal models."""
        from segrec.recommend._shared import base_cache_key, shared_cache

        key = base_cache_key(name, params, self.cfg.random_state)
        shared_cache(self.tune.dataset)[key] = tuned
        shared_cache(self.final.dataset)[key] = final

    def run(
        self,
        name: str,
        factory: RecommenderFactory,
        seg_name: str | None,
        grid: list[dict[str, Any]] | None = None,
        meter: CostMeter | None = None,
    ) -> MethodRun:
        cfg = self.cfg
        meter = meter if meter is not None else CostMeter()
        key = f"{name}:{seg_name}" if seg_name else name
        t0 = time.perf_counter()
        seg_tune = self.tune.segmentations.get(seg_name) if seg_name else None
        seg_final = self.final.segmentations.get(seg_name) if seg_name else None
        ctx_tune = _context(self.tune, seg_tune, cfg)
        tuning: list[dict[str, Any]] = []
        grid = grid if grid is not None else cfg.grid(name)
        best, best_score, best_cold, best_rec = grid[0], -np.inf, float("nan"), None
        if self.val_users:
            with stage(f"{key} · tuning", done_line=True), meter.phase("tune"):
                for i, params in enumerate(grid):
                    rec = self._candidate(factory, params, ctx_tune, seg_name)
                    score, cold_score = self._val_score(rec)
                    tuning.append(
                        {
                            "params": params,
                            f"val_ndcg@{cfg.k}": score,
                            f"val_ndcg@{cfg.k}_cold": cold_score,
                        }
                    )
                    if best_rec is None or score > best_score:
                        best, best_score, best_cold, best_rec = params, score, cold_score, rec
                    _check_projection(key, t0, i + 1, len(grid))
        # refit the chosen candidate (with any inner weights it tuned) on the whole train period;
        # a shallow copy keeps the tuning-period fit for the hybrid to reuse
        with stage(f"{key} · refit", done_line=True), meter.phase("fit"):
            rec = copy.copy(best_rec) if best_rec is not None else factory(**best)
            rec.fit(_context(self.final, seg_final, cfg))
        if name in cfg.baselines and best_rec is not None:
            self._share(name, best, best_rec, rec)
        with stage(f"{key} · scoring", done_line=True), meter.phase("score"):
            lists = _recommend(rec, self.test_users, self.kmax)
        with stage(f"{key} · metrics", done_line=True), meter.phase("metrics"):
            codes = self.final_space.codes(lists, self.test_users, self.kmax)
            rel = [self.test_rel[u] for u in self.test_users]
            pu = per_user_metrics(codes, rel, self.final_space, cfg.cutoffs)
            pu.index = pd.Index(self.test_users, name="user_id")
            summary = summarize(
                pu,
                self.cold,
                codes,
                self.final_space,
                cfg.cutoffs,
                cfg.n_bootstrap,
                cfg.random_state,
            )
        summary["params"] = _params_of(rec, best)
        summary[f"val_ndcg@{cfg.k}"] = None if not np.isfinite(best_score) else best_score
        summary[f"val_ndcg@{cfg.k}_cold"] = None if not np.isfinite(best_cold) else best_cold
        summary["tuned_params"] = best
        summary["tuning"] = tuning
        summary["segmentation"] = seg_name
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        _log.info(
            "%s%s: ndcg@%d=%.4f (%.1fs)",
            name,
            f":{seg_name}" if seg_name else "",
            cfg.k,
            summary[f"ndcg@{cfg.k}"] or 0.0,
            summary["seconds"],
        )
        return MethodRun(name, summary, pu, lists, rec)


def run_evaluation(
    dataset: Dataset,
    config: EvalConfig | None = None,
    *,
    recommenders: Mapping[str, RecommenderFactory] | None = None,
    **overrides: Any,
) -> EvalResult:
    """Run the whole evaluation of ``dataset`` under ``config`` (or keyword overrides).

    Tuning fits every method on the fit period and scores validation; the chosen parameters are
    refit on the whole training period and scored on the test period. ``recommenders``
    optionally maps method names to factories (default: :func:`segrec.recommend.get_recommender`).

        >>> # res = run_evaluation(ds, EvalConfig(protocol="v1")); res.save("results.json")
    """
    from segrec.evaluate._compare import compare_segmentations, significance

    if config is not None and overrides:
        config = config.model_copy(update=overrides)
    cfg = config if config is not None else EvalConfig(**overrides)
    cfg.check(recommenders or ())
    t0 = time.perf_counter()
    if cfg.events is not None:
        keep = dataset.interactions.event.astype(str).isin(cfg.events).to_numpy()
        if not keep.any():
            raise UsageError(
                f"events={cfg.events}: no interaction has these event types; dataset "
                f"{dataset.name!r} has {sorted(dataset.interactions.event.astype(str).unique())}"
            )
        dataset = dataset.replace(interactions=dataset.interactions[keep])
    split = make_split(dataset, cfg.protocol, cfg.test_frac, cfg.val_frac)
    timings: dict[str, float] = {"split": time.perf_counter() - t0}
    counts = split.counts()
    if counts["n_test_users"] == 0:
        raise UsageError(
            f"dataset {dataset.name!r}: protocol {cfg.protocol} leaves no test users; "
            + (
                "try --protocol llo or a dataset with more history per user"
                if cfg.protocol == "v1"
                else "leave-last-out tests users with at least 3 interactions; "
                "use a dataset with more history per user"
            )
        )
    seg_names = list(dict.fromkeys(cfg.segmentations))
    t = time.perf_counter()
    tune = _build_phase(split.fit_dataset(), cfg, seg_names, "tuning period")
    ev = _Evaluator(split, cfg, tune, tune)
    sp_factory = _factory("segment_pop", recommenders)
    k_search: dict[str, dict[str, Any]] = {}
    if ev.val_users:
        with stage("tuning period"):
            k_search = search_k(
                cfg,
                tune,
                lambda seg: sp_factory().fit(_context(tune, seg, cfg)),
                lambda rec: ev._val_score(rec)[0],
            )
    params = {
        s: {**(cfg.segmentation_params.get(s) or {}), **({"k": r["k"]} if r["k"] != "auto" else {})}
        for s, r in k_search.items()
    }
    final_cfg = cfg.model_copy(
        update={"segmentation_params": {**cfg.segmentation_params, **params}}
    )
    final = _build_phase(split.train_dataset(), final_cfg, seg_names, "training period")
    windows = []
    if "hybrid" in cfg.methods and cfg.cold_windows > 0 and _tunes_with_windows(recommenders):
        earlier = _enough_cold(split, split.earlier_windows(cfg.cold_windows), cfg)
        for j, (ds_w, held_w) in enumerate(earlier, 1):
            label = f"earlier window {j} of {len(earlier)}"
            windows.append((_build_phase(ds_w, final_cfg, seg_names, label), held_w))
    timings["artifacts"] = time.perf_counter() - t
    ev = _Evaluator(split, cfg, tune, final, windows)
    runs: dict[str, MethodRun] = {}
    skipped: dict[str, str] = {f"segmentation:{k}": v for k, v in final.skipped.items()}
    for name, reason in final.skipped.items():  # once, not once per period built
        if name != "features":  # already said by _build_phase
            _log.warning("segmentation %r skipped: %s", name, reason)
    t = time.perf_counter()
    built = [s for s in seg_names if s in final.segmentations]
    for name in [m for m in cfg.methods if m not in _ON_HYBRID_SEGMENTS]:
        if name != "segment_pop":
            _try_run(ev, runs, skipped, name, name, recommenders, None)
    # segment_pop on every segmentation first: the hybrid's segmentation is picked on validation
    if "segment_pop" in cfg.segment_methods or "segment_pop" in cfg.methods:
        for s in built:
            _try_run(ev, runs, skipped, f"segment_pop:{s}", "segment_pop", recommenders, s)
    for m in [m for m in cfg.segment_methods if m not in ("segment_pop", "hybrid")]:
        for s in built:
            _try_run(ev, runs, skipped, f"{m}:{s}", m, recommenders, s)
    hybrid_seg = pick_segmentation(cfg, final.segmentations, runs)
    if "segment_pop" in cfg.methods and f"segment_pop:{hybrid_seg}" in runs:
        runs["segment_pop"] = dataclasses.replace(
            runs[f"segment_pop:{hybrid_seg}"], name="segment_pop"
        )
    if "hybrid" in cfg.methods:
        hybrid_grid = _hybrid_grid(cfg, runs, recommenders)
        _try_run(ev, runs, skipped, "hybrid", "hybrid", recommenders, hybrid_seg, hybrid_grid)
    if "segment_strategy" in cfg.methods:
        grid = _strategy_grid(cfg, runs, recommenders, hybrid_seg, final.dataset)
        _try_run(
            ev,
            runs,
            skipped,
            "segment_strategy",
            "segment_strategy",
            recommenders,
            hybrid_seg,
            grid,
        )
    if "hybrid" in cfg.segment_methods:
        for s in built:
            key = f"hybrid:{s}"
            if s == hybrid_seg and "hybrid" in runs:
                runs[key] = dataclasses.replace(runs["hybrid"], name=key)
                continue
            grid = None
            if "hybrid" in runs:
                grid = [runs["hybrid"].summary["tuned_params"]]
            _try_run(ev, runs, skipped, key, "hybrid", recommenders, s, grid)
    timings["methods"] = time.perf_counter() - t
    if hybrid_seg is not None:
        _add_per_segment(runs, final.segmentations[hybrid_seg], hybrid_seg, cfg)
    seg_table = compare_segmentations(split, final, runs, cfg, tune)
    sig = significance(runs, cfg, ev.cold)
    timings["total"] = time.perf_counter() - t0
    res = EvalResult.assemble(
        split,
        final_cfg,
        counts,
        runs,
        seg_table,
        sig,
        skipped,
        {k: round(v, 2) for k, v in timings.items()},
        final,
        hybrid_seg,
    )
    res.protocol["segment_k"] = k_search
    res.protocol["method_costs"] = ev.costs
    res.protocol["method_seconds"] = cfg.method_seconds
    res.protocol["cold_windows"] = [_window_counts(art.dataset, held) for art, held in windows]
    untimed = _untimed_warning(dataset, cfg)
    if untimed:
        _log.warning(untimed)
        res.protocol["warnings"] = [*res.protocol.get("warnings", []), untimed]
    return res


def _takes_windows(rec: Any) -> bool:
    """Whether ``rec`` tunes on earlier validation windows (a ``tune(..., windows=)``)."""
    tune = getattr(rec, "tune", None)
    return callable(tune) and "windows" in inspect.signature(tune).parameters


def _tunes_with_windows(factories: Mapping[str, RecommenderFactory] | None) -> bool:
    """Whether the hybrid of this run takes earlier validation windows when tuning."""
    try:
        return _takes_windows(_factory("hybrid", factories)())
    except (TypeError, UsageError):
        return False


def _enough_cold(
    split: EvalSplit, earlier: list[tuple[Dataset, pd.DataFrame]], cfg: EvalConfig
) -> list[tuple[Dataset, pd.DataFrame]]:
    """The earlier windows the hybrid's cold weights need: latest first, while the cold users
    of the validation period and of the windows kept are fewer than ``cold_users_enough``."""
    if not cfg.cold_users_enough:
        return earlier
    have = int(split.cold_mask(split.val_users, "fit").sum())
    kept: list[tuple[Dataset, pd.DataFrame]] = []
    for ds_w, held_w in earlier:
        if have >= cfg.cold_users_enough:
            _log.info(
                "%d cold validation users: %d of %d earlier windows are enough",
                have,
                len(kept),
                len(earlier),
            )
            break
        kept.append((ds_w, held_w))
        have += _window_counts(ds_w, held_w)["n_cold_users"]
    return kept


def _window_counts(ds: Dataset, held: pd.DataFrame) -> dict[str, Any]:
    """Sizes of one earlier validation window (for the results JSON)."""
    n_hist = ds.interactions.user_id.astype(str).value_counts()
    users = pd.Index(held.user_id.astype(str).unique())
    n = n_hist.reindex(users).fillna(0).to_numpy()
    return {
        "n_before": len(ds.interactions),
        "n_rows": len(held),
        "n_users": len(users),
        "n_cold_users": int((n <= COLD_MAX).sum()),
    }


def _untimed_warning(dataset: Dataset, cfg: EvalConfig) -> str | None:
    """Events without a time (Last.fm plays, FilmTrust ratings) all sit at timestamp 0, so a
    global temporal split puts every one of them in train: say so instead of a quiet bias."""
    untimed = set(dataset.meta.get("untimed_events") or [])
    if cfg.protocol != "v1" or not untimed:
        return None
    present = set(dataset.interactions.event.astype(str).unique())
    hit = sorted(present if "all" in untimed else untimed & present)
    if not hit:
        return None
    if set(hit) >= present:  # nothing is timed: every row sits at 0 and file order decides
        return (
            f"no event of {dataset.name!r} carries a time, so protocol v1 splits by file order "
            "(the first 80% of rows train): a temporal split only if the file is in time order; "
            "otherwise use --protocol llo"
        )
    return (
        f"events {hit} of {dataset.name!r} carry no time, so protocol v1 keeps them all in "
        "train; keep only timed events (config events = [...]) or use --protocol llo"
    )


def _add_per_segment(
    runs: Mapping[str, MethodRun], seg: Segmentation, seg_name: str, cfg: EvalConfig
) -> None:
    """Every method's NDCG@k per segment of the report's segmentation (``per_segment``), and
    its fairness gap over the segments with at least ``min_segment_users`` test users."""
    from segrec.evaluate._compare import fairness, per_segment

    metric = f"ndcg@{cfg.k}"
    for run in runs.values():
        table = per_segment(run.per_user, seg, metric)
        run.summary["per_segment"] = {
            "segmentation": seg_name,
            "fairness": fairness(table[table.n >= cfg.min_segment_users]),
            "segments": [
                {
                    "segment": int(r["segment"]),
                    "name": str(r["name"]),
                    "n": int(r["n"]),
                    metric: float(r["mean"]),
                }
                for _, r in table.iterrows()
            ],
        }


#: methods run on the segmentation the hybrid uses, once it is picked on validation
_ON_HYBRID_SEGMENTS = ("hybrid", "segment_strategy")


def _ranked_baselines(cfg: EvalConfig, runs: Mapping[str, MethodRun], col: str) -> list[str]:
    """The baselines that ran, best validation ``col`` first."""
    return sorted(
        (b for b in cfg.baselines if b in runs and runs[b].summary.get(col) is not None),
        key=lambda b: -runs[b].summary[col],
    )


def _strategy_grid(
    cfg: EvalConfig,
    runs: Mapping[str, MethodRun],
    factories: Mapping[str, RecommenderFactory] | None,
    seg_name: str | None,
    train: Dataset,
) -> list[dict[str, Any]] | None:
    """One candidate set for ``segment_strategy``: ``segment_pop`` and the ``budget`` best
    baselines, each with the parameters its own tuning chose, plus price-tier variants of the
    first two when items have prices. Which rule each segment gets is tuned inside."""
    if "segment_strategy" in cfg.grids or (
        factories is not None and "segment_strategy" in factories
    ):
        return None
    rules: list[dict[str, Any]] = []
    sp_run = runs.get(f"segment_pop:{seg_name}")
    if sp_run is not None:
        rules.append({"model": "segment_pop", "params": dict(sp_run.summary["tuned_params"])})
    for b in _ranked_baselines(cfg, runs, f"val_ndcg@{cfg.k}")[: cfg.budget]:
        rules.append({"model": b, "params": dict(runs[b].summary["tuned_params"])})
    items = train.items
    if "price" in items and items.price.notna().sum() >= 3:
        rules += [{**r, "price_tier": "auto"} for r in rules[:2]]
    return [{"candidates": rules}] if rules else None


def _hybrid_grid(
    cfg: EvalConfig,
    runs: Mapping[str, MethodRun],
    factories: Mapping[str, RecommenderFactory] | None,
) -> list[dict[str, Any]] | None:
    """Hybrid candidates: the ``budget`` baselines with the best validation NDCG, each with the
    parameters its own tuning chose (blend weights are then tuned on validation inside)."""
    if "hybrid" in cfg.grids or (factories is not None and "hybrid" in factories):
        return None
    col = f"val_ndcg@{cfg.k}"
    ranked = _ranked_baselines(cfg, runs, col)
    if not ranked:
        return None
    cold_ranked = [b for b in _ranked_baselines(cfg, runs, f"{col}_cold") if b in ranked]
    cold = {}
    if cold_ranked:  # the baseline that did best on the cold validation users
        cb = cold_ranked[0]
        cold = {"cold_base": cb, "cold_base_params": dict(runs[cb].summary["tuned_params"])}
    return [
        {"base": b, "base_params": dict(runs[b].summary["tuned_params"]), **cold}
        for b in ranked[: cfg.budget]
    ]


def _check_projection(key: str, t0: float, done: int, n: int) -> None:
    """Stop a method early when its tuning so far says it will not fit its time budget: the
    ``n - done`` candidates left and the refit, at the mean time of those tried."""
    left = remaining()
    if left is None:
        return
    per = (time.perf_counter() - t0) / done
    need = per * (n - done + 1)
    if need > left:
        raise TimeBudgetExceeded(
            f"method {key!r}: stopped after {done} of {n} tuning candidates; at {per:.0f}s "
            f"each, the rest and the refit would take about {need:.0f}s more, beyond its time "
            "budget; raise method_seconds (or leave it unset) to let it finish"
        )
    check_budget(f"tuning {key!r}")


def _try_run(
    ev: _Evaluator,
    runs: dict[str, MethodRun],
    skipped: dict[str, str],
    key: str,
    method: str,
    factories: Mapping[str, RecommenderFactory] | None,
    seg: str | None,
    grid: list[dict[str, Any]] | None = None,
) -> None:
    meter = CostMeter()
    try:
        factory = _factory(method, factories)
        with (
            stage(key, done_line=True),
            meter.running(),
            time_budget(ev.cfg.method_seconds, f"method {key!r}"),
        ):
            runs[key] = ev.run(method, factory, seg, grid, meter)
        runs[key].name = key
        runs[key].summary["cost"] = meter.as_dict()
        ev.costs[key] = {"status": "ran", **meter.as_dict()}
    except TimeBudgetExceeded as exc:
        skipped[key] = str(exc)
        ev.costs[key] = {"status": "skipped: time budget", **meter.as_dict()}
        _log.warning("method %r skipped: %s", key, exc)
    except (ImportError, UsageError) as exc:
        # a data condition reads as itself; a missing package says it is one
        skipped[key] = str(exc) if isinstance(exc, UsageError) else f"{type(exc).__name__}: {exc}"
        quiet = isinstance(exc, UsageError) and method in DATA_DEPENDENT
        (_log.info if quiet else _log.warning)("method %r skipped: %s", key, exc)
