"""The Spark session of the Spark engine: pyspark imported lazily, one clear error without it."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from typing import Any

from segrec.diagnostics import MissingExtraError, UsageError, require
from segrec.engines._base import EngineConfig

__all__ = ["require_spark", "spark_session"]

_log = logging.getLogger(__name__)


def require_spark() -> Any:
    """The ``pyspark`` module, or :class:`MissingExtraError` naming the ``spark`` extra."""
    mod = require("pyspark", "spark", " (the Spark engine, --engine spark)")
    require("pyspark.sql", "spark", " (the Spark engine, --engine spark)")
    return mod


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    if (home and os.path.exists(os.path.join(home, "bin", "java"))) or shutil.which("java"):
        return
    raise UsageError(
        "the Spark engine needs Java 17 or newer: install a JDK (apt-get install "
        "openjdk-17-jre-headless) or set JAVA_HOME"
    )


def spark_session(config: EngineConfig | None = None, app_name: str = "segrec") -> Any:
    """A SparkSession on ``config``'s master (``$SPARK_MASTER``, else ``local[*]``).

    Local masters bind to loopback and get few shuffle partitions (the default 200 costs more
    than it saves on one machine); Python workers use this interpreter; timestamps are UTC.
    An already running session is reused (its settings are kept).
    """
    cfg = config if config is not None else EngineConfig()
    try:
        require_spark()
    except MissingExtraError:
        raise
    _check_java()
    from pyspark.sql import SparkSession

    master = cfg.resolved_master()
    local = master.startswith("local")
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = SparkSession.builder.master(master).appName(app_name)
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "20000",
        "spark.python.worker.reuse": "true",
    }
    if local:
        cores = os.cpu_count() or 2
        conf |= {
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": str(max(4, 2 * cores)),
            "spark.driver.host": "127.0.0.1",
        }
    conf |= cfg.spark_conf
    for key, value in conf.items():
        b = b.config(key, value)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    _log.info("spark session on %s (Spark %s)", master, spark.version)
    return spark
