"""The accuracy gate: a fast backend is used only if it matches fp32 on a sample of texts."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["accuracy_gate", "gate_sample"]

_SUBJECTS = [
    "these guitar strings",
    "the tuner",
    "this cable",
    "the delay pedal",
    "my new amp",
    "the microphone stand",
    "this capo",
    "the keyboard bench",
    "the strap",
    "these drumsticks",
    "the novel",
    "this blender",
    "the hiking boots",
    "the headphones",
    "this coffee grinder",
]
_OPINIONS = [
    "sound warm and bright and stay in tune for weeks",
    "broke after two months of light use, very disappointed",
    "is cheap but does exactly what it promises",
    "arrived late and the box was damaged, the seller never answered",
    "is solid, well built and worth every penny",
    "has a noisy hum that I could not get rid of",
    "is easy to set up, even for a beginner like me",
    "feels flimsy; the plastic parts crack if you are not careful",
]
_EXTRAS = [
    "I play in a small band every weekend.",
    "Would buy again.",
    "Returned it.",
    "My teacher recommended it.",
    "The price went up since I bought it.",
    "Shipping was fast.",
    "It replaced an older model that lasted ten years.",
    "Not great, not terrible.",
    "Five stars from me!",
    "Compared with the brand-name one, "
    "it is almost as good for half the money and I honestly cannot hear a difference live.",
]


def gate_sample(n: int = 64, random_state: int = 0) -> list[str]:
    """``n`` varied review-like texts (short to long) used by the accuracy gate."""
    rng = np.random.default_rng(random_state)
    out = []
    for i in range(n):
        s = f"{_SUBJECTS[rng.integers(len(_SUBJECTS))]} {_OPINIONS[rng.integers(len(_OPINIONS))]}."
        s = s[0].upper() + s[1:]
        extra = rng.choice(_EXTRAS, size=int(rng.integers(0, 6)), replace=True).tolist()
        if i % 16 == 0:  # a few texts past the usual max tokens
            extra = extra + _EXTRAS * 6
        out.append(" ".join([s, *extra]))
    return out


def accuracy_gate(fast: Any, ref: Any, random_state: int = 0, n: int = 64) -> dict[str, Any]:
    """Cosine between ``fast`` and fp32 ``ref`` vectors on :func:`gate_sample` texts."""
    texts = gate_sample(n, random_state)
    idx = np.arange(len(texts))
    a = fast.embed(fast.prepare(texts), idx)
    b = ref.embed(ref.prepare(texts), idx)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    cos = (a * b).sum(1)
    return {
        "backend": fast.name,
        "reference": "fp32",
        "n": len(texts),
        "mean_cos": float(cos.mean()),
        "min_cos": float(cos.min()),
    }
