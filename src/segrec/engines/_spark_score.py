"""Batch scoring in Spark: every user's rows go to one partition (hash of the user id), and
``mapInPandas`` runs the local engine's :func:`~segrec.engines._local.score_frames` there, with
the fitted model loaded once per Python worker (``load_model`` of the same folder; Spark reuses
workers across partitions and tasks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from segrec.engines._spark_ingest import SparkTables

__all__ = ["spark_score"]

#: models loaded in this Python worker, by folder
_MODELS: dict[str, Any] = {}
_PACKED = (
    "_t string, user_id string, item_id string, timestamp bigint, event string, rating double, "
    "weight double, amount double, text string, kind string, dst string, seq bigint, _file string"
)
_OUT = (
    "_t string, user_id string, segment_id bigint, strength double, alternative bigint, "
    "distance double, new boolean, segment string, rank bigint, item_id string, score double, "
    "reason string, item string"
)


def _model(folder: str) -> Any:
    """The model of ``folder``, loaded once per worker (again only if the folder was rewritten:
    ``save`` swaps in a new folder, so its ``model.json`` changes)."""
    import os

    key = f"{folder}@{os.stat(os.path.join(folder, 'model.json')).st_mtime_ns}"
    if key not in _MODELS:
        from segrec.model import load_model

        _MODELS.clear()
        _MODELS[key] = load_model(folder)
    return _MODELS[key]


def _packed(tables: SparkTables) -> Any:
    """The rows of every user in one DataFrame (``_t`` says which table), one schema."""
    from pyspark.sql import functions as F

    def pick(df: Any, t: str, user: str, cols: dict[str, str]) -> Any:
        names = [c.split(" ")[0] for c in _PACKED.split(", ")]
        out = [F.lit(t).alias("_t"), F.col(user).alias("user_id")]
        for n in names[2:]:
            src = cols.get(n, n)
            out.append((F.col(src) if src in df.columns else F.lit(None)).alias(n))
        return df.select(*out).selectExpr(
            *[f"cast({n} as {ty})" for n, ty in (c.split(" ") for c in _PACKED.split(", "))]
        )

    return (
        pick(tables.interactions, "i", "user_id", {})
        .unionByName(pick(tables.texts, "t", "user_id", {}))
        .unionByName(
            pick(tables.social.withColumnRenamed("dst", "_dst"), "s", "src", {"dst": "_dst"})
        )
    )


def _unpack(df: pd.DataFrame) -> Any:
    from segrec.model._store import user_dataset

    inter = df[df._t == "i"].sort_values(["timestamp", "_file", "seq"], kind="mergesort")
    inter = inter[["user_id", "item_id", "timestamp", "event", "rating", "weight", "amount"]]
    texts = df[df._t == "t"][["user_id", "item_id", "timestamp", "text"]]
    texts = texts.assign(timestamp=texts.timestamp.astype("Int64"))
    ties = df[df._t == "s"].rename(columns={"user_id": "src"})[["src", "dst"]]
    return user_dataset(
        inter.reset_index(drop=True), texts.reset_index(drop=True), ties.reset_index(drop=True)
    )


def spark_score(
    tables: SparkTables,
    model_dir: str,
    k: int,
    partitions: int,
    reasons: bool = True,
    keep: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """(assignments, recommendations, scored) of every user of ``tables`` from the model folder;
    with ``keep``, ``scored`` is the persisted Spark DataFrame both came from (the lists are its
    rows with ``_t = 'r'``), for metrics in Spark; the caller unpersists it. Else None."""
    from segrec.engines._local import score_frames

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        frames = list(batches)
        if not frames:
            return
        df = pd.concat(frames, ignore_index=True)
        if not len(df):
            return
        model = _model(model_dir)
        a, r = score_frames(model, _unpack(df), k, reasons)
        a = a.assign(_t="a")
        r = r.assign(_t="r")
        out = pd.concat([a, r], ignore_index=True).reindex(
            columns=[c.split(" ")[0] for c in _OUT.split(", ")]
        )
        for c in ("_t", "user_id", "segment", "item_id", "reason", "item"):
            # pandas' Arrow-backed strings reach Spark as chunked arrays, which it refuses
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        yield out

    packed = _packed(tables).repartition(partitions, "user_id")
    scored = packed.mapInPandas(score, _OUT)
    if keep:
        scored = scored.persist()  # scored once: the driver's copy and the metrics read it
    out = scored.toPandas()
    a = out[out._t == "a"][
        ["user_id", "segment_id", "strength", "alternative", "distance", "new", "segment"]
    ]
    r = out[out._t == "r"][
        ["user_id", "rank", "item_id", "score", "reason", "item", "segment_id", "segment"]
    ]
    a = a.astype({"segment_id": "int64", "alternative": "int64", "new": bool, "segment": "string"})
    r = r.astype({"rank": "int64", "segment_id": "int64", "item": "string", "segment": "string"})
    return a.reset_index(drop=True), r.reset_index(drop=True), scored if keep else None
