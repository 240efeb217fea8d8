"""``segrec segment`` end to end on a small synthetic shop (fast text backend)."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import segrec.cli._segment  # noqa: F401  (registers the command)
from segrec.cli import main


def _run(args):
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    return exc.value.code


def test_segment_writes_three_files(tmp_path, capsys):
    out = tmp_path / "run"
    code = _run(
        [
            "segment",
            "--dataset",
            "synthetic:users=300,seed=2",
            "--features",
            "text,behavior",
            "--method",
            "kmeans",
            "--k",
            "5",
            "--backend",
            "tfidf-svd",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    seg = pd.read_parquet(out / "segments.parquet")
    assert list(seg.columns) == ["user_id", "segment_id", "strength", "segment"]
    assert len(seg) == 300 and seg["strength"].between(0, 1).all()
    prof = json.loads((out / "profiles.json").read_text())
    assert prof["meta"]["method"] == "kmeans"
    assert set(seg["segment_id"]) == {p["segment_id"] for p in prof["segments"]}
    names = {p["segment_id"]: p["name"] for p in prof["segments"]}
    assert (seg["segment"] == seg["segment_id"].map(names)).all()
    assert (out / "segments.md").read_text().count("\n## ") == len(prof["segments"])
    assert "published" in capsys.readouterr().out


def test_tree_with_labels_file_and_dp(tmp_path):
    from segrec.data import load_dataset

    ds, _ = load_dataset("synthetic:users=300,seed=2")
    labels = tmp_path / "crm.csv"
    ds.truth.rename("segment").rename_axis("user_id").reset_index().to_csv(labels, index=False)
    out = tmp_path / "tree"
    code = _run(
        [
            "segment",
            "--dataset",
            "synthetic:users=300,seed=2",
            "--features",
            "behavior",
            "--method",
            "tree",
            "--labels",
            str(labels),
            "--dp-epsilon",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    prof = json.loads((out / "profiles.json").read_text())
    assert prof["meta"]["privacy"]["dp"]["epsilon_spent"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["--method", "nope"], "--method"),
        (["--features", "text,colour"], "--features"),
        (["--method", "tree"], "--labels"),
        (["--k", "many"], "--k"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, args, msg):
    code = _run(
        ["segment", "--dataset", "synthetic:users=50,seed=1", "--out", str(tmp_path / "x"), *args]
    )
    assert code == 2
    assert msg in capsys.readouterr().err
