"""The ``onnx-int8`` backend: export once, fuse, quantise per channel, cache on disk.

The fp32 model is exported with ``torch.onnx.export`` (TorchScript exporter), optionally fused
by ONNX Runtime's BERT optimiser (off by default: measured slower after int8 quantisation on
this 2-core CPU), and quantised with dynamic per-channel int8 (per-tensor int8 loses too much: mean cosine 0.95 on MiniLM). Files
live under ``<cache_dir>/onnx/<model id>@<revision>/`` and are reused by later runs.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from segrec.diagnostics import require
from segrec.features._backends import _Tokenized, machine_threads, mean_pool, model_identity

__all__ = ["OnnxInt8Backend"]

log = logging.getLogger(__name__)


def _fuse(src: Path, dst: Path, config: Any) -> Path:
    """Fuse attention / layer-norm / gelu sub-graphs (fewer, bigger int8 kernels)."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        opt = optimize_model(
            str(src),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
        )
        opt.save_model_to_file(str(dst))
        return dst
    except Exception as exc:  # pragma: no cover - optimiser coverage varies by model
        log.warning("ONNX transformer fusion failed (%s); quantising the plain graph", exc)
        return src


class OnnxInt8Backend:
    """ONNX Runtime int8 (dynamic, per-channel) encoder with mean or CLS pooling."""

    name = "onnx-int8"
    batch_size = 16  # measured: faster than 32 on long reviews, equal on short ones

    def __init__(
        self,
        model_path: Path,
        cache_dir: Path,
        pooling: str = "mean",
        max_tokens: int | None = None,
        threads: int | None = None,
        fuse: bool = False,
    ) -> None:
        ort = require("onnxruntime", "text", "the 'onnx-int8' text backend")
        transformers = require("transformers", "text", "the 'onnx-int8' text backend")
        self.path = Path(model_path)
        self.pooling = pooling
        self.model_id, self.revision = model_identity(self.path)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(self.path))
        config = transformers.AutoConfig.from_pretrained(str(self.path))
        from segrec.features._backends import _max_tokens

        self.max_tokens = int(max_tokens or _max_tokens(self.path, self.tokenizer, config))
        self.dim = int(config.hidden_size)
        safe = self.model_id.replace("/", "__")
        self.fuse = fuse
        self.dir = Path(cache_dir) / "onnx" / f"{safe}@{self.revision}{'' if fuse else '-nofuse'}"
        self.int8_path = self.dir / "model-int8.onnx"
        self.exported_now = False
        if not self.int8_path.exists():
            self._export(config)
            self.exported_now = True
        # One single-threaded kernel pool, driven by ``workers`` batches at a time: on small
        # encoders two concurrent batches beat one batch split across two cores (Amazon MI
        # reviews, batch 16: 247 vs 230 texts/s; synthetic reviews: 890 vs 810). ``workers``
        # batches may call ``embed`` at once: ONNX Runtime sessions are thread-safe.
        self.workers = int(threads or machine_threads())
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")  # wait passively
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(
            str(self.int8_path), so, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self.session.get_inputs()]

    @property
    def namespace(self) -> str:
        return f"{self.model_id}@{self.revision}/{self.name}/{self.pooling}/{self.max_tokens}"

    def _export(self, config: Any) -> None:
        torch = require("torch", "text", "exporting the ONNX model")
        transformers = require("transformers", "text", "exporting the ONNX model")
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = self.dir.with_name(self.dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        model = transformers.AutoModel.from_pretrained(str(self.path)).eval()
        enc = self.tokenizer(
            ["a sample sentence for export", "short"], padding=True, return_tensors="pt"
        )
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]
        dyn = {n: {0: "batch", 1: "seq"} for n in names}
        dyn["last_hidden_state"] = {0: "batch", 1: "seq"}
        fp32 = tmp / "model.onnx"
        log.info("exporting %s to ONNX (once; cached in %s)", self.model_id, self.dir)

        # a fixed positional signature for the tracer
        class _Wrap(torch.nn.Module):  # type: ignore[name-defined]
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, *args: Any) -> Any:
                return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer chatter about constant-folded branches
            torch.onnx.export(
                _Wrap(model),
                tuple(enc[n] for n in names),
                str(fp32),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=dyn,
                opset_version=17,
                dynamo=False,
            )
        src = fp32
        if self.fuse:
            src = _fuse(fp32, tmp / "model-opt.onnx", config)
        import onnx

        # onnxruntime logs a generic "consider pre-processing" advice on the root logger at
        # WARNING; the accuracy gate is what decides whether this model is good enough.
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(
                str(src),
                str(tmp / "model-int8.onnx"),
                per_channel=True,
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            root.setLevel(level)
        for f in (fp32, tmp / "model-opt.onnx"):
            f.unlink(missing_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        tmp.rename(self.dir)

    def prepare(self, texts: list[str]) -> _Tokenized:
        return _Tokenized(self.tokenizer, texts, self.max_tokens)

    def embed(self, prepared: _Tokenized, idx: np.ndarray) -> np.ndarray:
        b = prepared.batch(idx)
        feed = {k: v for k, v in b.items() if k in self._inputs}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(b["input_ids"])
        hidden = self.session.run(None, feed)[0]
        if self.pooling == "cls":
            return hidden[:, 0].astype(np.float32)
        return mean_pool(hidden, b["attention_mask"]).astype(np.float32)
