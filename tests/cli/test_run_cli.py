"""``segrec run``: the whole chain writes every promised file and a self-contained report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FAST = """
methods = ["pop", "ease", "hybrid"]
segmentations = ["random", "rfm", "fused"]
graph = {}
n_bootstrap = 50
[features.embedder]
backend = "tfidf-svd"
"""


def _segrec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segrec", "--no-progress", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_run_writes_report_segments_profiles_and_recommendations(tmp_path: Path) -> None:
    cfg = tmp_path / "eval.toml"
    cfg.write_text(FAST.replace("graph = {}\n", ""))
    out = tmp_path / "run"
    proc = _segrec(
        "run",
        "--dataset",
        "synthetic:users=300,seed=5",
        "--config",
        str(cfg),
        "--out",
        str(out),
        "--k",
        "5",
    )
    assert proc.returncode == 0, proc.stderr
    assert f"report: {out / 'report.html'}" in proc.stdout
    assert "model fit on all data: 300 users in " in proc.stdout
    assert f"top-5 lists for 300 users -> {out / 'model'}" in proc.stdout
    # the hybrid's lift over the best baseline, as a ratio with its interval
    assert re.search(r"hybrid / \w+ on \d+ users: \d\.\d\dx \[\d\.\d\d, \d\.\d\d\]", proc.stdout)
    for name in (
        "results.json",
        "segments.parquet",
        "profiles.json",
        "segments.md",
        "recommendations.parquet",
        "report.html",
        "summary.md",
        "model/model.json",
    ):
        assert (out / name).is_file(), name
    res = json.loads((out / "results.json").read_text())
    assert {"pop", "ease", "hybrid"} <= set(res["methods"])
    assert res["protocol"]["k"] == 5 and "ndcg@5" in res["methods"]["hybrid"]  # --k reached it
    enc = res["protocol"]["text_encoder"]  # which encoder made the text vectors, and how fast
    assert enc["backend"] == "tfidf-svd" and enc["n_texts"] > 0 and enc["texts_per_s"] > 0
    assert f"Text encoder: {enc['model']} (tfidf-svd)." in (out / "summary.md").read_text()
    assert res["dataset"]["n_test_users"] > 0
    seg = pd.read_parquet(out / "segments.parquet")
    assert list(seg.columns[:3]) == ["user_id", "segment_id", "strength"]
    assert seg.strength.between(0, 1).all()
    recs = pd.read_parquet(out / "recommendations.parquet")
    assert recs.reason.str.len().gt(0).all()
    # reasons speak the shop's words and name segments as their profiles do
    assert not recs.reason.str.contains(r"\bnan\b|None|segment \d|viewed|visitors").any()
    seg_reasons = recs.reason[recs.reason.str.startswith("popular with ")]
    seg_reasons = seg_reasons[~seg_reasons.str.contains("overall")]
    named = {p["name"] for p in json.loads((out / "profiles.json").read_text())["segments"]}
    assert set(seg_reasons.str.removeprefix("popular with ")) <= named
    # each list row carries a readable item label and the user's segment, as segments.parquet
    assert recs.item.notna().all() and recs.item.str.len().gt(0).all()
    assert (recs.item != recs.item_id).any()  # the shop's items have titles
    by_user = seg.set_index("user_id")
    assert (recs.segment_id == recs.user_id.map(by_user.segment_id)).all()
    assert (recs.segment == recs.user_id.map(by_user.segment)).all()
    assert set(seg.segment) <= named
    # segments and lists are refit on all data: every user, nothing they already had
    from segrec.data import load_dataset

    ds, _ = load_dataset("synthetic:users=300,seed=5")
    active = set(ds.interactions.user_id.astype(str))
    assert set(seg.user_id.astype(str)) == active == set(recs.user_id.astype(str))
    inter = ds.interactions
    had = set(zip(inter.user_id.astype(str), inter.item_id.astype(str), strict=True))
    assert not any((u, i) in had for u, i in zip(recs.user_id, recs.item_id, strict=True))
    html = (out / "report.html").read_text()
    assert "<script src" not in html and "<link" not in html
    profiles = json.loads((out / "profiles.json").read_text())
    profiles_text = (out / "segments.md").read_text()
    names = {p["name"] for p in profiles["segments"]}
    assert names and all(n in profiles_text for n in names)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recommendations"] == str(out / "recommendations.parquet")
    assert 0 < manifest["seconds"]["fit_model"] < manifest["seconds"]["total"]
    assert "fit on the whole dataset" in html  # the report says its cards are the evaluated ones
    # a few users' published lists, with the reasons they carry
    shown = html[html.index("What users see") : html.index("Data and run")]
    assert shown.count('class="card"') == 4
    assert any(r.replace("'", "&#x27;") in shown for r in recs.reason)


def test_run_rejects_a_missing_config_with_exit_2(tmp_path: Path) -> None:
    proc = _segrec(
        "run", "--dataset", "synthetic:users=50", "--config", str(tmp_path / "nope.toml")
    )
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("command", "flag", "value", "message"),
    [
        ("run", "--protocol", "loo", "--protocol 'loo' is not known; expected 'v1' or 'llo'"),
        ("demo", "--protocol", "v2", "--protocol 'v2' is not known"),
        ("demo", "--k", "0", "--k 0: expected a positive integer"),
    ],
)
def test_run_and_demo_check_evaluation_flags_before_any_work(
    command: str, flag: str, value: str, message: str
) -> None:
    args = ["--dataset", "synthetic:users=50"] if command == "run" else []
    proc = _segrec(command, *args, flag, value)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_demo_is_a_command() -> None:
    proc = _segrec("demo", "--help")
    assert proc.returncode == 0 and "synthetic" in proc.stdout


def test_method_lines_say_na_where_no_user_is_behind_a_figure() -> None:
    # MovieLens latest-small under v1 keeps 28 test users and no cold one: "cold 0.0000"
    # would read as a measured zero
    from segrec.cli._evaluate import method_lines

    methods = {
        "ease": {"ndcg@10": 0.1437, "ndcg@10_cold": None},
        "pop": {"ndcg@10": 0.1099, "ndcg@10_cold": 0.0},
        "segment_pop:rfm": {"ndcg@10": 0.2, "ndcg@10_cold": 0.1},
    }
    lines = method_lines(methods, 10)
    assert len(lines) == 2 and "ease" in lines[0]  # best first, variants left out
    assert lines[0].endswith("cold    n/a") and lines[1].endswith("cold 0.0000")
    # a long name does not push its figures out of line
    lines = method_lines({**methods, "segment_strategy": {"ndcg@10": 0.12}}, 10)
    assert len({line.index("ndcg@10") for line in lines}) == 1


def test_lift_lines_give_the_ratio_its_interval_and_p_value() -> None:
    from segrec.cli._evaluate import lift_lines
    from segrec.evaluate import paired_test

    rng = np.random.default_rng(0)
    b = rng.random(200)
    sig = {
        "hybrid_vs_best_baseline": {"a": "hybrid", "b": "ease", **paired_test(1.1 * b, b)},
        "hybrid_vs_best_baseline_cold": {"a": "hybrid", "b": "pop", **paired_test(b[:0], b[:0])},
    }
    lines = lift_lines(sig)
    # no cold users: no ratio, no line (not a made-up 0.00x)
    assert len(lines) == 1
    assert lines[0].startswith("  hybrid / ease on 200 users: 1.10x [")
    assert lines[0].endswith(f"p={sig['hybrid_vs_best_baseline']['p_bootstrap']:.3f}")


def test_segrec_warnings_print_once_as_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    recwarn: pytest.WarningsRecorder,
) -> None:
    import warnings

    from segrec.cli._app import _one_line_warnings
    from segrec.diagnostics import FallbackWarning

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored afterwards
    _one_line_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # what a reset warning registry amounts to
        for _ in range(3):  # e.g. one text embedder per evaluation period
            warnings.warn("int8 failed the gate; using bf16", FallbackWarning, stacklevel=1)
        warnings.warn("some library chatter", DeprecationWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err.count("warning: int8 failed the gate; using bf16\n") == 1
    assert "FallbackWarning" not in err
    # other libraries' warnings go on to Python's own handler (here pytest's recorder)
    assert [str(w.message) for w in recwarn.list] == ["some library chatter"]


def test_logged_warnings_read_like_the_cli_s_own_and_name_the_module_with_v() -> None:
    import logging

    from segrec.cli._app import _TerminalFormatter

    rec = logging.LogRecord(
        "segrec.evaluate._run",
        logging.WARNING,
        __file__,
        1,
        "segmentation %r skipped",
        ("x",),
        None,
    )
    assert _TerminalFormatter(0).format(rec) == "warning: segmentation 'x' skipped"
    assert _TerminalFormatter(1).format(rec) == (
        "WARNING segrec.evaluate._run: segmentation 'x' skipped"
    )
    rec.levelno, rec.levelname = logging.INFO, "INFO"
    assert _TerminalFormatter(0).format(rec).startswith("INFO segrec.evaluate._run: ")


@pytest.mark.slow
def test_run_without_segmentations_still_publishes_recommendations(tmp_path: Path) -> None:
    from segrec import run_pipeline
    from segrec.data import load_dataset
    from segrec.diagnostics import FallbackWarning
    from segrec.evaluate import EvalConfig

    ds, _ = load_dataset("synthetic:users=150,seed=2")
    cfg = EvalConfig(
        methods=["pop", "hybrid"],
        segmentations=[],
        n_bootstrap=20,
        graph=None,
        features={"embedder": {"backend": "tfidf-svd"}},
    )
    with pytest.warns(FallbackWarning, match="no segmentation"):  # said, not hidden
        res = run_pipeline(ds, tmp_path / "run", cfg)
    assert "recommendations" in res.files and "segments" not in res.files
    recs = pd.read_parquet(res.files["recommendations"])
    assert set(recs.user_id.astype(str)) == set(ds.interactions.user_id.astype(str))
