"""Fit a :class:`SegrecModel` on every interaction with what validation chose.

The evaluation (:func:`segrec.evaluate.run_evaluation`) tunes; this module takes its choices
(the hybrid's segmentation and its k, the hybrid's base model and blend weights) and fits them on
the whole deduplicated dataset. Nothing is re-tuned here. The choices come from an in-memory
:class:`~segrec.evaluate.EvalResult`, from a finished run's folder (``--from-run``), or from a
fresh evaluation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec._progress import stage
from segrec.data import Dataset
from segrec.diagnostics import UsageError

__all__ = ["Choice", "choice_from_result", "choice_from_run", "fit_model", "serving_dataset"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """What a model is fit with: the ``segmentation`` (a name of the evaluation's catalogue)
    and its parameters (the k validation picked), the hybrid's settings (blend and cold weights
    included) and, for a reader, ``why`` (the validation figures behind each choice)."""

    segmentation: str | None
    segmentation_params: dict[str, Any] = field(default_factory=dict)
    hybrid: dict[str, Any] = field(default_factory=dict)
    why: dict[str, Any] = field(default_factory=dict)


def choice_from_result(res: Any) -> Choice:
    """The choices of an in-memory evaluation result."""
    cfg = res.config
    seg = res.protocol.get("hybrid_segmentation")
    run = res.runs.get("hybrid")
    hybrid = run.model.config.model_dump(mode="json") if run is not None else {}
    return Choice(
        seg,
        dict(cfg.segmentation_params.get(seg) or {}) if seg else {},
        hybrid,
        _why(res.to_json(), seg),
    )


def _why(results: dict[str, Any], seg: str | None) -> dict[str, Any]:
    methods = results.get("methods", {})
    k = results.get("protocol", {}).get("k", 10)
    col = f"val_ndcg@{k}"
    cands = {
        name.split(":", 1)[1]: m.get(col)
        for name, m in methods.items()
        if name.startswith("segment_pop:")
    }
    hy = methods.get("hybrid", {})
    return {
        "segmentation": (
            f"'{seg}': the best {col} of segment_pop on each segmentation built"
            if seg
            else "no segmentation was built"
        ),
        f"segmentation_{col}": cands,
        "segment_k": results.get("protocol", {}).get("segment_k", {}).get(seg),
        "hybrid": "base model and blend weights with the best validation "
        f"{col} ({hy.get(col)}); cold weights tuned on cold validation users",
        f"hybrid_test_ndcg@{k}": hy.get(f"ndcg@{k}"),
    }


def choice_from_run(run_dir: str | Path) -> tuple[Choice, dict[str, Any]]:
    """The choices (and the evaluation config) of a finished ``segrec run`` folder: its
    ``model/model.json`` when present, else its ``results.json``."""
    run = Path(run_dir)
    model_json = run / "model" / "model.json"
    from segrec.model._folder import read_json

    if model_json.exists():
        info = read_json(model_json)
        c = info["chosen"]
        return Choice(
            c["segmentation"], c["segmentation_params"], c["hybrid"], c.get("why", {})
        ), info["config"]
    results = run / "results.json"
    if not results.exists():
        raise UsageError(
            f"--from-run {run}: no model/model.json or results.json there; pass the --out "
            "folder of a finished `segrec run` or `segrec demo`"
        )
    res = read_json(results)
    proto = res.get("protocol", {})
    seg = proto.get("hybrid_segmentation")
    cfg = proto.get("config")
    if cfg is None:
        raise UsageError(f"{results}: written by an older segrec without its config; re-run it")
    params = dict((cfg.get("segmentation_params") or {}).get(seg) or {})
    hy = dict(res.get("methods", {}).get("hybrid", {}).get("params") or {})
    hy.pop("model", None)
    hy.pop("base_model", None)
    return Choice(seg, params, hy, _why(res, seg)), cfg


def serving_dataset(ds: Dataset, cfg: Any) -> Dataset:
    """What a model is fit on: the events the evaluation kept (``cfg.events``), every
    (user, item) pair once (earliest kept), every text."""
    from segrec.evaluate._protocol import _period_dataset, dedupe_interactions

    if cfg.events is not None:
        keep = ds.interactions.event.astype(str).isin(cfg.events).to_numpy()
        ds = ds.replace(interactions=ds.interactions[keep])
    return _period_dataset(ds, dedupe_interactions(ds.interactions), pd.Series({"*": np.inf}))


def fit_model(
    dataset: Dataset,
    config: Any = None,
    *,
    result: Any = None,
    from_run: str | Path | None = None,
    previous: Any = None,
) -> Any:
    """A :class:`SegrecModel` fit on all of ``dataset`` with what validation chose.

    The choices come from ``result`` (an in-memory evaluation of this dataset), else from
    ``from_run`` (a finished run's folder), else from a new evaluation under ``config``
    (an :class:`~segrec.evaluate.EvalConfig`). With ``previous`` (a model) segment ids are kept
    stable by matching new segments to old ones (see :meth:`SegrecModel.refresh`).

        >>> # model = fit_model(ds); model.save("model/")
    """
    from segrec.evaluate import EvalConfig, run_evaluation

    if result is not None:
        choice, cfg = choice_from_result(result), result.config
    elif from_run is not None:
        choice, raw = choice_from_run(from_run)
        cfg = EvalConfig(**raw) if config is None else config
    else:
        cfg = config if config is not None else EvalConfig()
        with stage("tuning"):
            res = run_evaluation(dataset, cfg)
        choice, cfg = choice_from_result(res), res.config
    return fit_chosen(serving_dataset(dataset, cfg), cfg, choice, previous=previous)


def fit_chosen(
    ds: Dataset, cfg: Any, choice: Choice, previous: Any = None, artifacts: Any = None
) -> Any:
    """Fit ``choice`` on ``ds`` (already the serving dataset) under ``cfg``. ``artifacts``:
    features and the chosen segmentation already built (a PhaseArtifacts, as the Spark engine
    builds them), else they are built here."""
    from segrec import __version__
    from segrec.describe import SegmentProfiles, describe_segments
    from segrec.evaluate._run import _build_phase, _context
    from segrec.model._drift import reference_of
    from segrec.model._folder import dataset_fingerprint
    from segrec.model._map import segment_map
    from segrec.model._model import SegrecModel
    from segrec.model._store import UserStore
    from segrec.recommend import HybridConfig, HybridRecommender

    t0 = time.perf_counter()
    name = choice.segmentation
    if name is not None:
        params = {**cfg.segmentation_params, name: choice.segmentation_params}
        cfg = cfg.model_copy(update={"segmentation_params": params})
    _log.info("fitting the model on all %s interactions", f"{len(ds.interactions):,}")
    art = artifacts
    if art is None:
        art = _build_phase(ds, cfg, [name] if name else [], "all data")
    seg, assigner = _segmentation(art, name)
    if previous is not None and seg is not None:
        seg, assigner = _align(seg, assigner, previous)
    with stage("all data · hybrid"):
        hybrid = HybridRecommender(config=HybridConfig(**choice.hybrid))
        hybrid.fit(_context(art, seg, cfg))
    profiles = SegmentProfiles([], {"method": None})
    if seg is not None:
        profiles = describe_segments(ds, seg, art.features)
        hybrid.set_segment_names(profiles.names_by_source_id(seg.segment_ids))
    segments = _segments_frame(ds, seg, profiles, assigner, art.features)
    drawn = segment_map(art.features, segments, random_state=cfg.random_state) if seg else None
    encoder = getattr(art.featurizer, "embedder_", None) if art.featurizer is not None else None
    info = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "segrec_version": __version__,
        "config": cfg.model_dump(mode="json"),
        "chosen": {
            "segmentation": choice.segmentation,
            "segmentation_params": choice.segmentation_params,
            "n_segments": int(seg.k) if seg is not None else 0,
            "recommender": "hybrid",
            "hybrid": hybrid.config.model_dump(mode="json"),
            "why": choice.why,
        },
        "dataset": dataset_fingerprint(ds),
        "seconds_to_fit": round(time.perf_counter() - t0, 2),
    }
    if drawn is not None:
        info["map"] = drawn[1]
    store = UserStore.from_dataset(ds)
    for row in segments.itertuples():
        store.record(
            str(row.user_id), int(row.segment_id), float(row.strength), float(row.distance), "fit"
        )
    return SegrecModel(
        info=info,
        encoder=encoder,
        featurizer=art.featurizer,
        assigner=assigner,
        recommender=hybrid,
        profiles=profiles,
        store=store,
        segments=segments,
        reference=reference_of(segments),
        items=_items(ds),
        map_points=drawn[0] if drawn is not None else None,
    )


def _items(ds: Dataset) -> pd.DataFrame:
    from segrec.data import item_labels

    labels = item_labels(ds).reindex(ds.item_ids.astype(str))
    return pd.DataFrame({"item_id": ds.item_ids.astype(str), "label": labels.fillna("").to_numpy()})


def _segmentation(art: Any, name: str | None) -> tuple[Any, Any]:
    """The segmentation ``name`` built on ``art`` and its fitted assigner (none: no segments)."""
    from segrec.model._none import NoSegments

    if name is None:
        return None, NoSegments()
    seg = art.segmentations.get(name)
    if seg is None:
        reason = art.skipped.get(name, "unknown reason")
        raise UsageError(f"segmentation '{name}' could not be built: {reason}")
    return seg, art.assigners[name]


def _segments_frame(
    ds: Dataset, seg: Any, profiles: Any, assigner: Any, feats: Any
) -> pd.DataFrame:
    """The batch assignment of every fitted user, as published (``segments.parquet``: user_id,
    segment_id, strength, segment) plus the segmentation's own id (``source_id``), the nearest
    alternative and the distance to the centre."""
    if seg is None:
        users = pd.Index(ds.user_ids.astype(str), name="user_id")
        return pd.DataFrame(
            {
                "user_id": users,
                "segment_id": -1,
                "strength": 0.0,
                "segment": pd.Series(pd.NA, index=users, dtype="string").to_numpy(),
                "source_id": -1,
                "alternative": -1,
                "distance": np.nan,
            }
        )
    detail = assigner.predict_detail(feats, ds)
    order = pd.Index((feats.user_ids if feats is not None else ds.user_ids).astype(str))
    pos = order.get_indexer(pd.Index(seg.user_ids.astype(str)))
    df = profiles.frame(seg)
    df["source_id"] = seg.labels.astype("int64")
    raw_alt = np.asarray(detail.alternative)[pos]
    alt = np.array([profiles.published_id(int(a)) if a >= 0 else -1 for a in raw_alt])
    df["alternative"] = np.where(alt == df.segment_id.to_numpy(), -1, alt).astype("int64")
    df["distance"] = np.asarray(detail.distance, dtype=np.float64)[pos]
    return df


def _align(seg: Any, assigner: Any, previous: Any) -> tuple[Any, Any]:
    """Relabel ``seg`` (and its assigner) so segments sharing most of their members with one of
    the previous model's keep its id (:func:`~segrec.model._refresh.match_by_members`)."""
    from segrec.model._refresh import Relabelled, match_by_members, relabel_segmentation

    new = pd.Series(seg.labels, index=pd.Index(seg.user_ids.astype(str)))
    old = previous.segments.source_id
    old.index = old.index.astype(str)
    mapping = match_by_members(new, old)
    return relabel_segmentation(seg, mapping), Relabelled(assigner, mapping)
