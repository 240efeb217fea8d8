"""API keys: ``sgr_<key_id>_<secret>``, stored as the SHA-256 of the secret (a 256-bit random
value, so a fast hash is enough) and compared with :func:`hmac.compare_digest`.

Scopes are ordered: ``admin`` may do what ``write`` may, and ``write`` what ``read`` may.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from segrec.diagnostics import UsageError
from segrec.serve._db import api_keys

__all__ = [
    "KEY_UNCHECKED",
    "SCOPES",
    "ApiKey",
    "KeyCache",
    "create_key",
    "revoke_key",
    "verify_key",
]

SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    scope: str

    def allows(self, needed: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, scope: str, name: str | None = None) -> str:
    """Store a new key with ``scope`` and return it (the only time it is shown)."""
    if scope not in SCOPES:
        raise UsageError(f"scope must be one of {list(SCOPES)}; got {scope!r}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            api_keys.insert().values(
                key_id=key_id,
                secret_sha256=_digest(secret),
                scope=scope,
                name=name,
                created_at=time.time(),
            )
        )
    return f"sgr_{key_id}_{secret}"


def revoke_key(engine: Engine, key_id: str) -> bool:
    with engine.begin() as conn:
        n = conn.execute(
            api_keys.update()
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        ).rowcount
    return bool(n)


def verify_key(engine: Engine, presented: str) -> ApiKey | None:
    """The key ``presented`` stands for, or None (malformed, unknown, revoked or wrong)."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "sgr" or not parts[1] or not parts[2]:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(api_keys.c.secret_sha256, api_keys.c.scope, api_keys.c.revoked_at).where(
                api_keys.c.key_id == parts[1]
            )
        ).first()
    # compare even when the id is unknown, so timing says nothing about which ids exist
    expected = row.secret_sha256 if row is not None else "0" * 64
    ok = hmac.compare_digest(expected.encode(), _digest(parts[2]).encode())
    if row is None or not ok or row.revoked_at is not None:
        return None
    return ApiKey(parts[1], str(row.scope))


#: what :meth:`KeyCache.get` returns when it holds no fresh answer for a key
KEY_UNCHECKED = ApiKey("", "")


class KeyCache:
    """Answers of :func:`verify_key` (valid or not) for ``seconds``, per presented key.

    A request's key check read the database every time: about a third of what a cached list
    costs to serve. A key revoked (or created) elsewhere is seen within ``seconds``; 0
    turns the cache off. Keys are held as their SHA-256, never in clear; at most ``size``.
    """

    def __init__(self, seconds: float, size: int = 1024) -> None:
        self.seconds, self.size = float(seconds), size
        self._answers: OrderedDict[str, tuple[float, ApiKey | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, presented: str) -> ApiKey | None:
        if self.seconds <= 0:
            return KEY_UNCHECKED
        with self._lock:
            found = self._answers.get(_digest(presented))
        if found is None or found[0] < time.monotonic():
            return KEY_UNCHECKED
        return found[1]

    def put(self, presented: str, key: ApiKey | None) -> ApiKey | None:
        if self.seconds > 0:
            with self._lock:
                self._answers[_digest(presented)] = (time.monotonic() + self.seconds, key)
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
        return key
