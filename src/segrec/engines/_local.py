"""The local engine: the library's own calls in this process (pandas, numpy, scikit-learn).

``score`` is a thin loop over :class:`~segrec.model.SegrecModel`: ``assign_dataset`` for every
user of the dataset and ``recommend_users`` for those the model knows, in chunks so memory stays
bounded. The Spark engine runs the same two calls once per partition.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from segrec.diagnostics import UsageError
from segrec.engines._base import EngineConfig, ScoreResult, SegmentRun

__all__ = ["LocalEngine", "build_features", "score_frames"]

#: users per chunk of a local batch score (bounded memory; the Spark engine's partitions)
_CHUNK = 20_000


def build_features(
    ds: Any, blocks: list[str], backend: str, random_state: int, model: str | None = None
) -> Any:
    """UserFeatures with the requested blocks (the graph block from GCN embeddings)."""
    from segrec.features._fusion import build_user_features
    from segrec.features._text import TextEmbedder

    embedder = TextEmbedder(backend=backend, model=model) if "text" in blocks else None
    feats = build_user_features(ds, embedder, text="text" in blocks, behavior="behavior" in blocks)
    if "graph" in blocks:
        from segrec.graph import graph_embeddings

        g = graph_embeddings(ds, feats if feats.blocks else None, random_state=random_state)
        feats = feats.with_block("graph", g.block("graph"), g.missing["graph"])
    missing = [b for b in blocks if b not in feats.blocks]
    if missing:
        raise UsageError(f"--features: the dataset gives no data for block(s) {missing}")
    return feats


def score_frames(
    model: Any, ds: Any, k: int, reasons: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(assignments, recommendations) of the users with rows in ``ds``: every user assigned
    from their rows (:meth:`SegrecModel.assign_dataset`), top-``k`` lists for those the model knows
    (:meth:`SegrecModel.recommend_users`), each row with the user's segment name."""
    own = set(ds.interactions.user_id.astype(str)) | set(ds.texts.user_id.astype(str))
    own |= set(ds.social.src.astype(str))
    assign = model.assign_dataset(ds)
    # friends named in ties are users of ``ds`` too; each user is scored where their rows are
    assign = assign[assign.user_id.isin(own)].reset_index(drop=True)
    names = model.segment_names
    assign["segment"] = assign.segment_id.map(names).astype("string")
    known = [u for u, new in zip(assign.user_id, assign.new, strict=True) if not new]
    if known:
        recs = model.recommend_users(known, k, reasons=reasons).frame()
        if "reason" not in recs:
            recs.insert(4, "reason", pd.Series([None] * len(recs), dtype=object))
        recs["item"] = recs.item_id.astype(str).map(model.item_labels).astype("string")
    else:
        recs = pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in _REC_COLUMNS.items() if c != "segment_id"}
        )
    seg = model.segments
    users = recs.user_id.astype(str)
    recs["segment_id"] = users.map(seg.segment_id).fillna(-1).astype("int64")
    recs["segment"] = recs.segment_id.map(names).astype("string")
    return assign, recs


_REC_COLUMNS = {
    "user_id": "object",
    "rank": "int64",
    "item_id": "object",
    "score": "float64",
    "reason": "object",
    "item": "string",
    "segment_id": "int64",
}


def write_scores(
    out: Path, assign: pd.DataFrame, recs: pd.DataFrame, seconds: dict[str, float]
) -> ScoreResult:
    """``assignments.parquet`` and ``recommendations.parquet`` in ``out`` (sorted by user, so
    both engines write the same bytes for the same rows)."""
    out.mkdir(parents=True, exist_ok=True)
    assign = assign.sort_values("user_id", kind="mergesort").reset_index(drop=True)
    recs = recs.sort_values(["user_id", "rank"], kind="mergesort").reset_index(drop=True)
    files = {
        "assignments": out / "assignments.parquet",
        "recommendations": out / "recommendations.parquet",
    }
    assign.to_parquet(files["assignments"], index=False)
    recs.to_parquet(files["recommendations"], index=False)
    return ScoreResult(
        files,
        n_users=len(assign),
        n_new_users=int(assign.new.sum()),
        n_listed=int(recs.user_id.nunique()),
        seconds=seconds,
    )


class LocalEngine:
    """Everything in this process (see :mod:`segrec.engines`)."""

    name = "local"

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config if config is not None else EngineConfig()

    def fit_model(self, dataset: str, cfg: Any, *, from_run: Path | None = None) -> Any:
        from segrec.data import load_dataset
        from segrec.model import fit_model

        ds, _ = load_dataset(dataset)
        return fit_model(ds, cfg, from_run=from_run)

    def segment(
        self,
        dataset: str,
        blocks: list[str],
        method: str,
        k: int | Literal["auto"],
        *,
        backend: str = "auto",
        model: str | None = None,
        random_state: int = 0,
        options: dict[str, Any] | None = None,
    ) -> SegmentRun:
        from segrec.data import load_dataset
        from segrec.segment import get_segmenter

        ds, _ = load_dataset(dataset)
        feats = build_features(ds, blocks, backend, random_state, model)
        opts = dict(options or {"random_state": random_state, "k": k})
        seg = get_segmenter(method, **opts).fit(feats, ds)
        return SegmentRun(ds, feats, seg)

    def score(
        self,
        model_dir: Path,
        dataset: str,
        out: Path,
        k: int = 10,
        reasons: bool = True,
        heldout: str | None = None,
    ) -> ScoreResult:
        from segrec.data import load_dataset
        from segrec.model import load_model
        from segrec.model._store import user_dataset

        t0 = time.perf_counter()
        model = load_model(model_dir)
        ds, _ = load_dataset(dataset)
        # loaded before scoring, so that a wrong --heldout fails before the long part
        held = load_dataset(heldout)[0].interactions if heldout is not None else None
        t1 = time.perf_counter()
        users = np.asarray(ds.user_ids, dtype=object)
        inter = _strings(ds.interactions)
        texts = _strings(ds.texts)
        ties = _strings(ds.social)
        parts_a, parts_r = [], []
        for start in range(0, len(users), _CHUNK):
            keep = set(users[start : start + _CHUNK])
            sub = user_dataset(
                inter[inter.user_id.isin(keep)],
                texts[texts.user_id.isin(keep)],
                ties[ties.src.isin(keep)],
            )
            a, r = score_frames(model, sub, k, reasons)
            parts_a.append(a)
            parts_r.append(r)
        assign = pd.concat(parts_a, ignore_index=True)
        recs = pd.concat(parts_r, ignore_index=True)
        seconds = {"load": t1 - t0, "score": time.perf_counter() - t1}
        res = write_scores(Path(out), assign, recs, seconds)
        if held is not None:
            from segrec.evaluate import list_metrics

            t2 = time.perf_counter()
            res.metrics = list_metrics(recs, held, model.item_index, k)
            res.seconds["metrics"] = time.perf_counter() - t2
        return res


def _strings(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its id (categorical) columns as plain strings."""
    out = df.copy()
    for c in ("user_id", "item_id", "src", "dst", "event", "kind"):
        if c in out:
            out[c] = out[c].astype("string").astype(object)
    return out
