"""The ``onnx-int8`` backend: ONNX Runtime int8 with fp32 for very short texts, no torch.

The model is prepared once (:mod:`segrec.features._onnx_export`: fp32 export, dynamic
per-channel int8 quantisation, a check against torch) into ``<id>@<revision>/`` under
``<models dir>/onnx/`` (``segrec models prepare``, run by ``scripts/install.sh``) or, failing
that, under ``<cache dir>/onnx/`` on first use. Running it needs only onnxruntime and the
Rust ``tokenizers`` package: neither torch nor transformers is imported (together 4-6 s of a
short command on this 2-core machine).

Why short texts run in fp32: dynamic int8 quantises each activation tensor with one scale,
and the [CLS]/[SEP] rows carry outlier values; in a text of a handful of tokens they are most
of the mean-pooled vector. On 3,000 Amazon Musical Instruments texts every text under 0.96
cosine to fp32 had at most 6 tokens ("WOW!", "Thank You", "Perfect."); texts of at most
:data:`SHORT_TOKENS` tokens are ~6% of the tokens of a review corpus, so running them in fp32
costs little and makes them exact.

Why int8 runs one text per forward pass: that one scale is taken over the whole batch tensor,
so a batched text's vector moved with the texts beside it (up to 0.03), and a run whose cache
held vectors from other batches could choose other segments than a run from an empty cache.
Alone, a text's vector is a function of its text, bit for bit (the fp32 graph already was).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from segrec.diagnostics import require
from segrec.features._backends import (
    _Tokenized,
    fast_tokenizer,
    machine_threads,
    max_tokens_of,
    mean_pool,
    model_identity,
    read_model_config,
)

__all__ = ["SHORT_TOKENS", "OnnxInt8Backend", "prepared_folder"]

log = logging.getLogger(__name__)

#: texts of at most this many tokens (with [CLS] and [SEP]) run through the fp32 graph
SHORT_TOKENS = 16


def prepared_folder(model_path: Path, cache_dir: Path) -> tuple[Path, bool]:
    """``(folder, exists)``: where the prepared ONNX files of ``model_path`` are.

    The install-time folder (``<models dir>/onnx/``) wins over the cache's; when neither holds
    a current preparation the cache's folder is returned with ``exists=False``."""
    from segrec.features._models import models_dir
    from segrec.features._onnx_export import FORMAT

    model_id, revision = model_identity(Path(model_path))
    name = f"{model_id.replace('/', '__')}@{revision}"
    cands = [models_dir() / "onnx" / name, Path(cache_dir) / "onnx" / name]
    for c in cands:
        rec = c / "prepared.json"
        if (
            rec.is_file()
            and (c / "model-int8.onnx").is_file()
            and (c / "model-fp32.onnx").is_file()
        ):
            try:
                if json.loads(rec.read_text()).get("format") == FORMAT:
                    return c, True
            except ValueError:
                continue
    return cands[1], False


#: at most this many texts in one call run on a session with every core (see ``_run``)
LONE_TEXTS = 2


