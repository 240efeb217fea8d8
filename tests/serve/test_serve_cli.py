"""``segrec serve`` argument checks (the running server is tested in test_serve_sigkill)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from segrec.cli import _serve
from segrec.cli._app import app


def test_serve_needs_exactly_one_model_source(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["serve"])
    assert r.exit_code == 2 and "--model" in r.output
    r = CliRunner().invoke(app, ["serve", "--run", str(tmp_path)])
    assert r.exit_code == 2 and "no model.json" in r.output


def test_run_dir_serves_its_model_folder(model_dir: Path) -> None:
    assert _serve._model_dir(None, model_dir.parent) == model_dir.resolve()
    assert _serve._model_dir(model_dir, None) == model_dir.resolve()
    with pytest.raises(Exception):  # noqa: B017 - typer.Exit
        _serve._model_dir(model_dir, model_dir.parent)


def test_keys_need_a_database(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["keys", "create", "--scope", "read"])
    assert r.exit_code == 2 and "--db" in r.output


def test_access_log_config_keeps_uvicorn_access_off() -> None:
    cfg = _serve._log_config()
    assert cfg["loggers"]["segrec.serve.access"]["propagate"] is False
