"""Configuration and the shared "world" of the synthetic shop: catalogue and persona assignment.

The world is everything that every block of users shares: the item catalogue (category, tier,
price, brand, title, popularity), the per-persona item affinities and the persona of every
user (drawn up front so social ties can cross blocks). Users are then generated in fixed
blocks of :data:`BLOCK_USERS`, each with its own random stream, so the result does not depend
on how a caller chunks the work (``generate`` and ``stream_to_disk`` give the same rows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from segrec.data.synthetic._personas import ADJECTIVES, CATALOGUE, CATEGORIES, PERSONAS, TIERS
from segrec.diagnostics import UsageError

__all__ = ["BLOCK_USERS", "START", "SyntheticConfig", "World", "build_world"]

BLOCK_USERS = 10_000  # users per independent random stream
START = 1_704_067_200  # 2024-01-01T00:00:00Z
_TIER_PRICE = (0.45, 1.0, 2.6)  # price multipliers of the budget / mid / premium tiers
#: fields added after the published evaluation figures (left out of metadata at their default)
_LATER_FIELDS = ("popularity_exponent",)


class SyntheticConfig(BaseModel):
    """Knobs of the synthetic music shop. Every field can also be passed to ``generate``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: int = Field(default=2000, ge=1, description="number of users")
    seed: int = Field(default=0, ge=0, description="random seed; same seed, same dataset")
    n_items: int | None = Field(
        default=None,
        ge=24,
        description="catalogue size (default max(200, users // 5), at most 20,000)",
    )
    popularity_exponent: float = Field(
        default=0.9,
        gt=0.0,
        le=3.0,
        description="Zipf exponent of item popularity: 1 / rank**exponent (higher: longer tail)",
    )
    months: int = Field(default=6, ge=1, le=120, description="length of the interaction log")
    personas: tuple[str, ...] | None = Field(default=None, description="subset of persona names")
    drift_share: float = Field(default=0.1, ge=0.0, le=1.0, description="users who change persona")
    review_rate: float = Field(
        default=0.85, ge=0.0, le=1.0, description="share of purchases reviewed"
    )
    rating_rate: float = Field(default=0.5, ge=0.0, le=1.0, description="share of purchases rated")
    social: bool = Field(default=True, description="generate friend ties")
    mean_degree: float = Field(
        default=5.0, ge=0.0, le=200.0, description="average friends per user"
    )
    homophily: float = Field(
        default=0.8, ge=0.0, le=1.0, description="share of ties within persona"
    )
    taste_concentration: float = Field(
        default=40.0, gt=0.0, description="Dirichlet concentration of a user's category mix"
    )
    popularity_share: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="share of sessions driven by popularity, not taste",
    )
    off_persona_share: float = Field(
        default=0.12, ge=0.0, le=1.0, description="share of review phrases from another persona"
    )
    generic_share: float = Field(
        default=0.4, ge=0.0, le=1.0, description="share of review phrases from the generic bank"
    )

    light_share: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="share of light users with 1-3 visits whatever their persona (cold start)",
    )

    bot_share: float = Field(
        default=0.0, ge=0.0, le=0.5, description="share of users replaced by scripted bots"
    )
    duplicate_rate: float = Field(
        default=0.0, ge=0.0, le=0.5, description="share of interaction rows logged twice"
    )

    @field_validator("personas", mode="before")
    @classmethod
    def _known_personas(cls, v: object) -> object:
        if v is None:
            return v
        names = [v] if isinstance(v, str) else list(v)  # type: ignore[call-overload]
        names = [n.strip() for part in names for n in str(part).replace("|", ",").split(",")]
        known = [p.name for p in PERSONAS]
        bad = [n for n in names if n not in known]
        if bad or len(names) < 2:
            raise UsageError(
                f"personas={v!r}: expected at least two of {', '.join(known)}"
                + (f"; unknown: {', '.join(bad)}" if bad else "")
                + f" (e.g. personas={known[0]}|{known[1]})"
            )
        return tuple(names)

    def recorded(self) -> dict[str, object]:
        """The config as ``ds.meta["config"]`` records it: fields added after the published
        figures are left out while at their default, so an old shop's metadata is unchanged."""
        out = self.model_dump(mode="json")
        for name in _LATER_FIELDS:
            if out.get(name) == type(self).model_fields[name].default:
                del out[name]
        return out

    @property
    def item_count(self) -> int:
        return self.n_items if self.n_items is not None else min(max(200, self.users // 5), 20_000)

    @property
    def span_seconds(self) -> int:
        return int(self.months * 30.4375 * 86_400)


@dataclass(frozen=True)
class World:
    """Shared state of one synthetic shop (see the module docstring)."""

    config: SyntheticConfig
    persona_idx: np.ndarray  # index into PERSONAS per persona in use
    user_persona: np.ndarray  # int8 position in persona_idx, per user
    items: pd.DataFrame
    item_cat: np.ndarray
    item_tier: np.ndarray
    item_price: np.ndarray
    item_quality: np.ndarray
    pop_cum: np.ndarray  # cumulative global popularity (for popularity-driven sessions)
    taste_cum: np.ndarray  # stacked per (persona, category, tier) cumulative affinities
    taste_order: np.ndarray  # item index for each position of taste_cum (per persona)
    users_by_persona: tuple[np.ndarray, ...]
    is_bot: np.ndarray  # bool per user: scripted bots (truth "bot"), only with bot_share > 0

    @property
    def n_groups(self) -> int:
        return len(CATEGORIES) * len(TIERS)


def build_world(cfg: SyntheticConfig) -> World:
    """Draw the catalogue and every user's persona from the world stream of ``cfg.seed``."""
    rng = np.random.default_rng([cfg.seed, 0])
    names = cfg.personas or tuple(p.name for p in PERSONAS)
    pidx = np.array([[p.name for p in PERSONAS].index(n) for n in names])
    shares = np.array([PERSONAS[i].share for i in pidx])
    user_persona = rng.choice(len(pidx), size=cfg.users, p=shares / shares.sum()).astype(np.int8)
    items, cat, tier, price, quality, pop = _catalogue(cfg.item_count, rng, cfg.popularity_exponent)
    n_groups = len(CATEGORIES) * len(TIERS)
    group = cat * len(TIERS) + tier
    cums, orders = [], []
    for k in range(len(pidx)):
        # persona taste for particular items on top of popularity (collaborative signal)
        w = pop * rng.lognormal(0.0, 1.0, size=len(pop))
        order = np.lexsort((np.arange(len(w)), group))
        g_sorted, w_sorted = group[order], w[order]
        totals = np.bincount(g_sorted, weights=w_sorted, minlength=n_groups)
        csum = np.cumsum(w_sorted)
        start = np.concatenate([[0.0], np.cumsum(totals)])[g_sorted]
        within = (csum - start) / totals[g_sorted]
        cums.append(k * n_groups + g_sorted + np.minimum(within, 1.0))
        orders.append(order)
    pop_cum = np.cumsum(pop) / pop.sum()
    by_persona = tuple(np.flatnonzero(user_persona == k) for k in range(len(pidx)))
    # drawn last so that bot_share=0 leaves every other draw as it was
    is_bot = (
        rng.random(cfg.users) < cfg.bot_share if cfg.bot_share > 0 else np.zeros(cfg.users, bool)
    )
    return World(
        cfg,
        pidx,
        user_persona,
        items,
        cat,
        tier,
        price,
        quality,
        pop_cum,
        np.concatenate(cums),
        np.concatenate(orders),
        by_persona,
        is_bot,
    )


def _catalogue(
    n: int, rng: np.random.Generator, exponent: float = 0.9
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_groups = len(CATEGORIES) * len(TIERS)
    # every (category, tier) group gets at least one item; the rest follow category weights
    cat_w = np.array([1.4, 0.7, 1.0, 0.9, 1.0, 1.5, 0.7, 0.8])
    rest = rng.choice(len(CATEGORIES), size=n - n_groups, p=cat_w / cat_w.sum())
    cat = np.concatenate([np.arange(n_groups) // len(TIERS), rest])
    tier = np.concatenate(
        [np.arange(n_groups) % len(TIERS), rng.choice(3, size=n - n_groups, p=[0.4, 0.4, 0.2])]
    )
    base = np.array([CATALOGUE[c][2] for c in CATEGORIES])[cat]
    price = np.round(base * np.array(_TIER_PRICE)[tier] * rng.lognormal(0.0, 0.3, n), 2)
    price = np.maximum(price, 2.99)
    quality = rng.normal(0.0, 0.5, n)
    # Zipf-like popularity over a random ranking of the catalogue; with many items and a high
    # exponent most items are drawn once or twice (the long tail of a marketplace)
    rank = rng.permutation(n) + 1
    pop = 1.0 / rank**exponent
    adj = rng.integers(0, len(ADJECTIVES), n)
    nouns, brands, titles, cats, attrs = [], [], [], [], []
    noun_u, brand_u, model_no = rng.random(n), rng.random(n), rng.integers(10, 990, n)
    for i in range(n):
        cname = CATEGORIES[cat[i]]
        noun_bank, brand_bank, _ = CATALOGUE[cname]
        noun = noun_bank[int(noun_u[i] * len(noun_bank))]
        brand = brand_bank[int(brand_u[i] * len(brand_bank))]
        nouns.append(noun)
        brands.append(brand)
        titles.append(f"{brand} {ADJECTIVES[adj[i]]} {noun.title()} {model_no[i]}")
        cats.append(f"{cname}|{noun}")
        attrs.append(json.dumps({"tier": TIERS[tier[i]], "noun": noun}))
    items = pd.DataFrame(
        {
            "item_id": [f"i{i:06d}" for i in range(n)],
            "title": titles,
            "categories": cats,
            "price": price,
            "brand": brands,
            "attrs": attrs,
            "noun": nouns,
        }
    )
    return items, cat, tier, price, quality, pop
