"""Preparing the ONNX models once: export fp32, quantise int8, check both, record the check.

This is the only part of the ONNX path that needs torch and transformers; ``segrec models
prepare`` (run by ``scripts/install.sh``) does it at install time, so a user's first
``segrec embed`` loads finished files instead of paying ~11 s for the export and the gate.

The fp32 graph is kept beside the int8 one: the int8 backend runs very short texts through it
(see :data:`segrec.features._onnx.SHORT_TOKENS`) and the per-run accuracy gate compares int8
with it on a sample of the user's own texts without importing torch. ``prepared.json`` records
how both graphs compare with the torch fp32 model on :func:`~segrec.features._gate.gate_sample`
texts, so a later run can trust the fp32 graph as its reference.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from segrec.diagnostics import require

__all__ = ["FORMAT", "export_onnx"]

log = logging.getLogger(__name__)

#: bump when the files or their meaning change; older prepared folders are then re-exported
FORMAT = 2


def _torch_export(path: Path, fp32: Path) -> None:
    torch = require("torch", "text", "exporting the ONNX model")
    transformers = require("transformers", "text", "exporting the ONNX model")
    tok = transformers.AutoTokenizer.from_pretrained(str(path))
    model = transformers.AutoModel.from_pretrained(str(path)).eval()
    enc = tok(["a sample sentence for export", "short"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]
    dyn = {n: {0: "batch", 1: "seq"} for n in names}
    dyn["last_hidden_state"] = {0: "batch", 1: "seq"}

    class _Wrap(torch.nn.Module):  # type: ignore[name-defined]
        """A fixed positional signature for the tracer."""

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


def _quantise(fp32: Path, int8: Path) -> None:
    onnx = require("onnx", "text", "quantising the ONNX model")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # onnxruntime logs a generic "consider pre-processing" advice on the root logger at
    # WARNING; the accuracy checks below decide whether this model is good enough.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        # per channel: per-tensor int8 loses too much (mean cosine 0.95 on MiniLM)
        quantize_dynamic(
            str(fp32),
            str(int8),
            per_channel=True,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.asarray((a * b).sum(1))


def _check(folder: Path, path: Path, pooling: str, random_state: int) -> dict[str, Any]:
    """fp32 graph vs torch, and int8 (as the backend runs it) vs torch, on the gate texts."""
    from segrec.features._backends import TorchBackend
    from segrec.features._gate import gate_sample, stress_texts
    from segrec.features._onnx import OnnxInt8Backend

    texts = gate_sample(64, random_state) + stress_texts()
    idx = np.arange(len(texts))
    ref = TorchBackend("hf", path, pooling, threads=1)
    r = ref.embed(ref.prepare(texts), idx)
    fast = OnnxInt8Backend(path, folder.parent.parent, pooling, threads=1, folder=folder)
    out: dict[str, Any] = {"n": len(texts), "reference": "torch fp32 (hf backend)"}
    for precision in ("fp32", "int8"):
        fast.precision = precision
        cos = _cosines(fast.embed(fast.prepare(texts), idx), r)
        out[precision] = {"mean_cos": float(cos.mean()), "min_cos": float(cos.min())}
    return out


def export_onnx(
    path: Path, folder: Path, pooling: str = "mean", random_state: int = 0
) -> dict[str, Any]:
    """Export the model at ``path`` to ``folder`` (fp32 + int8 graphs, ``prepared.json``).

    Writes to a temporary sibling first and renames it, so an interrupted export leaves no
    half-prepared folder. Returns the ``prepared.json`` record."""
    from segrec.features._backends import model_identity

    t0 = time.perf_counter()
    model_id, revision = model_identity(Path(path))
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log.info("preparing %s for ONNX Runtime (once; kept in %s)", model_id, folder)
    _torch_export(Path(path), tmp / "model-fp32.onnx")
    _quantise(tmp / "model-fp32.onnx", tmp / "model-int8.onnx")
    record: dict[str, Any] = {
        "format": FORMAT,
        "model_id": model_id,
        "revision": revision,
        "pooling": pooling,
    }
    record["check"] = _check(tmp, Path(path), pooling, random_state)
    record["seconds"] = round(time.perf_counter() - t0, 2)
    (tmp / "prepared.json").write_text(json.dumps(record, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return record
