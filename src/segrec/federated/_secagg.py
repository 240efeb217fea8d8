"""Secure aggregation by pairwise masks that cancel in the sum (Bonawitz et al. 2017, without
the dropout recovery).

Each client draws a Diffie-Hellman key pair (RFC 3526 group 14, 2048-bit MODP) and sends only
its public key; the server forwards all public keys. Every pair of clients (i, j) derives the
same secret seed, which the server cannot: ``sha256(g^(a_i a_j) mod p)``. A client encodes its
vector in fixed point as unsigned 64-bit integers and adds ``+mask_ij`` for every j > i and
``-mask_ij`` for every j < i, all modulo 2^64, the masks drawn from SHAKE-256 of the seed and
the round. One masked vector is uniform noise to the server; the masks cancel exactly in the
sum over all clients, so the server learns the sum and nothing else. If a client drops out
mid-round its masks do not cancel and the round fails (Flower's SecAgg+ adds recovery by
secret sharing; this protocol keeps the simpler form).
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np

__all__ = ["FIXED_BITS", "KeyPair", "decode", "encode", "pair_mask", "sum_masked"]

#: RFC 3526 group 14 (2048-bit MODP) prime; generator 2
_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)
_G = 2
#: fractional bits of the fixed-point encoding (values up to about 2^39 in magnitude)
FIXED_BITS = 24


class KeyPair:
    """A client's Diffie-Hellman key pair; the secret never leaves the object."""

    def __init__(self, secret: int | None = None) -> None:
        # ``secret``: restore a client's own key (kept in its node's state between rounds)
        self._secret = secret if secret is not None else secrets.randbits(256) | 1
        self.public = pow(_G, self._secret, _P)
        self._seeds: dict[int, bytes] = {}

    def public_hex(self) -> str:
        return format(self.public, "x")

    def secret_hex(self) -> str:
        """For the client's own node-local state only; never put it in a message."""
        return format(self._secret, "x")

    def seed_with(self, other: int, other_public: int) -> bytes:
        """The secret seed shared with client ``other`` (cached)."""
        if other not in self._seeds:
            if not 1 < other_public < _P - 1:
                raise ValueError(f"client {other}: public key out of range")
            shared = pow(other_public, self._secret, _P)
            self._seeds[other] = hashlib.sha256(shared.to_bytes(256, "big")).digest()
        return self._seeds[other]

    def mask(self, me: int, publics: dict[int, int], round_: int, values: np.ndarray) -> np.ndarray:
        """``values`` (uint64) plus this client's share of the pairwise masks, modulo 2^64."""
        out = np.asarray(values, dtype=np.uint64).copy()
        for j, pub in sorted(publics.items()):
            if j == me:
                continue
            m = pair_mask(self.seed_with(j, pub), round_, len(out))
            if me < j:
                out += m  # uint64 arithmetic wraps: addition modulo 2^64
            else:
                out -= m
        return out


def pair_mask(seed: bytes, round_: int, size: int) -> np.ndarray:
    """A uniform uint64 vector from SHAKE-256 of the pair's seed and the round."""
    stream = hashlib.shake_256(seed + round_.to_bytes(8, "big")).digest(8 * size)
    return np.frombuffer(stream, dtype="<u8").astype(np.uint64)


def encode(values: np.ndarray) -> np.ndarray:
    """Fixed point: round(v * 2^FIXED_BITS) as two's-complement uint64."""
    scaled = np.round(np.asarray(values, dtype=np.float64) * float(1 << FIXED_BITS))
    return scaled.astype(np.int64).view(np.uint64)


def decode(total: np.ndarray) -> np.ndarray:
    """The float vector of a sum of :func:`encode`-d vectors (read back as signed)."""
    return np.asarray(total, dtype=np.uint64).view(np.int64).astype(np.float64) / float(
        1 << FIXED_BITS
    )


def sum_masked(vectors: list[np.ndarray]) -> np.ndarray:
    """The sum modulo 2^64 of the clients' masked vectors: the masks cancel here."""
    total = np.zeros(len(vectors[0]), dtype=np.uint64)
    for v in vectors:
        total += np.asarray(v, dtype=np.uint64)
    return total
