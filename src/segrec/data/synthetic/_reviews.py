"""Review texts written from the persona phrase banks, with noise."""

from __future__ import annotations

import numpy as np

from segrec.data.synthetic._personas import GENERIC_PHRASES, PERSONAS, SENTIMENT_PHRASES
from segrec.data.synthetic._world import World

__all__ = ["write_reviews"]

_FILLERS = ("honestly", "tbh", "overall", "btw", "imo", "anyway", "so", "well", "ok", "lol")


def write_reviews(
    world: World,
    rng: np.random.Generator,
    persona: np.ndarray,
    stars: np.ndarray,
    items: np.ndarray,
) -> list[str]:
    """One review per purchase: persona phrases mixed with generic and off-persona ones,
    a sentiment sentence matching ``stars``, item nouns and chatty noise words (15-60 words).
    """
    cfg = world.config
    personas = [PERSONAS[i] for i in world.persona_idx]
    nouns = world.items["noun"].to_numpy()
    brands = world.items["brand"].to_numpy()
    n = len(persona)
    n_frag = rng.integers(2, 5, n)
    u_src, u_pick = rng.random((n, 4)), rng.random((n, 4))
    other = rng.integers(0, len(personas), (n, 4))
    u_sent, u_pos, u_fill = rng.random(n), rng.random(n), rng.random((n, 3))
    out: list[str] = []
    off, gen = cfg.off_persona_share, cfg.off_persona_share + cfg.generic_share
    for r in range(n):
        sents = []
        for j in range(n_frag[r]):
            if u_src[r, j] < off:
                bank = personas[other[r, j]].phrases
            elif u_src[r, j] < gen:
                bank = GENERIC_PHRASES
            else:
                bank = personas[persona[r]].phrases
            k = int(u_pick[r, j] * len(bank))
            while bank[k] in sents:  # people rarely repeat a sentence in one review
                k = (k + 1) % len(bank)
            sents.append(bank[k])
        s = stars[r]
        sbank = SENTIMENT_PHRASES["neg" if s <= 2 else "mid" if s == 3 else "pos"]
        sents.insert(int(u_pos[r] * (len(sents) + 1)), sbank[int(u_sent[r] * len(sbank))])
        if u_fill[r, 0] < 0.3:  # chatty noise words
            head = sents[0]
            filler = _FILLERS[int(u_fill[r, 1] * len(_FILLERS))].capitalize()
            sents[0] = f"{filler}, {head[0].lower()}{head[1:]}"
        text = " ".join(sents).format(noun=nouns[items[r]], brand=brands[items[r]])
        words = text.split()
        while len(words) < 15:
            words += (
                GENERIC_PHRASES[int(u_fill[r, 2] * len(GENERIC_PHRASES))]
                .format(noun=nouns[items[r]], brand=brands[items[r]])
                .split()
            )
        out.append(" ".join(words[:60]))
    return out
