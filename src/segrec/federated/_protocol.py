"""Federated k-means: what a client computes and sends, what the server sums and updates.

Each round the server sends the centres; each client assigns its users (their fused feature
rows, clipped to L2 norm ``clip``) to the nearest centre and sends one vector: the per-centre
sums of its rows and ``clip`` times its per-centre counts, plus its share of Gaussian noise
(``sigma / sqrt(n_clients)`` per coordinate, so the sum carries ``sigma``), in fixed point,
masked by the pairwise masks of :mod:`._secagg`. The server adds the vectors (the masks
cancel), reads the noisy sums and counts, and moves each centre to its noisy mean; a centre
whose noisy count is under 1 stays where it was. Without noise this is exactly Lloyd's
algorithm over the union of the clients' rows.

Messages are plain dicts (ints, floats, strings, numpy arrays): :func:`wire_summary` says what
one carries, which is what the tests check crosses the process boundary.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from segrec.federated._secagg import KeyPair, decode, encode, sum_masked

__all__ = ["FederatedClient", "FederatedServer", "clip_rows", "local_vector", "wire_summary"]


def clip_rows(x: np.ndarray, bound: float) -> np.ndarray:
    """Rows of ``x`` scaled down to L2 norm at most ``bound`` (one user's influence)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x * np.minimum(1.0, bound / np.maximum(norms, 1e-12))


def local_vector(x: np.ndarray, centers: np.ndarray, clip: float) -> np.ndarray:
    """[per-centre sums (k*d), clip * per-centre counts (k)] of clipped rows ``x``."""
    k, d = centers.shape
    sums = np.zeros((k, d))
    counts = np.zeros(k)
    if len(x):
        d2 = (x * x).sum(1)[:, None] - 2.0 * x @ centers.T + (centers * centers).sum(1)[None, :]
        lab = np.argmin(d2, axis=1)
        np.add.at(sums, lab, x)
        counts = np.bincount(lab, minlength=k).astype(float)
    return np.r_[sums.ravel(), clip * counts]


class FederatedClient:
    """One client: holds its users' feature rows (computed locally) and its secret key.

    ``x`` never leaves the object: :meth:`setup` returns a public key, :meth:`round` one
    masked uint64 vector.
    """

    def __init__(
        self,
        client_id: int,
        x: np.ndarray,
        clip: float,
        n_clients: int,
        keys: KeyPair | None = None,
    ) -> None:
        self.client_id = int(client_id)
        self._x = clip_rows(x, clip)
        self.clip = float(clip)
        self.n_clients = int(n_clients)
        self._keys = keys if keys is not None else KeyPair()
        # DP noise must be secret: drawn from the OS, never from a shared seed
        self._rng = np.random.default_rng()

    @property
    def n_users(self) -> int:
        return len(self._x)

    def setup(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "public_key": self._keys.public_hex()}

    def round(self, msg: dict[str, Any]) -> dict[str, Any]:
        centers = np.asarray(msg["centers"], dtype=np.float64)
        r = int(msg["round"])
        v = local_vector(self._x, centers, self.clip)
        sigma = float(msg.get("sigma", 0.0))
        if sigma > 0:
            v = v + self._rng.normal(0.0, sigma / math.sqrt(self.n_clients), len(v))
        publics = {int(k): int(p, 16) for k, p in msg["publics"].items()}
        masked = self._keys.mask(self.client_id, publics, r, encode(v))
        return {"client_id": self.client_id, "round": r, "stats": masked}


class FederatedServer:
    """Sends centres, sums the masked replies, updates the centres; keeps a round history."""

    def __init__(
        self, init_centers: np.ndarray, rounds: int, clip: float, sigma: float = 0.0
    ) -> None:
        self.centers = np.asarray(init_centers, dtype=np.float64).copy()
        self.rounds, self.clip, self.sigma = int(rounds), float(clip), float(sigma)
        self.publics: dict[str, str] = {}
        self.history: list[dict[str, Any]] = []

    def collect_keys(self, replies: list[dict[str, Any]]) -> None:
        self.publics = {str(int(r["client_id"])): str(r["public_key"]) for r in replies}
        if len(self.publics) != len(replies):
            raise ValueError("two clients sent the same client_id")

    def round_message(self, r: int) -> dict[str, Any]:
        return {
            "round": int(r),
            "centers": self.centers.copy(),
            "sigma": self.sigma,
            "publics": dict(self.publics),
        }

    def aggregate(self, replies: list[dict[str, Any]]) -> np.ndarray:
        """Sum the masked replies of one round (all clients must answer) and move the
        centres to their noisy means; returns the new centres."""
        got = sorted(str(int(r["client_id"])) for r in replies)
        if got != sorted(self.publics):
            missing = sorted(set(self.publics) - set(got))
            raise RuntimeError(
                f"round needs every client's reply (masks cancel only in the full sum); "
                f"missing {missing[:5]}"
            )
        total = decode(sum_masked([np.asarray(r["stats"], dtype=np.uint64) for r in replies]))
        k, d = self.centers.shape
        sums = total[: k * d].reshape(k, d)
        counts = total[k * d :] / self.clip
        ok = counts >= 1.0
        new = self.centers.copy()
        new[ok] = sums[ok] / counts[ok, None]
        shift = float(np.linalg.norm(new - self.centers, axis=1).max())
        self.history.append(
            {"round": len(self.history) + 1, "max_shift": shift, "empty": int((~ok).sum())}
        )
        self.centers = new
        return new


def wire_summary(msg: dict[str, Any]) -> dict[str, list[Any]]:
    """What one message carries: key -> [python type, dtype, shape] (arrays), [type] else."""
    out: dict[str, list[Any]] = {}
    for key, v in msg.items():
        if isinstance(v, np.ndarray):
            out[key] = ["ndarray", str(v.dtype), list(v.shape)]
        else:
            out[key] = [type(v).__name__]
    return out
