"""The one factory, the [engine] settings and the error without pyspark (no Spark needed)."""

from __future__ import annotations

import sys

import pytest

from segrec.diagnostics import MissingExtraError, UsageError
from segrec.engines import EngineConfig, LocalEngine, engine_config, get_engine


def test_factory_picks_local_by_default_and_refuses_unknown_names() -> None:
    assert isinstance(get_engine(), LocalEngine)
    assert get_engine(config=EngineConfig(name="local")).name == "local"
    with pytest.raises(UsageError, match="--engine 'flink': expected one of local, spark"):
        get_engine("flink")


def test_engine_section_of_the_config_and_master_from_env(tmp_path, monkeypatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[evaluate]\nk = 5\n\n[engine]\nname = "spark"\nmaster = "spark://h:7077"\n')
    got = engine_config(cfg)
    assert got.name == "spark" and got.resolved_master() == "spark://h:7077"
    assert engine_config(cfg, "local").name == "local"  # the flag wins
    monkeypatch.setenv("SPARK_MASTER", "local[3]")
    assert EngineConfig(name="spark").resolved_master() == "local[3]"
    monkeypatch.delenv("SPARK_MASTER")
    assert EngineConfig().resolved_master() == "local[*]"
    bad = tmp_path / "bad.toml"
    bad.write_text('[engine]\nname = "spark"\nmastr = "x"\n')
    with pytest.raises(UsageError, match=r"\[engine\].*mastr"):
        engine_config(bad)


def test_evaluation_config_ignores_the_engine_section(tmp_path) -> None:
    from segrec.evaluate import EvalConfig

    cfg = tmp_path / "c.toml"
    cfg.write_text('k = 7\n\n[engine]\nname = "spark"\n')
    assert EvalConfig.from_toml(cfg).k == 7


def test_spark_without_pyspark_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    with pytest.raises(MissingExtraError, match=r"'spark' extra.*segrec\[spark\]"):
        get_engine("spark")
