"""Forgetting a user beyond the model folder: the cached embeddings of the texts they wrote.

:class:`~segrec.features.TextEmbedder` caches one vector per distinct text (keyed by the sha1 of
the text) in one SQLite file per encoder namespace under ``<cache>/embeddings/``. A vector is
not the text, but it is derived from it (nearest-neighbour search over a vocabulary recovers
much of a short text), so forgetting a user removes those rows from every namespace, whatever
encoder wrote them. A text some other known user also wrote ("great strings") is kept: its
vector is that user's data too, and it cannot be tied to the forgotten user.

The caller is :meth:`SegrecModel.forget`, before the user's texts leave the store::

    removed = {**forget_text_embeddings(self.store, uid, self.encoder), **self.store.remove(uid)}
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from segrec.features._cache import default_cache_dir, text_key

__all__ = ["forget_text_embeddings", "purge_cached_texts", "residual_user_state"]

_log = logging.getLogger(__name__)


def _cache_dirs(encoder: Any, extra: Iterable[str | Path] = ()) -> list[Path]:
    """The cache folders an encoder may have written to: its own and the default one."""
    dirs = [default_cache_dir(), *(Path(d) for d in extra)]
    own = getattr(encoder, "cache_dir", None)
    if isinstance(own, str | Path):
        dirs.append(Path(own))
    out: list[Path] = []
    for d in dirs:
        r = d.expanduser().resolve()
        if r not in out:
            out.append(r)
    return out


def purge_cached_texts(texts: Iterable[str], cache_dirs: Iterable[str | Path]) -> int:
    """Delete the cached vectors of ``texts`` from every embedding namespace under each of
    ``cache_dirs``; returns how many rows were deleted (0 when nothing was cached)."""
    keys = sorted({text_key(str(t)) for t in texts})
    if not keys:
        return 0
    deleted = 0
    for d in cache_dirs:
        for db in sorted((Path(d) / "embeddings").glob("*.sqlite")):
            deleted += _delete_keys(db, keys)
    return deleted


def _delete_keys(db: Path, keys: list[str]) -> int:
    con = sqlite3.connect(db, timeout=30)
    try:
        has = con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='vec'")
        if has.fetchone() is None:  # not an embedding cache
            return 0
        # overwrite the deleted rows' bytes with zeros instead of leaving them in free pages
        con.execute("PRAGMA secure_delete=ON")
        n = 0
        with con:
            for start in range(0, len(keys), 900):  # SQLite's bound-parameter limit
                chunk = keys[start : start + 900]
                cur = con.execute(
                    f"DELETE FROM vec WHERE key IN ({','.join('?' * len(chunk))})", chunk
                )
                n += max(cur.rowcount, 0)
        if n:  # and empty the write-ahead log, which may still hold the old pages
            with contextlib.suppress(sqlite3.OperationalError):
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return n
    finally:
        con.close()


def forget_text_embeddings(
    store: Any, user_id: str, encoder: Any = None, cache_dirs: Iterable[str | Path] = ()
) -> dict[str, int]:
    """Remove the cached embeddings of the texts ``user_id`` wrote (``store.texts`` rows;
    call it before the store drops them). Texts another user of the store also wrote are kept.

    Returns ``{"cached_embeddings": rows deleted, "cached_embeddings_kept_shared": texts kept}``.
    """
    texts = store.texts
    uid = str(user_id)
    mine = texts.loc[texts["user_id"].astype(str) == uid, "text"].dropna().astype(str)
    if mine.empty:
        return {"cached_embeddings": 0, "cached_embeddings_kept_shared": 0}
    others = texts.loc[texts["user_id"].astype(str) != uid, "text"].dropna().astype(str)
    own = set(mine) - set(others)
    n = purge_cached_texts(own, _cache_dirs(encoder, cache_dirs))
    _log.info("forget: removed %d cached text embeddings", n)  # counts only, no ids or text
    return {"cached_embeddings": n, "cached_embeddings_kept_shared": len(set(mine)) - len(own)}


def residual_user_state(folder: str | Path, user_id: str) -> list[str]:
    """The files of a saved model folder whose arrays or JSON still name ``user_id`` (fitted
    parts that keep per-user rows until a refit: a GCN's stored hidden states, a
    recommender's user factors); ``[]`` when none do. Reads with ``allow_pickle=False``."""
    import json

    import numpy as np

    uid = str(user_id)
    hits: list[str] = []
    root = Path(folder)
    for npz in sorted(root.glob("*.npz")):
        with np.load(npz, allow_pickle=False) as z:
            for key in z.files:
                arr = z[key]
                if arr.dtype.kind in "US" and (arr == uid).any():
                    hits.append(f"{npz.name}:{key}")
    for js in sorted(root.glob("*.json")):
        if js.name in ("model.json", "profiles.json", "privacy_ledger.json"):
            continue
        if uid in json.dumps(json.loads(js.read_text(encoding="utf-8"))):
            hits.append(js.name)
    return hits