class OnnxInt8Backend:
    """ONNX Runtime encoder: int8 (dynamic, per-channel), fp32 for texts of at most
    ``short_tokens`` tokens; ``precision="fp32"`` runs every text in fp32 (``onnx-fp32``, what
    the accuracy gate falls back to)."""

    # texts per task and per cache commit; int8 runs them one per forward pass (``_run``)
    batch_size = 16

    def __init__(
        self,
        model_path: Path,
        cache_dir: Path,
        pooling: str = "mean",
        max_tokens: int | None = None,
        threads: int | None = None,
        short_tokens: int = SHORT_TOKENS,
        folder: Path | None = None,
    ) -> None:
        self._ort = require("onnxruntime", "text", "the 'onnx-int8' text backend")
        self.path = Path(model_path)
        self.pooling = pooling
        self.short_tokens = int(short_tokens)
        self.precision = "int8"
        self.model_id, self.revision = model_identity(self.path)
        config = read_model_config(self.path)
        self.dim = int(config["hidden_size"])
        self.max_tokens = int(max_tokens or max_tokens_of(self.path, config))
        fast = fast_tokenizer(self.path)
        if fast is not None:
            self.tokenizer, self._pad_id = fast
        else:  # no tokenizer.json: the (slower to import) transformers tokenizer
            transformers = require("transformers", "text", "the 'onnx-int8' text backend")
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(self.path))
            self._pad_id = int(self.tokenizer.pad_token_id or 0)
        self.exported_now = False
        if folder is None:
            folder, ready = prepared_folder(self.path, Path(cache_dir))
            if not ready:
                from segrec.features._onnx_export import export_onnx

                export_onnx(self.path, folder, pooling)
                self.exported_now = True
        self.dir = folder
        self.prepared: dict[str, Any] = (
            json.loads((folder / "prepared.json").read_text())
            if (folder / "prepared.json").is_file()
            else {}
        )
        # One single-threaded kernel pool per graph, driven by ``workers`` batches at a time:
        # on small encoders two concurrent batches beat one batch split across two cores
        # (Amazon MI reviews, batch 16: 247 vs 230 texts/s). Sessions are thread-safe.
        self.workers = int(threads or machine_threads())
        self._sessions: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return "onnx-int8" if self.precision == "int8" else "onnx-fp32"

    @property
    def namespace(self) -> str:
        # "-pertext": int8 vectors are computed one text per call (see ``_run``); the cache of
        # the earlier, batch-dependent ones is not read
        mode = (
            f"{self.name}-fp32le{self.short_tokens}-pertext"
            if self.precision == "int8"
            else self.name
        )
        return f"{self.model_id}@{self.revision}/{mode}/{self.pooling}/{self.max_tokens}"

    def session(self, precision: str, threads: int = 1) -> Any:
        """The ONNX Runtime session of one graph (``int8`` or ``fp32``) with ``threads``
        kernel threads, loaded on first use."""
        key = f"{precision}/{threads}"
        if key not in self._sessions:
            ort = self._ort
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")  # wait passively
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            self._sessions[key] = ort.InferenceSession(
                str(self.dir / f"model-{precision}.onnx"), so, providers=["CPUExecutionProvider"]
            )
        return self._sessions[key]

    def prepare(self, texts: list[str]) -> _Tokenized:
        return _Tokenized(self.tokenizer, texts, self.max_tokens, self._pad_id)

    def _run(self, precision: str, prepared: _Tokenized, idx: np.ndarray) -> np.ndarray:
        # a request of a text or two (one user's review, online) has no batch beside it to
        # overlap with: it gets every core (one 60-word review: 8.8 ms on one thread)
        alone = len(idx) <= LONE_TEXTS and self.workers > 1
        sess = self.session(precision, self.workers if alone else 1)
        if precision == "int8" and len(idx) > 1:
            # Dynamic int8 takes one activation scale over the whole batch tensor, so a text
            # embedded beside others got a vector that depended on them (up to 0.03 apart),
            # and results depended on what the embedding cache held. One text per call makes
            # a vector a function of its text alone, bit for bit (the fp32 graph already is),
            # at 0.85-1.12x the batched speed (see BENCHMARKS.md, session 19).
            return np.concatenate(
                [self._forward(sess, prepared, idx[k : k + 1]) for k in range(len(idx))]
            )
        return self._forward(sess, prepared, idx)

    def _forward(self, sess: Any, prepared: _Tokenized, idx: np.ndarray) -> np.ndarray:
        inputs = [i.name for i in sess.get_inputs()]
        b = prepared.batch(idx)
        feed = {k: v for k, v in b.items() if k in inputs}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(b["input_ids"])
        hidden = sess.run(None, feed)[0]
        if self.pooling == "cls":
            return np.asarray(hidden[:, 0], dtype=np.float32)
        return mean_pool(hidden, b["attention_mask"]).astype(np.float32)

    def embed(
        self, prepared: _Tokenized, idx: np.ndarray, precision: str | None = None
    ) -> np.ndarray:
        """Vectors of the texts ``idx`` of ``prepared``; ``precision`` forces one graph."""
        idx = np.asarray(idx)
        mode = precision or self.precision
        if mode == "fp32":
            return self._run("fp32", prepared, idx)
        short = prepared.lengths[idx] <= self.short_tokens
        if not short.any():
            return self._run("int8", prepared, idx)
        if short.all():
            return self._run("fp32", prepared, idx)
        out = np.empty((len(idx), self.dim), dtype=np.float32)
        out[short] = self._run("fp32", prepared, idx[short])
        out[~short] = self._run("int8", prepared, idx[~short])
        return out
