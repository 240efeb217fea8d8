"""The lists' evaluation figures against held-out events: the same within 1e-6 on both engines,
from one model folder fit on the earlier events (a real local[2] Spark session)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segrec.cli import main


@pytest.fixture(scope="module")
def later(shop, light_config, light_choice, tmp_path_factory):
    """(model folder fit on the shop's first 80% of events, spec of those events, spec of the
    last 20%)."""
    from segrec.model._fit import fit_chosen, serving_dataset

    root = tmp_path_factory.mktemp("later")
    ts = shop.interactions.timestamp.astype("float64")
    cut = float(np.quantile(ts, 0.8))
    early = shop.replace(
        interactions=shop.interactions[(ts <= cut).to_numpy()],
        texts=shop.texts[(shop.texts.timestamp.astype("float64") <= cut).to_numpy()],
    )
    early.to_parquet(root / "early")
    shop.replace(interactions=shop.interactions[(ts > cut).to_numpy()]).to_parquet(root / "late")
    model = fit_chosen(serving_dataset(early, light_config), light_config, light_choice)
    folder = model.save(root / "model")
    return folder, f"generic:{root / 'early'}", f"generic:{root / 'late'}"


def test_heldout_figures_agree_on_both_engines(later, spark_engine, tmp_path) -> None:
    from segrec.engines import get_engine

    folder, data, held = later
    local = get_engine("local").score(folder, data, tmp_path / "local", k=5, heldout=held)
    spark = spark_engine.score(folder, data, tmp_path / "spark", k=5, heldout=held)
    assert local.metrics is not None and spark.metrics is not None
    assert set(local.metrics) == {"users", "ndcg@5", "recall@5", "precision@5", "hr@5", "map@5"}
    assert local.metrics["users"] == spark.metrics["users"] >= 100
    assert local.metrics["hr@5"] > 0.1  # lists that find something: the comparison means something
    for name, value in local.metrics.items():
        assert abs(spark.metrics[name] - value) < 1e-6, name
    assert any("held-out events" in line for line in spark.lines())


def test_score_heldout_writes_metrics_json(later, tmp_path, capsys) -> None:
    folder, data, held = later
    out = tmp_path / "scored"
    main(["score", "--model", str(folder), "--dataset", data, "--out", str(out), "--k", "5",
          "--heldout", held])  # fmt: skip
    assert "against the held-out events of" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k"] == 5 and metrics["heldout"] == held and 0 < metrics["ndcg@5"] <= 1
    assert json.loads((out / "score.json").read_text())["metrics"]["users"] == metrics["users"]


def test_a_missing_heldout_fails_in_one_line_before_scoring(later, tmp_path, capsys) -> None:
    folder, data, _ = later
    out = tmp_path / "scored"
    with pytest.raises(SystemExit) as exc:
        main(["score", "--model", str(folder), "--dataset", data, "--out", str(out),
              "--heldout", f"generic:{tmp_path / 'nowhere'}"])  # fmt: skip
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "Traceback" not in err
    assert not (out / "assignments.parquet").exists()
