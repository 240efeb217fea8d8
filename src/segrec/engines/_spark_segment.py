"""Segmentation with MLlib: k-means (``kmeans``) or bisecting k-means (``bisecting``) on the
fused user features, its centres kept as a :class:`~segrec.segment.KMeansSegmenter`'s, so the
model folder holds the same assigner state as a local fit (and loads without Spark)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from segrec.diagnostics import UsageError
from segrec.segment import KMeansSegmenter
from segrec.segment._base import nearest_centers
from segrec.segment._kmeans import select_k

__all__ = ["MLLIB_METHODS", "SparkKMeansSegmenter"]

_log = logging.getLogger(__name__)
MLLIB_METHODS: tuple[str, ...] = ("kmeans", "bisecting")


class SparkKMeansSegmenter(KMeansSegmenter):
    """A :class:`KMeansSegmenter` whose centres come from MLlib. Fusion, quality, ids and the
    saved state are the parent's (its registry name stays ``kmeans``: the centres are all a
    loaded model needs to assign users, nearest centre first, as MLlib's k-means does).
    ``k="auto"`` sweeps k with the local rule on a sample of at most ``sweep_sample`` rows on
    the driver, then fits MLlib at that k on every user."""

    name: ClassVar[str] = "kmeans"

    def __init__(self, spark: Any, algorithm: str = "kmeans", **kwargs: Any) -> None:
        if algorithm not in MLLIB_METHODS:
            raise UsageError(
                f"--method {algorithm!r}: the Spark engine segments with {', '.join(MLLIB_METHODS)}"
            )
        super().__init__(**kwargs)
        self.spark, self.algorithm = spark, algorithm

    def _fit_matrix(
        self, x: np.ndarray, features: Any, dataset: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
        cfg = self.config
        extras: dict[str, Any] = {"backend": f"spark-mllib-{self.algorithm}"}
        if cfg.k == "auto":
            k, sweep = select_k(x, cfg, "sklearn")
            extras["quality"] = {"k_sweep": sweep, "k_selected": k}
        else:
            k = int(cfg.k)
        if k > len(x):
            raise UsageError(f"k={k} is larger than the number of users ({len(x)}); lower k")
        centers = mllib_centers(
            self.spark, x, k, self.algorithm, cfg.random_state, cfg.max_iter, cfg.n_init
        )
        labels, strength = nearest_centers(x, centers)
        self.centers_ = centers
        self.backend_ = "sklearn"  # assignment rule of a loaded model: nearest centre
        return labels, strength, centers, extras

    def __getstate__(self) -> dict[str, Any]:  # the session stays on the driver
        return {k: v for k, v in self.__dict__.items() if k != "spark"}


def mllib_centers(
    spark: Any, x: np.ndarray, k: int, algorithm: str, seed: int, max_iter: int, n_init: int = 1
) -> np.ndarray:
    """Centres of an MLlib fit of ``x`` (rows travel as one Parquet file, not through py4j).
    k-means keeps the lowest-cost of ``n_init`` fits (seeds ``seed``, ``seed + 1``, ...), as
    scikit-learn's ``n_init`` does; MLlib itself starts once."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.ml.clustering import BisectingKMeans, KMeans
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    x32 = np.ascontiguousarray(x, dtype=np.float32)
    col = pa.ListArray.from_arrays(
        pa.array(np.arange(0, x32.size + 1, x32.shape[1], dtype=np.int32)), pa.array(x32.ravel())
    )
    with tempfile.TemporaryDirectory(prefix="segrec-mllib-") as tmp:
        if spark.sparkContext.master.startswith("local"):
            path = Path(tmp) / "x.parquet"  # executors share this machine's disk
            pq.write_table(pa.table({"x": col}), path)
            raw = spark.read.parquet(str(path))
        else:  # a cluster: the rows go through Arrow to the executors
            raw = spark.createDataFrame(pa.table({"x": col}).to_pandas())
        df = raw.select(array_to_vector(F.col("x")).alias("features"))
        n = max(spark.sparkContext.defaultParallelism, len(x32) // 100_000 + 1)
        df = df.repartition(n).cache()
        best: tuple[float, Any] | None = None
        for run in range(1 if algorithm == "bisecting" else n_init):
            if algorithm == "bisecting":
                est: Any = BisectingKMeans(k=k, seed=seed, maxIter=max_iter)
            else:
                est = KMeans(k=k, seed=seed + run, maxIter=max_iter, tol=1e-6)
            model = est.fit(df)
            cost = float(model.summary.trainingCost)
            if best is None or cost < best[0]:
                best = (cost, model)
        df.unpersist()
        assert best is not None
        centers = np.asarray([np.asarray(c) for c in best[1].clusterCenters()], dtype=np.float32)
    _log.info("MLlib %s: %d centres on %d users", algorithm, len(centers), len(x32))
    return centers
