"""The text encoder a model was fit with, recorded so that a loaded model embeds new texts in
the same space: a named or local transformer is recorded by name and a hash of its weights (the
weights stay where they are installed); the corpus-fitted ``tfidf-svd`` backend is stored whole
(vocabulary, idf, SVD components), since it exists nowhere else.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from segrec.diagnostics import UsageError
from segrec.model._folder import State

__all__ = ["encoder_from_state", "encoder_state", "weights_sha256"]

#: files that hold a transformer's weights (the first found are hashed)
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_TFIDF_PARAMS = (
    "stop_words",
    "token_pattern",
    "sublinear_tf",
    "norm",
    "use_idf",
    "smooth_idf",
    "lowercase",
)


def weights_sha256(folder: Path) -> str | None:
    """sha256 of the first weights file of a Hugging Face model folder (None without one)."""
    for name in _WEIGHTS:
        path = Path(folder) / name
        if path.exists():
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()
    return None


def encoder_state(embedder: Any) -> State:
    """What a model folder keeps of ``embedder`` (a :class:`~segrec.features.TextEmbedder`
    that has encoded the fit's texts)."""
    from segrec.features import TfidfSvdBackend

    cfg = embedder.config.model_dump(mode="json")
    cfg.pop("cache_dir", None)  # machine-specific; the loader's default applies
    backend = embedder.backend
    if isinstance(backend, TfidfSvdBackend):
        return _tfidf_state(cfg, backend)
    path = Path(embedder._model_path())
    meta = {
        "kind": "transformer",
        "config": cfg,
        "name": cfg.get("model") or "minilm",
        "backend": embedder.backend_,
        "model_id": backend.model_id,
        "weights_sha256": weights_sha256(path),
    }
    return meta, {}


def _tfidf_state(cfg: dict[str, Any], backend: Any) -> State:
    vec = backend.vectorizer_
    if vec is None:
        return {"kind": "tfidf-svd", "config": cfg, "fitted": False}, {}
    params = vec.get_params()
    terms = np.empty(len(vec.vocabulary_), dtype=object)
    for term, j in vec.vocabulary_.items():
        terms[j] = term
    meta = {
        "kind": "tfidf-svd",
        "config": cfg,
        "fitted": True,
        "name": "tfidf-svd",
        "revision": backend.revision,
        "dim": int(backend.dim),
        "vectorizer": {k: params[k] for k in _TFIDF_PARAMS},
    }
    arrays = {"terms": terms.astype(str), "idf": np.asarray(vec.idf_)}
    if backend.svd_ is not None:
        arrays["components"] = np.asarray(backend.svd_.components_, dtype=np.float64)
    return meta, arrays


def encoder_from_state(state: State, folder: Path | None = None) -> Any:
    """A :class:`~segrec.features.TextEmbedder` in the space the model was fit in; a missing
    or different transformer fails with one line naming it and the fix."""
    from segrec.features import TextEmbedder, TfidfSvdBackend

    meta, arrays = state
    emb = TextEmbedder(**meta["config"])
    if meta["kind"] == "tfidf-svd":
        if meta.get("fitted"):
            emb._backend = _tfidf_backend(meta, arrays, TfidfSvdBackend)
            emb.backend_ = "tfidf-svd"
        return emb
    where = f"model folder {folder}: " if folder is not None else ""
    try:
        path = Path(emb._model_path())
    except UsageError as exc:
        raise UsageError(
            f"{where}its text encoder '{meta['name']}' is not installed here: {exc}"
        ) from None
    want = meta.get("weights_sha256")
    if want and weights_sha256(path) != want:
        raise UsageError(
            f"{where}its text encoder '{meta['name']}' at {path} has different weights than the "
            "one the model was fit with; install the same encoder, or refit with "
            "`segrec fit --model ...` on this machine"
        )
    return emb


def _tfidf_backend(meta: dict[str, Any], arrays: dict[str, np.ndarray], cls: Any) -> Any:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    cfg = meta["config"]
    b = cls(cfg.get("tfidf_dim", 64), cfg.get("random_state", 0))
    vec = TfidfVectorizer(**meta["vectorizer"])
    vec.vocabulary_ = {str(t): j for j, t in enumerate(arrays["terms"].tolist())}
    vec.idf_ = arrays["idf"]
    b.vectorizer_ = vec
    if "components" in arrays:
        svd = TruncatedSVD(arrays["components"].shape[0])
        svd.components_ = arrays["components"]
        b.svd_ = svd
    b.dim = int(meta["dim"])
    b.revision = meta["revision"]
    return b
