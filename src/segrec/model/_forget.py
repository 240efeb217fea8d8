"""Forgetting a user beyond the store: cached text embeddings, published reviews, fitted rows.

The user's own rows in the fitted parts (known-user indexes, factors, train-matrix rows, text
vectors, friends, GCN hidden states) are cleared by :mod:`segrec.model._scrub`;
:func:`residual_user_state` checks a saved folder for any array or JSON that still names them.

:class:`~segrec.features.TextEmbedder` caches one vector per distinct text (keyed by the sha1 of
the text) in one SQLite file per encoder namespace under ``<cache>/embeddings/``. A vector is
not the text, but it is derived from it (nearest-neighbour search over a vocabulary recovers
much of a short text), so forgetting a user removes those rows from every namespace, whatever
encoder wrote them. A text some other known user also wrote ("great strings") is kept: its
vector is that user's data too, and it cannot be tied to the forgotten user.

The caller is :meth:`SegrecModel.forget`, before the user's texts leave the store::

    removed = {**forget_text_embeddings(self.store, uid, self.encoder), **self.store.remove(uid)}

A representative review in the published profiles is one member's text, verbatim (HTML entities
decoded, cut, PII-scrubbed): :func:`forget_reviews` takes the user's own out of
``profiles.json`` (the list is not refilled until a refit).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from segrec.features._cache import default_cache_dir, text_key
from segrec.model._scrub import Scrubbed, scrub_parts, scrub_user

__all__ = [
    "Scrubbed",
    "forget_reviews",
    "forget_text_embeddings",
    "own_texts",
    "purge_cached_texts",
    "residual_user_state",
    "scrub_parts",
    "scrub_user",
]

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
    mine, own = own_texts(store, user_id)
    if not mine:
        return {"cached_embeddings": 0, "cached_embeddings_kept_shared": 0}
    n = purge_cached_texts(own, _cache_dirs(encoder, cache_dirs))
    _log.info("forget: removed %d cached text embeddings", n)  # counts only, no ids or text
    return {"cached_embeddings": n, "cached_embeddings_kept_shared": len(mine) - len(own)}


def own_texts(store: Any, user_id: str) -> tuple[set[str], set[str]]:
    """(every distinct text ``user_id`` wrote, those no other user of ``store`` also wrote)."""
    texts = store.texts
    uid = str(user_id)
    is_mine = (texts["user_id"].astype(str) == uid).to_numpy(bool)
    mine = set(texts.loc[is_mine, "text"].dropna().astype(str))
    others = set(texts.loc[~is_mine, "text"].dropna().astype(str))
    return mine, mine - others


def forget_reviews(profiles: Any, store: Any, user_id: str) -> dict[str, int]:
    """Take the texts only ``user_id`` wrote out of the profiles' representative reviews (in
    place; a review is published decoded, cut at a word with " ..." and PII-scrubbed, so each
    is compared in that form). Returns ``{"published_reviews": reviews removed}``."""
    import html

    from segrec.data._pii import scrub_pii

    _, own = own_texts(store, user_id)
    shown = [str(t) for t in scrub_pii([html.unescape(t) for t in sorted(own)])[0]]
    n = 0
    for p in profiles.profiles if own else []:
        reviews = p.get("representative_reviews") or []
        keep = [r for r in reviews if not any(_published_as(t, str(r)) for t in shown)]
        n += len(reviews) - len(keep)
        if len(keep) < len(reviews):
            p["representative_reviews"] = keep
    return {"published_reviews": n}


def _published_as(text: str, review: str) -> bool:
    if review == text:
        return True
    cut = review.removesuffix(" ...")
    return cut != review and len(cut) > 0 and text.startswith(cut)


def residual_user_state(folder: str | Path, user_id: str) -> list[str]:
    """The ``file:array`` names and JSON files of a saved model folder that still name
    ``user_id`` (a fitted part's known-user index, say); ``[]`` when none do, as after
    :meth:`SegrecModel.forget` and a save. Reads with ``allow_pickle=False``."""
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
