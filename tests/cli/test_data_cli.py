"""``segrec data check``: counts on stdout, user mistakes as one line and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from segrec.cli import main


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segrec", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _ml(tmp_path: Path) -> Path:
    d = tmp_path / "ml"
    d.mkdir()
    (d / "u.data").write_text("1\t10\t4\t881250949\n2\t10\t9\t881250950\n3\t11\t2\t881250951\n")
    return d


def test_check_json_counts_and_quarantine(tmp_path: Path) -> None:
    q = tmp_path / "q.jsonl"
    r = _cli(
        "data", "check", "--dataset", f"movielens:{_ml(tmp_path)}", "--json", "--quarantine", str(q)
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["read"], out["accepted"], out["rejected"]) == (3, 2, 1)
    assert out["tables"]["interactions"]["rejected"] == 1
    assert out["dataset"]["interactions"] == 2
    rec = json.loads(q.read_text().strip())
    assert rec["line"] == 2 and rec["reason"] == "rating above 5" and rec["source"] == "u.data"


def test_check_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        main(["data", "check", "--dataset", f"movielens:{_ml(tmp_path)}"])
    except SystemExit as exc:  # main() may exit 0 explicitly
        assert exc.code in (0, None)
    out = capsys.readouterr().out
    assert "read 3  accepted 2  rejected 1" in out
    assert "rating above 5" in out


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("nosuchkind:/tmp", "unknown KIND 'nosuchkind'"),
        ("movielens:/no/such/folder", "/no/such/folder does not exist"),
        ("movielens", "is not KIND:PATH"),
    ],
)
def test_user_mistakes_exit_2_one_line(spec: str, needle: str) -> None:
    r = _cli("data", "check", "--dataset", spec)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_generic_missing_column_exit_2(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("customer,sku\nc1,s1\n")
    toml = tmp_path / "m.toml"
    toml.write_text('[interactions]\npath = "e.csv"\nuser_id = "customer"\nitem_id = "product"\n')
    r = _cli("data", "check", "--dataset", f"generic:{toml}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "item_id" in line and "'product'" in line and "customer, sku" in line


@pytest.mark.shared
def test_check_runs_on_shared_filmtrust(shared_datasets: Path) -> None:
    r = _cli("data", "check", "--dataset", f"filmtrust:{shared_datasets / 'filmtrust'}", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["dataset"]["interactions"] == 35_497 and out["dataset"]["social"] == 1_853
