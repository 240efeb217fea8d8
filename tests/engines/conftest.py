"""One real Spark session (local[2]) for the engine tests; they skip cleanly without pyspark
or Java. Small synthetic shops keep the whole folder well under two minutes."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from segrec.data import Dataset, load_dataset
from segrec.evaluate import EvalConfig
from segrec.model import Choice

LIGHT = {
    "features": {"embedder": {"backend": "tfidf-svd", "tfidf_dim": 16, "use_cache": False}},
    "graph": None,
    "hybrid_segmentation": "fused",
    "segmentation_params": {"fused": {"k": 4}},
}
CHOICE = Choice("fused", {"k": 4}, {"base": "itemknn", "base_params": {"neighbours": 30}})


def _spark_available() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'segrec[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime for Spark"
    return None


@pytest.fixture(scope="session")
def spark():
    why = _spark_available()
    if why:
        pytest.skip(why)
    from segrec.engines import EngineConfig
    from segrec.engines._spark_session import spark_session

    s = spark_session(
        EngineConfig(
            name="spark", master="local[2]", spark_conf={"spark.sql.shuffle.partitions": "4"}
        )
    )
    yield s
    s.stop()


@pytest.fixture(scope="session")
def spark_engine(spark):
    from segrec.engines import EngineConfig, get_engine

    eng = get_engine("spark", EngineConfig(master="local[2]", partitions=2))
    eng._spark = spark  # the session of this test run
    return eng


@pytest.fixture(scope="session")
def light_choice() -> Choice:
    return CHOICE


@pytest.fixture(scope="session")
def light_config() -> EvalConfig:
    return EvalConfig(**LIGHT)


@pytest.fixture(scope="session")
def shop_dir(tmp_path_factory) -> Path:
    """A 300-user synthetic shop written as ``segrec data synth`` writes it, and streamed as
    part files (two parts)."""
    from segrec.data.synthetic import stream_to_disk

    root = tmp_path_factory.mktemp("shop")
    ds, _ = load_dataset("synthetic:users=300,seed=5")
    ds.to_parquet(root / "flat")
    stream_to_disk(root / "parts", users=300, seed=5, chunk_users=10_000)
    return root


@pytest.fixture(scope="session")
def shop(shop_dir) -> Dataset:
    ds, _ = load_dataset(f"generic:{shop_dir / 'flat'}")
    return ds


@pytest.fixture(scope="session")
def folder(shop, light_config, tmp_path_factory) -> Path:
    """A model folder fit locally (no tuning) on the 300-user shop."""
    from segrec.model._fit import fit_chosen, serving_dataset

    model = fit_chosen(serving_dataset(shop, light_config), light_config, CHOICE)
    return model.save(tmp_path_factory.mktemp("m") / "model")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGREC_CACHE", str(tmp_path / "cache"))
