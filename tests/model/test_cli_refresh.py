"""`segrec fit` (with --from-run and --previous), `segrec drift`, `segrec forget`, and refresh
keeping segment ids stable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from segrec.data import load_dataset
from segrec.evaluate import EvalConfig
from segrec.model import Choice, load_model
from segrec.model._fit import fit_chosen, serving_dataset
from segrec.model._refresh import match_by_members, refresh_report

LIGHT_TOML = """
methods = ["pop", "itemknn", "segment_pop", "hybrid"]
segmentations = ["random", "fused"]
n_bootstrap = 20
cold_windows = 0
budget = 1
graph = false
[segmentation_params.fused]
k = 4
[features.embedder]
backend = "tfidf-svd"
tfidf_dim = 32
"""


def _segrec(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("segrec")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600)


def test_match_by_members_keeps_ids_and_names_new_ones() -> None:
    old = pd.Series([0, 0, 0, 1, 1, 1, 2, 2], index=[f"u{i}" for i in range(8)])
    new = pd.Series([5, 5, 5, 3, 3, 3, 9, 9], index=old.index)  # same groups, other labels
    assert match_by_members(new, old) == {5: 0, 3: 1, 9: 2}
    split = pd.Series([5, 5, 7, 3, 3, 3, 9, 9], index=old.index)
    rep = refresh_report(split.map({5: 0, 7: 3, 3: 1, 9: 2}), old)
    assert rep.moved == 1 and rep.appeared == [3]


@pytest.mark.slow
def test_refresh_keeps_segment_ids_of_the_segments_that_stay() -> None:
    ds, _ = load_dataset("synthetic:users=500,seed=3")
    cfg = EvalConfig(
        features={"embedder": {"backend": "tfidf-svd", "tfidf_dim": 32, "use_cache": False}},
        graph=None,
    )
    first = fit_chosen(
        serving_dataset(ds, cfg), cfg, Choice("fused", {"k": 7}, {"base": "itemknn"})
    )
    # a month later: the same users plus more of their activity (the last 10% held back first)
    cut = int(ds.interactions.timestamp.quantile(0.9))
    earlier = fit_chosen(
        serving_dataset(ds.before(cut), cfg), cfg, Choice("fused", {"k": 7}, {"base": "itemknn"})
    )
    new, report = earlier.refresh(ds, cfg)
    common = new.segments.index.intersection(earlier.segments.index)
    a, b = new.segments.segment_id[common], earlier.segments.segment_id[common]
    same = float((a == b).mean())
    # the best any renaming of the new segments could do: a maximum matching on the overlap
    tab = pd.crosstab(a, b).to_numpy()
    rows, cols = linear_sum_assignment(-tab)
    best = tab[rows, cols].sum() / len(common)
    assert same >= 0.7 and same >= best - 0.02, (same, best)  # ids follow the users
    assert report.n_common_users == len(common) and report.moved_share == pytest.approx(1 - same)
    assert new.info["refreshed_from"]["report"]["moved"] == report.moved
    del first


@pytest.mark.slow
def test_fit_drift_forget_from_the_command_line(tmp_path: Path) -> None:
    cfg = tmp_path / "light.toml"
    cfg.write_text(LIGHT_TOML)
    data = "synthetic:users=300,seed=5"
    out = _segrec("fit", "--dataset", data, "--config", str(cfg), "--out", str(tmp_path / "m"))
    assert out.returncode == 0, out.stderr
    assert "'fused' segments, hybrid on" in out.stdout
    info = json.loads((tmp_path / "m" / "model.json").read_text())
    assert info["chosen"]["segmentation"] == "fused"
    # the same choices again, no tuning; then a refresh that keeps ids
    again = _segrec(
        "fit", "--dataset", data, "--from-run", str(tmp_path), "--out", str(tmp_path / "m2")
    )
    assert again.returncode == 2 and "no model/model.json or results.json" in again.stderr
    prev = _segrec(
        "fit",
        "--dataset",
        data,
        "--config",
        str(cfg),
        "--previous",
        str(tmp_path / "m"),
        "--out",
        str(tmp_path / "m3"),
    )
    assert prev.returncode == 0, prev.stderr
    assert "refresh: 0 of 300 users moved (0.0%)" in prev.stdout
    # drift of the data the model was fit on: stable, exit 0, JSON on request
    drift = _segrec("drift", "--model", str(tmp_path / "m"), "--dataset", data, "--json")
    assert drift.returncode == 0, drift.stderr
    assert json.loads(drift.stdout)["verdict"] == "stable"
    # forget one user and save the folder again
    user = load_model(tmp_path / "m").user_ids[0]
    gone = _segrec("forget", "--model", str(tmp_path / "m"), "--user", user)
    assert gone.returncode == 0, gone.stderr
    assert f"forgot user '{user}'" in gone.stdout
    assert user not in load_model(tmp_path / "m").user_ids
    missing = _segrec("forget", "--model", str(tmp_path / "m"), "--user", user)
    assert missing.returncode == 2 and f"unknown user_id '{user}'" in missing.stderr
