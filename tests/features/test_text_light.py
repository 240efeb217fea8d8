"""TextEmbedder with the light tfidf-svd backend: dedupe, cache hits, resume, determinism."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from segrec.diagnostics import UsageError
from segrec.features import TextEmbedder

CORPUS = [f"review {i} about guitar strings and tone number {i % 7}" for i in range(40)] + [
    "the cable broke after a week",
    "slow delivery, box damaged",
    "great drum sticks",
]


def test_unit_norm_and_dedupe(tmp_path):
    emb = TextEmbedder(backend="tfidf-svd", cache_dir=str(tmp_path))
    texts = CORPUS + CORPUS[:10]
    v = emb.encode(texts)
    assert v.shape[0] == len(texts) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert emb.stats_["n_unique"] == len(CORPUS)
    assert emb.stats_["n_embedded"] == len(CORPUS)
    np.testing.assert_array_equal(v[:10], v[len(CORPUS) :])


def test_deterministic_across_instances(tmp_path):
    a = TextEmbedder(backend="tfidf-svd", use_cache=False, random_state=3).encode(CORPUS)
    b = TextEmbedder(backend="tfidf-svd", use_cache=False, random_state=3).encode(CORPUS)
    np.testing.assert_array_equal(a, b)


def test_second_run_embeds_nothing(tmp_path):
    first = TextEmbedder(backend="tfidf-svd", cache_dir=str(tmp_path))
    v1 = first.encode(CORPUS)
    again = TextEmbedder(backend="tfidf-svd", cache_dir=str(tmp_path))
    v2 = again.encode(CORPUS)
    assert again.stats_["n_embedded"] == 0
    assert again.stats_["n_cached"] == len(CORPUS)
    np.testing.assert_allclose(v1, v2, atol=1e-6)


def test_interrupted_run_resumes(tmp_path):
    class Stop(Exception):
        pass

    def stop_after_two(batches: int, done: int) -> None:
        if batches == 2:
            raise Stop

    emb = TextEmbedder(backend="tfidf-svd", cache_dir=str(tmp_path), batch_size=5)
    with pytest.raises(Stop):
        emb.encode(CORPUS, callback=stop_after_two)
    emb2 = TextEmbedder(backend="tfidf-svd", cache_dir=str(tmp_path), batch_size=5)
    full = emb2.encode(CORPUS)
    assert emb2.stats_["n_cached"] == 10
    assert emb2.stats_["n_embedded"] == len(CORPUS) - 10
    ref = TextEmbedder(backend="tfidf-svd", use_cache=False).encode(CORPUS)
    np.testing.assert_allclose(full, ref, atol=1e-5)


def test_unknown_backend_and_bad_model_path(tmp_path):
    with pytest.raises(ValueError, match="backend"):
        TextEmbedder(backend="word2vec")
    emb = TextEmbedder(backend="hf", model=str(tmp_path / "nope"))
    with pytest.raises(UsageError, match="nope"):
        emb.encode(["x"])


_BLOCKED = """
import sys, warnings
import importlib.abc

class Block(importlib.abc.MetaPathFinder):  # as if the 'text' extra were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "sentence_transformers", "onnxruntime"):
            raise ImportError(f"No module named {name!r} (blocked)")
        return None

sys.meta_path.insert(0, Block())
from segrec.diagnostics import MissingExtraError, FallbackWarning
from segrec.features import TextEmbedder
try:
    TextEmbedder(backend="sentence-transformers", use_cache=False).encode(["a b", "c d"])
    print("NO-ERROR")
except MissingExtraError as e:
    print("ERR", e.extra, "|", e)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    emb = TextEmbedder(use_cache=False)
    v = emb.encode(["guitar strings sound great", "the cable broke", "fast delivery"])
    print("AUTO", emb.backend_, v.shape[0], any(issubclass(x.category, FallbackWarning) for x in w))
"""


def test_missing_text_extra_error_and_auto_fallback(tmp_path):
    # an empty cache: no ONNX model exported earlier that could run without torch
    env = {**os.environ, "SEGREC_CACHE": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-c", _BLOCKED], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 0, r.stderr
    err = next(line for line in r.stdout.splitlines() if line.startswith(("ERR", "NO-ERROR")))
    assert err.startswith("ERR text |"), err
    assert "pip install" in err and "segrec[text]" in err
    assert "AUTO tfidf-svd 3 True" in r.stdout
