"""Execution engines: the same heavy steps (features, segmentation, batch scoring) run locally
or on Apache Spark, writing the same model folder and the same Parquet files.

:func:`get_engine` is the one place that chooses; ``segrec fit|segment|score --engine spark``
and ``[engine] name = "spark"`` in the config reach it. pyspark is imported only by the Spark
engine, and its absence is one error naming the ``spark`` extra.

    >>> from segrec.engines import get_engine
    >>> get_engine("local").name
    'local'
"""

from segrec.engines._base import (
    ENGINES,
    Engine,
    EngineConfig,
    ScoreResult,
    SegmentRun,
    engine_config,
    get_engine,
)
from segrec.engines._local import LocalEngine

__all__ = [
    "ENGINES",
    "Engine",
    "EngineConfig",
    "LocalEngine",
    "ScoreResult",
    "SegmentRun",
    "engine_config",
    "get_engine",
]
