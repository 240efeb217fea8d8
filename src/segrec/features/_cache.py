"""On-disk embedding cache keyed by (model id + revision, backend, sha1 of the text).

One SQLite file per (model, revision, backend, pooling) namespace under
``<cache_dir>/embeddings/``. Rows are committed after every batch, so an interrupted run keeps
what it finished and the next run embeds only the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EmbeddingCache", "default_cache_dir", "text_key"]


def default_cache_dir() -> Path:
    """``$SEGREC_CACHE`` if set, else ``~/.cache/segrec``."""
    env = os.environ.get("SEGREC_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "segrec"


def text_key(text: str) -> str:
    """sha1 hex digest of the UTF-8 text (the per-text cache key)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    """Vectors of texts already embedded by one (model, revision, backend) namespace.

    >>> import tempfile
    >>> c = EmbeddingCache(tempfile.mkdtemp(), "demo-model@r1/tfidf")
    >>> c.put(["k1"], np.ones((1, 3), np.float32)); c.get(["k1", "k2"])[1]
    [0]
    """

    def __init__(self, cache_dir: str | Path, namespace: str) -> None:
        self.namespace = namespace
        ns = hashlib.sha1(namespace.encode()).hexdigest()[:16]
        self.path = Path(cache_dir) / "embeddings" / f"{ns}.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # several processes (Spark workers, parallel runs) may open one cache at once
        self._con = sqlite3.connect(self.path, timeout=60)
        _retry_locked(lambda: self._con.execute("PRAGMA journal_mode=WAL"))
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)"
        )
        self._con.execute("CREATE TABLE IF NOT EXISTS info (k TEXT PRIMARY KEY, v TEXT)")
        self._con.execute("INSERT OR IGNORE INTO info VALUES ('namespace', ?)", (namespace,))
        self._con.commit()

    def __len__(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM vec").fetchone()[0])

    def get(self, keys: Sequence[str]) -> tuple[np.ndarray | None, list[int]]:
        """Vectors for ``keys`` found in the cache and the positions of those found.

        Returns ``(matrix of the found rows in key order, found positions)``.
        """
        found: dict[str, np.ndarray] = {}
        uniq = list(dict.fromkeys(keys))
        for start in range(0, len(uniq), 900):  # SQLite's bound-parameter limit
            chunk = uniq[start : start + 900]
            q = f"SELECT key, data FROM vec WHERE key IN ({','.join('?' * len(chunk))})"
            for k, data in self._con.execute(q, chunk):
                found[k] = np.frombuffer(data, dtype=np.float32)
        pos = [i for i, k in enumerate(keys) if k in found]
        if not pos:
            return None, []
        return np.stack([found[keys[i]] for i in pos]), pos

    def put(self, keys: Iterable[str], vectors: np.ndarray) -> None:
        """Store rows of ``vectors`` under ``keys`` and commit (one transaction per call)."""
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vecs, strict=True)]
        with self._con:
            self._con.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        self._con.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        with contextlib.suppress(Exception):
            self._con.close()


def _retry_locked(step: Any, seconds: float = 60.0) -> Any:
    """Run ``step``, retrying while SQLite says the database is locked: switching a new file
    to WAL needs a moment alone with it, and the busy timeout does not cover that switch."""
    import time

    deadline = time.monotonic() + seconds
    wait = 0.05
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(wait)
            wait = min(wait * 2, 1.0)
