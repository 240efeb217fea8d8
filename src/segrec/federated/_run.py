"""``run_federated``: federated k-means over clients, then an ordinary model folder.

1. The shared state is fitted on data the server already holds (here: the dataset given; in a
   deployment, a public or consented sample): the featurizers and text encoder, the fusion, and
   the first centres (k-means++ on ``init_users`` of those users).
2. Users are dealt to ``n_clients`` clients; each gets its own folder of raw rows.
3. The clients compute their users' features locally and run the protocol
   (:mod:`segrec.federated._protocol`) over Flower (``engine="flower"``) or without it
   (``engine="local"``); the server only ever sees the masked sums.
4. The existing fit machinery builds the model folder with the segmenter's centres replaced
   by the federated ones (the segments, recommender and profiles follow them), and
   ``privacy_ledger.json`` is written beside ``model.json``.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.federated._accounting import calibrate_sigma, ledger
from segrec.federated._partition import assign_clients, write_partitions, write_shared
from segrec.federated._protocol import FederatedServer, clip_rows

__all__ = ["FederatedResult", "SharedState", "prepare_shared", "run_federated", "run_protocol"]

_log = logging.getLogger(__name__)
_SEG = "fused"


@dataclass
class FederatedResult:
    """What a federated run gives: the model, its folder, the centres and the ledger."""

    model: Any
    folder: Path | None
    centers: np.ndarray
    central_centers: np.ndarray
    init_centers: np.ndarray
    ledger: dict[str, Any]
    history: list[dict[str, Any]]
    wire: list[dict[str, Any]] = field(default_factory=list)
    features: np.ndarray | None = None  # the central fused rows (for comparisons only)
    user_ids: pd.Index | None = None


def default_clip(fusion: Any) -> float:
    """A clipping bound from the fusion's declared block weights (not from the data): each
    fused block has unit total variance times its weight, so rows have squared norm about
    ``sum(w^2)``; twice that norm clips only outliers."""
    w = [float(b["weight"]) for b in fusion.blocks]
    return 2.0 * math.sqrt(sum(x * x for x in w) or 1.0)


@dataclass
class SharedState:
    """What the server holds before any round: the serving dataset, the fitted artifacts
    (featurizers, the fused k-means it replaces), every user's fused row (for comparisons
    only: clients recompute their own), the clip bound and the first centres."""

    dataset: Dataset
    config: Any
    artifacts: Any
    segmenter: Any
    features: np.ndarray
    clip: float
    init: np.ndarray
    k: int


def prepare_shared(
    dataset: Dataset,
    config: Any = None,
    *,
    k: int = 7,
    clip: float | None = None,
    init_users: int = 200,
) -> SharedState:
    """Fit the shared state on data the server holds (step 1 of the module docstring)."""
    from segrec.evaluate import EvalConfig
    from segrec.evaluate._run import _build_phase
    from segrec.model._fit import serving_dataset

    cfg = config if config is not None else EvalConfig(graph=None)
    params = {**cfg.segmentation_params, _SEG: {"k": int(k)}}
    cfg = cfg.model_copy(update={"segmentation_params": params, "graph": None})
    ds = serving_dataset(dataset, cfg)
    art = _build_phase(ds, cfg, [_SEG], "shared state")
    if _SEG not in art.segmentations:
        raise UsageError(f"federated: no user features to segment ({art.skipped.get(_SEG)})")
    assert art.features is not None  # a fused segmentation was built from them
    segmenter = art.assigners[_SEG].segmenter
    x_all = np.asarray(segmenter.fusion_.transform(art.features), dtype=np.float64)
    bound = float(clip) if clip is not None else default_clip(segmenter.fusion_)
    init = _init_centers(x_all, bound, k, init_users, cfg.random_state)
    return SharedState(ds, cfg, art, segmenter, x_all, bound, init, int(k))


def run_protocol(
    shared: SharedState,
    *,
    n_clients: int = 10,
    rounds: int = 10,
    dp_epsilon: float | None = None,
    dp_delta: float = 1e-5,
    engine: Literal["flower", "local"] = "flower",
    processes: int = 1,
    workdir: str | Path | None = None,
) -> tuple[FederatedServer, dict[str, Any], list[dict[str, Any]]]:
    """Deal the users to clients and run the rounds (steps 2-3); returns the server (final
    centres, history), the privacy ledger and the summaries of what the clients sent."""
    if rounds < 1:
        raise UsageError(f"--rounds must be at least 1; got {rounds}")
    bound = shared.clip
    sigma = 0.0 if dp_epsilon is None else calibrate_sigma(dp_epsilon, dp_delta, rounds, bound)
    server = FederatedServer(shared.init, rounds, bound, sigma)
    wire: list[dict[str, Any]] = []
    art = shared.artifacts
    tmp = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="segrec-fed-"))
    try:
        users = pd.Index(art.features.user_ids)
        clients = assign_clients(users, n_clients, shared.config.random_state)
        dirs = write_partitions(shared.dataset, clients, tmp / "clients")
        folder = write_shared(
            tmp / "shared",
            art.featurizer,
            shared.segmenter.fusion_,
            shared.init,
            {"rounds": rounds, "clip": bound},
        )
        _log.info("federated: %d clients, %d rounds, sigma=%.3g", n_clients, rounds, sigma)
        if engine == "flower":
            from segrec.federated._deploy import run_flower

            run_flower(server, dirs, folder, bound, processes, tmp / "flower", wire)
        else:
            from segrec.federated._local import run_local

            run_local(server, dirs, folder, bound, processes, wire)
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    book = ledger(
        dp_epsilon, dp_delta if dp_epsilon else None, rounds, bound, sigma, n_clients, engine
    )
    book["history"] = server.history
    return server, book, wire


def run_federated(
    dataset: Dataset,
    config: Any = None,
    *,
    n_clients: int = 10,
    rounds: int = 10,
    k: int = 7,
    dp_epsilon: float | None = None,
    dp_delta: float = 1e-5,
    clip: float | None = None,
    init_users: int = 200,
    engine: Literal["flower", "local"] = "flower",
    processes: int = 1,
    out: str | Path | None = None,
    workdir: str | Path | None = None,
) -> FederatedResult:
    """Federated segmentation of ``dataset`` into ``k`` segments; see the module docstring.

    >>> # res = run_federated(ds, n_clients=10, rounds=10, dp_epsilon=4, out="fed-model/")
    """
    from segrec.model._fit import Choice, fit_chosen

    shared = prepare_shared(dataset, config, k=k, clip=clip, init_users=init_users)
    server, book, wire = run_protocol(
        shared,
        n_clients=n_clients,
        rounds=rounds,
        dp_epsilon=dp_epsilon,
        dp_delta=dp_delta,
        engine=engine,
        processes=processes,
        workdir=workdir,
    )
    art, segmenter = shared.artifacts, shared.segmenter
    central = np.asarray(segmenter.centers_, dtype=np.float64).copy()
    _replace_centres(art, segmenter, server.centers, shared.dataset)
    model = fit_chosen(
        shared.dataset, shared.config, Choice(_SEG, {"k": int(k)}, {}), artifacts=art
    )
    model.info["federated"] = {k2: v for k2, v in book.items() if k2 != "history"}
    folder = None
    if out is not None:
        from segrec.model._folder import write_json

        folder = model.save(out)
        write_json(folder / "privacy_ledger.json", book)
    return FederatedResult(
        model,
        folder,
        server.centers,
        central,
        shared.init,
        book,
        server.history,
        wire,
        shared.features,
        pd.Index(art.features.user_ids),
    )


def _init_centers(x: np.ndarray, clip: float, k: int, n: int, seed: int) -> np.ndarray:
    """k-means++ on ``n`` seeded users of the data the server holds (clipped like clients')."""
    from sklearn.cluster import kmeans_plusplus

    if k > len(x):
        raise UsageError(f"k={k} is larger than the number of users ({len(x)}); lower --k")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x), size=min(max(n, k), len(x)), replace=False)
    centers, _ = kmeans_plusplus(clip_rows(x[pick], clip), k, random_state=seed)
    return np.asarray(centers, dtype=np.float64)


def _replace_centres(art: Any, segmenter: Any, centers: np.ndarray, ds: Dataset) -> None:
    """Put the federated centres into the fitted segmenter and relabel every user by them."""
    from segrec.segment import Segmentation

    segmenter.centers_ = np.asarray(centers, dtype=np.float32)
    segmenter._id_map_ = {i: i for i in range(len(centers))}
    detail = segmenter.predict_detail(art.features)
    x = segmenter.fusion_.transform(art.features)
    old = art.segmentations[_SEG]
    seg = Segmentation(
        user_ids=old.user_ids,
        labels=np.asarray(detail.labels, np.int64),
        strength=np.asarray(detail.strength, np.float64),
        method="federated-kmeans",
        centers=segmenter.centers_,
        quality=segmenter._quality(x, detail.labels, ds, art.features, {}),
        meta={**old.meta, "federated": True},
    )
    segmenter.segmentation_ = seg
    art.segmentations[_SEG] = seg
