"""Ranking metrics of finished top-K lists against held-out interactions, in Spark SQL.

The same figures as :func:`segrec.evaluate.list_metrics` (which the local engine uses, built on
the evaluation's :func:`~segrec.evaluate._metrics.accuracy_metrics`), computed where the lists
are: a join of each list with the user's held-out items, a running hit count over rank for MAP,
and the ideal DCG of min(|relevant|, K) hits. Tested equal within 1e-6 in ``tests/engines``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from segrec.evaluate._metrics import ACCURACY_METRICS

__all__ = ["spark_list_metrics"]


def spark_list_metrics(recs: Any, heldout: Any, items: Iterable[str], k: int) -> dict[str, float]:
    """Mean NDCG, Recall, Precision, HR and MAP at ``k`` of the Spark DataFrame ``recs``
    (user_id, rank, item_id) against ``heldout`` (user_id, item_id), over the users with a list
    and at least one held-out item among ``items`` (see :func:`segrec.evaluate.list_metrics`)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = recs.sparkSession
    known = spark.createDataFrame([(str(i),) for i in items], "item_id string")
    rel = (
        heldout.select(F.col("user_id").cast("string"), F.col("item_id").cast("string"))
        .distinct()
        .join(F.broadcast(known), "item_id")
    )
    n_rel = rel.groupBy("user_id").agg(F.count("*").alias("n_rel"))
    top = recs.where(F.col("rank") <= k).select(
        F.col("user_id").cast("string"), F.col("rank").cast("long"), F.col("item_id")
    )
    hits = (
        top.join(n_rel, "user_id")  # users with a list and something to find
        .join(rel.withColumn("hit", F.lit(1.0)), ["user_id", "item_id"], "left")
        .fillna(0.0, ["hit"])
        .withColumn("found", F.sum("hit").over(Window.partitionBy("user_id").orderBy("rank")))
    )
    per = hits.groupBy("user_id", "n_rel").agg(
        F.sum(F.col("hit") / F.log2(F.col("rank") + 1)).alias("dcg"),
        F.sum("hit").alias("n_hits"),
        F.sum(F.col("hit") * F.col("found") / F.col("rank")).alias("ap"),
    )
    ideal = F.least(F.col("n_rel"), F.lit(k))
    idcg = F.expr(f"aggregate(sequence(1, least(n_rel, {k})), 0D, (a, i) -> a + 1D / log2(i + 1))")
    per = per.select(
        (F.col("dcg") / idcg).alias("ndcg"),
        (F.col("n_hits") / F.col("n_rel")).alias("recall"),
        (F.col("n_hits") / k).alias("precision"),
        (F.col("n_hits") > 0).cast("double").alias("hr"),
        (F.col("ap") / ideal).alias("map"),
    )
    row = per.agg(
        F.count("*").alias("users"), *[F.avg(m).alias(m) for m in ACCURACY_METRICS]
    ).first()
    out = {"users": float(row["users"])}
    out.update({f"{m}@{k}": float(row[m] or 0.0) for m in ACCURACY_METRICS})
    return out
