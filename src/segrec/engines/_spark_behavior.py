"""Behaviour/RFM features in Spark SQL, with the state of the local
:class:`~segrec.features.BehaviorFeaturizer` (reference time, monetary basis, item prices and
price percentiles, top categories, medians) learned in Spark and returned as that featurizer,
so a model fitted here transforms a new user exactly as a locally fitted one does.

Items are a small table: prices, price percentiles and the item -> category pairs are computed
on the driver with the local code and broadcast; everything per interaction or per user runs in
Spark.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segrec.features import BehaviorFeaturizer

__all__ = ["spark_behavior"]

DAY = 86400.0


def _item_state(items: pd.DataFrame, n_categories: int) -> tuple[Any, Any, pd.DataFrame | None]:
    """(prices, price percentiles, item -> category pairs) as the local featurizer fits them."""
    items = items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")
    has_price = not items.empty and items["price"].notna().any()
    prices = items["price"] if has_price else None
    pct = items["price"].rank(pct=True) if has_price else None
    if n_categories == 0 or items.empty or not items["categories"].notna().any():
        return prices, pct, None
    cats = items["categories"].dropna().astype(str).str.split("|")
    ex = cats.explode().str.strip()
    ex = ex[ex != ""]
    return prices, pct, ex.rename("c").rename_axis("i").reset_index()


def _basis(inter: Any, prices: Any) -> str:
    from pyspark.sql import functions as F

    row = inter.agg(
        F.count(F.col("amount")).alias("a"), F.count(F.col("rating")).alias("r")
    ).first()
    if row["a"] > 0:
        return "amount"
    if prices is not None:
        return "price"
    return "rating" if row["r"] > 0 else "count"


def spark_behavior(
    spark: Any, inter: Any, user_ids: pd.Index, items: pd.DataFrame, n_categories: int = 10
) -> tuple[BehaviorFeaturizer, pd.DataFrame, np.ndarray]:
    """A fitted BehaviorFeaturizer, the features of ``user_ids`` (rows in that order) and the
    missing mask, from the serving interactions ``inter`` (a Spark DataFrame)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    fz = BehaviorFeaturizer(n_categories=n_categories)
    fz.now_ = int(inter.agg(F.max("timestamp")).first()[0] or 0)
    fz.prices_, fz.price_pct_, table = _item_state(items, n_categories)
    fz.basis_ = _basis(inter, fz.prices_)
    g = inter.select(
        F.col("user_id").alias("u"),
        F.col("item_id").alias("i"),
        F.col("timestamp").cast("double").alias("t"),
        F.col("rating").alias("r"),
        F.col("amount").alias("a"),
    )
    if fz.prices_ is not None:
        ip = pd.DataFrame(
            {
                "i": fz.prices_.index.astype(str),
                "p": fz.prices_.to_numpy(float),
                "pp": fz.price_pct_.to_numpy(float),
            }
        )
        ipdf = spark.createDataFrame(
            ip.astype(object).where(ip.notna(), None), "i string, p double, pp double"
        )
        g = g.join(F.broadcast(ipdf), "i", "left")
    else:
        g = g.withColumn("p", F.lit(None).cast("double")).withColumn(
            "pp", F.lit(None).cast("double")
        )
    money = {
        "amount": F.coalesce(F.col("a"), F.col("p"), F.lit(0.0)),
        "price": F.coalesce(F.col("p"), F.lit(0.0)),
        "rating": F.coalesce(F.col("r"), F.lit(0.0)),
        "count": F.lit(1.0),
    }[fz.basis_]
    gap = (F.col("t") - F.lag("t").over(Window.partitionBy("u").orderBy("t"))) / DAY
    g = g.withColumn("m", money).withColumn("gap", gap)
    aggs = [
        ((F.lit(float(fz.now_)) - F.max("t")) / DAY).alias("recency_days"),
        F.count(F.lit(1)).cast("double").alias("frequency"),
        F.sum("m").alias(f"monetary_{fz.basis_}"),
        F.log1p(F.count(F.lit(1))).alias("log_frequency"),
        F.countDistinct("i").cast("double").alias("n_items"),
        ((F.max("t") - F.min("t")) / DAY).alias("span_days"),
        F.avg("gap").alias("mean_gap_days"),
        F.max("gap").alias("max_gap_days"),
        F.avg("r").alias("rating_mean"),
        F.stddev_samp("r").alias("rating_std"),
        F.count("r").cast("double").alias("n_ratings"),
    ]
    if fz.price_pct_ is not None:
        aggs.append(F.avg("pp").alias("price_level"))
    f = g.groupBy("u").agg(*aggs)
    fz.categories_, fz.top_ = None, []
    if table is not None:
        cat = spark.createDataFrame(table.astype(str), "i string, c string")
        pairs = g.select("u", "i").join(F.broadcast(cat), "i")
        counts = pairs.groupBy("c").count().orderBy(F.desc("count"), F.asc("c")).limit(n_categories)
        fz.top_ = [str(r["c"]) for r in counts.collect()]
        fz.categories_ = table[table["c"].isin(fz.top_)].reset_index(drop=True)
        shares = pairs.filter(F.col("c").isin(fz.top_)).groupBy("u").pivot("c", fz.top_).count()
        f = f.join(shares, "u", "left")
        for c in fz.top_:
            f = f.withColumn(f"cat:{c}", F.coalesce(F.col(f"`{c}`"), F.lit(0)) / F.col("frequency"))
            f = f.drop(c)
    frame = f.toPandas().set_index("u")
    frame.index = frame.index.astype(str)
    fz.columns_ = [str(c) for c in frame.columns]
    frame = frame.reindex(pd.Index(user_ids, dtype="object"))
    for c in fz.columns_:
        frame[c] = frame[c].astype(float)
        if c.startswith("cat:"):
            frame[c] = frame[c].fillna(0.0)
    fz.medians_ = {c: _median(frame[c]) for c in fz.columns_}
    missing = frame["frequency"].isna().to_numpy()
    for c in fz.columns_:
        frame[c] = frame[c].fillna(fz.medians_[c])
    return fz, frame.astype(float), missing


def _median(col: pd.Series) -> float:
    med = col.median()
    return 0.0 if pd.isna(med) else float(med)
