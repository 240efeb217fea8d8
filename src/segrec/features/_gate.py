"""The accuracy gate: a fast backend is used only if it matches fp32 on texts like the user's.

Two checks, both on the mean *and* the minimum cosine to fp32:

* when a backend is prepared (``segrec models prepare``, or on first use), on
  :func:`gate_sample` (varied review-like texts, some past the max tokens) plus
  :func:`stress_texts` (one-word summaries, emoji, other scripts, PII placeholders);
* on every run that embeds new texts, on :func:`user_sample` of the user's own texts (the
  longest, the shortest and a seeded random draw), so a corpus unlike the fixed sample cannot
  slip through. For ``onnx-int8`` the fp32 side is the prepared fp32 ONNX graph (checked
  against torch when prepared), so this costs no torch import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["accuracy_gate", "gate_sample", "stress_texts", "user_sample"]

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


def stress_texts() -> list[str]:
    """Short and unusual texts of the kinds int8 got worst on (one-word review summaries,
    emoji, other scripts, PII placeholders, repeated characters)."""
    return [
        "WOW!",
        "Thank You",
        "Perfect.",
        "Excellent",
        "OK at best",
        "GREAT!!!!",
        "goooooooooooooooooooooooood",
        "5 stars",
        "10/10",
        "?",
        "",
        "[URL]",
        "Contact me at [EMAIL] or [PHONE], see [URL]",
        "\U0001f3b8\U0001f3b8\U0001f3b8\U0001f3b8",
        "Love it \U0001f60d\U0001f525 best strings ever!!! \U0001f44d",
        "\u041e\u0442\u043b\u0438\u0447\u043d\u044b\u0435 \u0441\u0442\u0440\u0443\u043d\u044b",
        "\u975e\u5e38\u597d\u7684\u5409\u4ed6\u5f26",
        "Model 099-0502-000 rev B, 12V DC 500mA, 3.5mm TRS, $19.99",
    ]


def user_sample(texts: list[str], n: int = 16, random_state: int = 0) -> list[int]:
    """Positions of up to ``n`` of ``texts`` for the gate: the longest eighth and the shortest
    eighth by characters (truncation and very short texts are where int8 errs most) and a
    seeded random draw of the rest (an eighth of long texts: each costs up to max tokens)."""
    if len(texts) <= n:
        return list(range(len(texts)))
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    order = np.argsort(lengths, kind="stable")
    k = max(1, n // 8)
    picked = dict.fromkeys([*order[-k:].tolist(), *order[:k].tolist()])
    rest = np.setdiff1d(np.arange(len(texts)), np.fromiter(picked, dtype=np.int64))
    rng = np.random.default_rng(random_state)
    picked.update(dict.fromkeys(rng.choice(rest, n - len(picked), replace=False).tolist()))
    return sorted(picked)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)
    b = b / np.clip(np.linalg.norm(b, axis=1, keepdims=True), 1e-12, None)
    return np.asarray((a * b).sum(1))


def accuracy_gate(
    fast: Any,
    ref: Any,
    random_state: int = 0,
    n: int = 64,
    texts: list[str] | None = None,
    sample: str = "fixed",
) -> dict[str, Any]:
    """Mean and minimum cosine between ``fast`` and fp32 ``ref`` vectors on ``texts``
    (default: :func:`gate_sample` plus :func:`stress_texts`). ``ref`` may be the same
    ONNX backend: then its fp32 graph is the reference. No text is recorded, only lengths."""
    if texts is None:
        texts = gate_sample(n, random_state) + stress_texts()
    prepared = fast.prepare(texts)
    # length-sorted batches of 8: one padded 32 x 256 batch cost 3x the tokens it held
    order = np.argsort(-prepared.lengths, kind="stable")
    chunks = [order[i : i + 8] for i in range(0, len(order), 8)]

    def run(embed: Any, prep: Any) -> np.ndarray:
        out = np.zeros((len(texts), fast.dim), dtype=np.float32)
        for c in chunks:
            out[c] = embed(prep, c)
        return out

    if ref is fast:  # the fp32 graph of the same ONNX backend, run beside the int8 one
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as ex:
            fa = ex.submit(run, fast.embed, prepared)
            fb = ex.submit(run, lambda p, c: fast.embed(p, c, precision="fp32"), prepared)
            a, b = fa.result(), fb.result()
    else:
        a, b = run(fast.embed, prepared), run(ref.embed, ref.prepare(texts))
    cos = _cosines(a, b)
    worst = int(np.argmin(cos))
    return {
        "backend": fast.name,
        "reference": "fp32",
        "sample": sample,
        "n": len(texts),
        "mean_cos": float(cos.mean()),
        "min_cos": float(cos.min()),
        "worst_tokens": int(prepared.lengths[worst]),
    }
