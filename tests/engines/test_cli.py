"""``segrec score`` and ``--engine`` on the command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from segrec.cli import main


def test_score_command_on_the_local_engine(folder, shop_dir, tmp_path, capsys) -> None:
    out = tmp_path / "scored"
    main(
        [
            "score",
            "--model",
            str(folder),
            "--dataset",
            f"generic:{shop_dir / 'flat'}",
            "--out",
            str(out),
            "--k",
            "3",
        ]
    )
    assert "local: assigned 300 users" in capsys.readouterr().out
    summary = json.loads((out / "score.json").read_text())
    assert summary["engine"] == "local" and summary["listed_users"] == 300
    recs = pd.read_parquet(out / "recommendations.parquet")
    assert recs.groupby("user_id").size().eq(3).all()


def test_unknown_engine_is_one_line(folder, shop_dir, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "score",
                "--model",
                str(folder),
                "--dataset",
                f"generic:{shop_dir / 'flat'}",
                "--out",
                str(tmp_path / "x"),
                "--engine",
                "dask",
            ]
        )
    assert exc.value.code == 2
    assert "--engine 'dask': expected one of local, spark" in capsys.readouterr().err


@pytest.mark.slow  # ~55 s on a loaded 2-core box (Spark job + the describer)
def test_segment_on_spark_with_bisecting_kmeans(spark, shop_dir, tmp_path, capsys) -> None:
    out = tmp_path / "seg"
    args = [
        "segment",
        "--engine",
        "spark",
        "--dataset",
        f"generic:{shop_dir / 'parts'}",
        "--out",
        str(out),
        "--k",
        "4",
        "--backend",
        "tfidf-svd",
    ]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--method", "hdbscan"])
    assert exc.value.code == 2 and "kmeans, bisecting" in capsys.readouterr().err
    main([*args, "--method", "bisecting"])
    seg = pd.read_parquet(out / "segments.parquet")
    assert len(seg) == 300 and seg.segment_id.nunique() >= 2
    assert (out / "profiles.json").exists()


@pytest.mark.slow
def test_run_on_spark_fits_the_model_the_evaluation_chose(spark, shop_dir, tmp_path) -> None:
    """``segrec run --engine spark``: the evaluation runs here, the Spark engine fits the
    segmentation the evaluation chose (a local one, behaviour, included) into model/."""
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        'methods = ["pop", "itemknn", "segment_pop", "hybrid"]\n'
        'segmentations = ["behavior"]\nn_bootstrap = 50\ncold_windows = 0\ngraph = false\n'
    )
    out = tmp_path / "run"
    main(
        [
            "run",
            "--dataset",
            f"generic:{shop_dir / 'flat'}",
            "--backend",
            "tfidf-svd",
            "--config",
            str(cfg),
            "--engine",
            "spark",
            "--out",
            str(out),
        ]
    )
    info = json.loads((out / "model" / "model.json").read_text())
    results = json.loads((out / "results.json").read_text())
    assert info["engine"]["name"] == "spark"
    assert info["chosen"]["segmentation"] == results["protocol"]["hybrid_segmentation"]
    assert len(pd.read_parquet(out / "recommendations.parquet"))
