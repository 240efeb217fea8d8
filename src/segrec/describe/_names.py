"""Deterministic human names for segments, from keywords and behaviour.

``"Budget guitar regulars"``: a price adjective, the segment's most distinctive topic and a
behaviour noun from its RFM profile relative to the whole population. Same inputs, same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from segrec.data import SHOP, Wording

__all__ = ["behaviour_noun", "deterministic_name", "unique_names"]

_PRICE_WORD = {"budget": "Budget", "mid": "Mid-range", "premium": "Premium"}


def behaviour_noun(
    rfm: Mapping[str, float], population: Mapping[str, float], words: Wording = SHOP
) -> str:
    """A noun for how a segment acts, relative to the population medians, in the dataset's
    ``words`` ("lapsed buyers" in a shop, "lapsed taggers" on Last.fm tag events)."""
    f = rfm.get("frequency", float("nan"))
    r = rfm.get("recency_days", float("nan"))
    m = rfm.get("monetary", float("nan"))
    pf, pr, pm = (
        population.get(k, float("nan")) for k in ("frequency", "recency_days", "monetary")
    )
    if r == r and pr == pr and r > 1.5 * pr:
        return f"lapsed {words.actor}s"
    if m == m and pm == pm and pm > 0 and m > 1.6 * pm:
        return "big spenders"
    if f == f and pf == pf and f > 1.3 * pf:
        return "regulars"
    if f == f and pf == pf and f < 0.75 * pf:
        return f"occasional {words.actor}s"
    return words.people


def deterministic_name(
    keywords: list[str],
    price_tier: str | None,
    rfm: Mapping[str, float],
    population: Mapping[str, float],
    top_category: str | None = None,
    vocabulary: set[str] | None = None,
    category_lift: float = 0.0,
    words: Wording = SHOP,
    signature: str | None = None,
) -> str:
    """``<Price> <topic> <behaviour>``.

    The topic is the top category when the segment buys it at least 3x as often as everyone
    (``category_lift``), else the first keyword that names a product (appears in item
    titles/categories, ``vocabulary``), else the first keyword, else the top category, else
    the ``signature`` item that sets the segment apart (data without text or categories:
    "Star Wars (1977) regulars"), else "general".
    """
    product = [k for k in keywords if vocabulary and all(w in vocabulary for w in k.split())]
    topic = (product or keywords or [top_category or signature or "general"])[0]
    if top_category and category_lift >= 3.0:  # a clearly over-bought category says more
        topic = top_category
    parts = [_PRICE_WORD[price_tier]] if price_tier in _PRICE_WORD else []
    parts += [topic, behaviour_noun(rfm, population, words)]
    name = " ".join(parts)
    return name[0].upper() + name[1:]


def unique_names(profiles: list[dict[str, Any]]) -> None:
    """Make names unique in place: each duplicate gets its next keyword that no other segment
    of the same name has already taken, else the item that sets it apart
    (``signature_item``), and the segment id only when both run out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in profiles:
        groups.setdefault(p["name"], []).append(p)
    for name, group in groups.items():
        if len(group) < 2:
            continue
        taken: set[str] = set()
        for p in group:
            extra = [k for k in p.get("keywords", []) if k not in taken and k not in name.lower()]
            extra += [
                k for k in [p.get("signature_item")] if k and k not in taken and k not in name
            ]
            if extra:
                taken.add(extra[0])
                p["name"] = f"{name} ({extra[0]})"
            else:
                p["name"] = f"{name} #{p['segment_id']}"
