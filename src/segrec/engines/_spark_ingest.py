"""Datasets into Spark DataFrames: Parquet folders read by Spark itself, any other ``KIND:PATH``
through segrec's own loaders; quarantine counts, the serving dataset and the temporal split in
Spark; and back to a :class:`~segrec.data.Dataset` on the driver where a step needs one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segrec.data import Dataset
from segrec.data.loaders.generic import REQUIRED_COLUMNS

__all__ = ["SparkTables", "read_tables", "serving_tables", "spark_temporal_split", "to_dataset"]

_log = logging.getLogger(__name__)

#: table -> Spark SQL type of each column the engine reads (ids and words as strings)
_COLUMNS: dict[str, dict[str, str]] = {
    "interactions": {
        "user_id": "string",
        "item_id": "string",
        "timestamp": "bigint",
        "event": "string",
        "rating": "double",
        "weight": "double",
        "amount": "double",
        "seq": "bigint",
    },
    "texts": {
        "user_id": "string",
        "item_id": "string",
        "timestamp": "bigint",
        "text": "string",
        "kind": "string",
    },
    "items": {
        "item_id": "string",
        "title": "string",
        "categories": "string",
        "price": "double",
        "brand": "string",
        "attrs": "string",
    },
    "users": {"user_id": "string"},
    "social": {"src": "string", "dst": "string", "kind": "string", "weight": "double"},
}


@dataclass
class SparkTables:
    """The five tables as Spark DataFrames (interactions carry ``_file``: the part file, which
    with ``seq`` gives the log's order), the quarantine counts, name, meta and truth."""

    interactions: Any
    texts: Any
    items: Any
    users: Any
    social: Any
    name: str = "dataset"
    meta: dict[str, Any] = field(default_factory=dict)
    truth: pd.Series | None = None
    report: dict[str, dict[str, Any]] = field(default_factory=dict)

    def order(self) -> list[Any]:
        """Columns ordering the interactions as the local engine does (time, then file order)."""
        from pyspark.sql import functions as F

        return [F.col("timestamp"), F.col("_file"), F.col("seq")]


def _conform(spark: Any, df: Any, table: str) -> Any:
    """``df`` with exactly the table's columns and types (absent optional ones as null; NaN as
    null, which is what pandas' NaN means)."""
    from pyspark.sql import functions as F

    cols = []
    for c, t in _COLUMNS[table].items():
        if c in df.columns:
            v = F.col(c).cast(t)
            if t == "double":
                v = F.when(F.isnan(v), F.lit(None)).otherwise(v)
        elif c == "weight":
            v = F.lit(1.0)
        elif c == "seq":
            v = F.monotonically_increasing_id()
        else:
            v = F.lit(None).cast(t)
        cols.append(v.alias(c))
    if table == "interactions":
        src = F.input_file_name() if "_file" not in df.columns else F.col("_file")
        cols.append(src.alias("_file"))
    return df.select(*cols)


def _quarantine(df: Any, table: str, report: dict[str, dict[str, Any]]) -> Any:
    """Rows of ``df`` without a required field (or a self-tie) left out and counted by reason."""
    from pyspark.sql import functions as F

    reason = F.lit(None).cast("string")
    for c in reversed(REQUIRED_COLUMNS[table]):
        bad = F.col(c).isNull() | (F.trim(F.col(c)) == "")
        reason = F.when(bad, F.lit(f"missing {c}")).otherwise(reason)
    if table == "interactions":
        reason = F.when(F.col("timestamp").isNull(), F.lit("missing timestamp")).otherwise(reason)
    if table == "social":
        reason = F.when(F.col("src") == F.col("dst"), F.lit("tie to oneself")).otherwise(reason)
    tagged = df.withColumn("_reason", reason)
    counts = {r["_reason"]: int(r["count"]) for r in tagged.groupBy("_reason").count().collect()}
    rejected = {str(k): v for k, v in counts.items() if k is not None}
    report[table] = {
        "read": sum(counts.values()),
        "rejected": sum(rejected.values()),
        "reasons": rejected,
    }
    return tagged.filter(F.col("_reason").isNull()).drop("_reason")


def _read_folder(spark: Any, folder: Path) -> dict[str, Any] | None:
    """The tables of a Parquet folder (``<table>/part-*.parquet`` as ``segrec data synth``
    streams them, or ``<table>.parquet``), read by Spark; None when ``folder`` is neither."""
    found: dict[str, Any] = {}
    for table in _COLUMNS:
        if (folder / table).is_dir():
            found[table] = spark.read.parquet(str(folder / table))
        elif (folder / f"{table}.parquet").is_file():
            found[table] = spark.read.parquet(str(folder / f"{table}.parquet"))
    return found if "interactions" in found else None


def read_tables(spark: Any, spec: str) -> SparkTables:
    """``spec`` (``KIND:PATH``) as Spark DataFrames. ``generic:FOLDER`` of Parquet files is
    read by Spark (part files in parallel, nothing through the driver); any other kind goes
    through segrec's loader and is handed to Spark."""
    from segrec.data import load_dataset, parse_spec

    s = parse_spec(spec)
    report: dict[str, dict[str, Any]] = {}
    frames = (
        _read_folder(spark, s.path) if s.kind == "generic" and s.path and s.path.is_dir() else None
    )
    if frames is not None:
        assert s.path is not None
        tables = {}
        for t in _COLUMNS:
            df = frames.get(t)
            if df is None:
                df = spark.createDataFrame(
                    [], ", ".join(f"{c} {ty}" for c, ty in _COLUMNS[t].items())
                )
            tables[t] = _quarantine(_conform(spark, df, t), t, report)
        meta_file = s.path / "meta.json"
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        truth = None
        if (s.path / "truth.parquet").exists():
            tr = pd.read_parquet(s.path / "truth.parquet")
            truth = tr.set_index(tr.user_id.astype(str))["truth"]
        # a friend tie drawn from both ends in two parts appears twice (see stream_to_disk)
        tables["social"] = tables["social"].dropDuplicates(["src", "dst"])
        return SparkTables(
            **tables, name=str(meta.get("name", "dataset")), meta={}, truth=truth, report=report
        )
    ds, rep = load_dataset(s)
    out = from_dataset(spark, ds)
    out.report = {t: c.as_dict() for t, c in rep.tables.items()}
    return out


def from_dataset(spark: Any, ds: Dataset) -> SparkTables:
    """A driver-side Dataset handed to Spark (ids as strings)."""
    tables = {}
    for t, cols in _COLUMNS.items():
        pdf = getattr(ds, t)
        pdf = pd.DataFrame({c: _plain(pdf[c]) if c in pdf else None for c in cols})
        schema = ", ".join(f"{c} {ty}" for c, ty in cols.items())
        df = spark.createDataFrame(pdf, schema) if len(pdf) else spark.createDataFrame([], schema)
        if t == "interactions":
            from pyspark.sql import functions as F

            df = df.withColumn("_file", F.lit(""))
        tables[t] = _conform(spark, df, t)
    return SparkTables(**tables, name=ds.name, meta=dict(ds.meta), truth=ds.truth)


def _plain(s: pd.Series) -> pd.Series:
    """A column Spark takes: categoricals and pandas strings as Python objects, NA as None."""
    if isinstance(s.dtype, pd.CategoricalDtype) or str(s.dtype) in ("string", "str"):
        return s.astype(object).where(s.notna(), None)
    if str(s.dtype) == "Int64":
        return s.astype("float64")
    return s


def serving_tables(tables: SparkTables, events: list[str] | None) -> SparkTables:
    """What a model is fit on (:func:`segrec.model.serving_dataset`), in Spark: the kept event
    types, each (user, item) pair once (the earliest, ties by file order), the texts dated or
    on a kept pair, items with a kept interaction."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    inter = tables.interactions
    kinds = sorted(r[0] for r in inter.select("event").distinct().collect() if r[0] is not None)
    if events is not None:
        inter = inter.filter(F.col("event").isin(list(events)))
    w = Window.partitionBy("user_id", "item_id").orderBy(*tables.order())
    inter = inter.withColumn("_n", F.row_number().over(w)).filter("_n = 1").drop("_n")
    pairs = inter.select("user_id", "item_id").withColumn("_pair", F.lit(True))
    t = tables.texts.join(pairs, ["user_id", "item_id"], "left")
    t = t.filter(F.col("timestamp").isNotNull() | F.col("_pair").isNotNull()).drop("_pair")
    items = inter.select("item_id").distinct()
    t = t.join(items.withColumn("_in", F.lit(True)), "item_id", "left")
    t = t.filter(F.col("item_id").isNull() | F.col("_in").isNotNull()).drop("_in")
    t = t.select(*_COLUMNS["texts"])
    its = tables.items.join(items, "item_id", "left_semi")
    meta = {**tables.meta, "event_types": tables.meta.get("event_types") or kinds}
    return SparkTables(
        inter, t, its, tables.users, tables.social, tables.name, meta, tables.truth, tables.report
    )


def spark_temporal_split(tables: SparkTables, test_frac: float = 0.2, val_frac: float = 0.1) -> Any:
    """The interactions with ``role`` (fit / val / test) by the global temporal split of
    :func:`segrec.data.temporal_split` (row share in time order), computed in Spark."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StructField, StructType

    from segrec.data._split import temporal_cut

    inter = tables.interactions
    n = inter.count()
    n_fit, n_train = temporal_cut(n, test_frac, val_frac)
    ordered = inter.orderBy(*tables.order())
    spark = inter.sparkSession
    indexed = ordered.rdd.zipWithIndex().map(lambda p: (*p[0], p[1]))
    schema = StructType([*inter.schema.fields, StructField("_pos", LongType(), False)])
    df = spark.createDataFrame(indexed, schema)
    role = (
        F.when(F.col("_pos") < n_fit, "fit").when(F.col("_pos") < n_train, "val").otherwise("test")
    )
    return df.withColumn("role", role).drop("_pos")


def to_dataset(tables: SparkTables) -> Dataset:
    """The tables collected into one driver-side Dataset, interactions in the log's order."""
    inter = tables.interactions.orderBy(*tables.order()).drop("_file").toPandas()
    inter["seq"] = range(len(inter))
    return Dataset(
        interactions=inter,
        texts=tables.texts.toPandas(),
        items=tables.items.toPandas(),
        users=tables.users.toPandas(),
        social=tables.social.toPandas(),
        truth=tables.truth,
        name=tables.name,
        meta=dict(tables.meta),
    )
