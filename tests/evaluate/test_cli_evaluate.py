"""``segrec evaluate``: results JSON (and report) from the command line; mistakes exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import segrec.cli._evaluate  # noqa: F401  (registers the command)
from segrec.cli import main

FAST_TOML = """
methods = ["pop", "ease"]
segmentations = ["random", "behavior"]
segment_methods = ["segment_pop"]
n_bootstrap = 50
[grids]
ease = [{l2 = 50.0}, {l2 = 500.0}]
[segmentation_params.behavior]
k = 3
"""


@pytest.mark.slow
def test_evaluate_writes_results_and_report(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "eval.toml"
    cfg.write_text(FAST_TOML)
    out = tmp_path / "results.json"
    main(
        [
            "evaluate",
            "--dataset",
            "synthetic:users=150,seed=3",
            "--out",
            str(out),
            "--config",
            str(cfg),
            "--k",
            "5",
            "--report",
            str(tmp_path / "rep"),
        ]
    )
    data = json.loads(out.read_text())
    assert data["protocol"]["name"] == "v1" and data["protocol"]["k"] == 5
    assert {"pop", "ease", "segment_pop:behavior", "segment_pop:random"} <= set(data["methods"])
    assert {"ndcg@5", "ndcg@20", "ndcg@5_ci", "ndcg@5_cold"} <= set(data["methods"]["ease"])
    assert len(data["methods"]["ease"]["tuning"]) == 2
    assert data["dataset"]["n_test_users"] > 0
    assert (tmp_path / "rep" / "report.html").exists()
    captured = capsys.readouterr()
    assert "test users" in captured.out and "warning:" in captured.err


def test_evaluate_rejects_bad_protocol(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "evaluate",
                "--dataset",
                "synthetic:users=50,seed=1",
                "--out",
                str(tmp_path / "r.json"),
                "--protocol",
                "kfold",
            ]
        )
    assert exc.value.code == 2
    assert "protocol" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        # a misspelt key names the keys that exist
        ("methds = ['pop']\n", "unknown setting 'methds' (known: baselines, budget"),
        # a bad value names the field, the value and the rule
        ("k = 0\n", "k=0: Input should be greater than or equal to 1"),
        ("[evaluate]\nbudget = 'many'\n", "budget='many'"),
        # names and nested options are checked too, before any data is read
        ("methods = ['pop', 'eaze']\n", "methods: unknown method 'eaze'; expected one of"),
        ("segmentations = ['rmf']\n", "segmentations: unknown segmentation 'rmf'"),
        ("[grids]\nease = [{l2 = -5.0}]\n", "grids.ease[0]: recommender 'ease': invalid"),
        (
            "[grids]\nhybrid = [{w_txt = 1.0}]\n",
            "grids.hybrid[0]: recommender 'hybrid': invalid parameters: unknown setting 'w_txt'",
        ),
        ("[segmentation_params.text]\nkk = 3\n", "segmentation_params.text: segmenter"),
        (
            "[segmentation_params.rfm]\nk = 3\n",
            "segmentation_params.rfm: ['k'] given, but rfm takes no options",
        ),
        ("[features.embedder]\nbakend = 'hf'\n", "features.embedder: unknown setting"),
        ("[features]\ntext_pooling = 'max'\n", "features.text_pooling='max': Input should"),
        ("[graph]\nepochs = -1\n", "graph.epochs=-1: Input should be greater than"),
        ("[graph]\nepoch = 3\n", "graph: unknown option(s) ['epoch']; known: dim, epochs"),
        (
            "segmentations = ['text']\nhybrid_segmentation = 'gnn'\n",
            "hybrid_segmentation='gnn' is not one of the segmentations built",
        ),
    ],
)
def test_evaluate_config_mistakes_read_as_one_line(
    tmp_path: Path, capsys, toml: str, expected: str
) -> None:
    cfg = tmp_path / "eval.toml"
    cfg.write_text(toml)
    with pytest.raises(SystemExit) as exc:
        # a dataset that does not exist: the settings must be refused before it is opened
        main(["evaluate", "--dataset", f"amazon:{tmp_path / 'none.json'}", "--config", str(cfg)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"--config {cfg}: invalid evaluation settings: {expected}" in err
    assert "pydantic" not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_check_accepts_the_defaults_and_custom_recommenders() -> None:
    from segrec.diagnostics import UsageError
    from segrec.evaluate import EvalConfig

    EvalConfig().check()
    cfg = EvalConfig(methods=["pop", "mine"], grids={"mine": [{"anything": 1}]})
    with pytest.raises(UsageError, match="unknown method 'mine'"):
        cfg.check()
    assert cfg.check(recommenders=["mine"]) is cfg
