"""One block of synthetic users: profiles, sessions, funnel events, ratings, reviews, ties."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segrec.data.synthetic._personas import (
    AGE_BANDS,
    PERSONAS,
    REGIONS,
    TIERS,
)
from segrec.data.synthetic._reviews import write_reviews
from segrec.data.synthetic._world import BLOCK_USERS, START, World

__all__ = ["generate_block", "user_id"]

_EVENTS = ("view", "click", "cart", "purchase")
_WEIGHTS = np.array([0.5, 1.0, 2.0, 4.0])
_DAY = 86_400


def user_id(i: np.ndarray | int) -> np.ndarray:
    """String id of user index ``i`` (zero-padded so sorting keeps index order)."""
    return np.char.add("u", np.char.zfill(np.asarray(i).astype(str), 7))


def generate_block(world: World, block: int) -> dict[str, pd.DataFrame]:
    """Tables (plain string ids) for users ``block * BLOCK_USERS`` ... of ``world``."""
    cfg = world.config
    rng = np.random.default_rng([cfg.seed, 1, block])
    lo, hi = block * BLOCK_USERS, min((block + 1) * BLOCK_USERS, cfg.users)
    uidx = np.arange(lo, hi)
    n = len(uidx)
    p1 = world.user_persona[lo:hi].astype(np.int64)
    n_p = len(world.persona_idx)
    personas = [PERSONAS[i] for i in world.persona_idx]

    # -- persona drift: a share of users switch to another persona part-way ------------------
    drift = rng.random(n) < cfg.drift_share
    p2 = np.where(drift, (p1 + rng.integers(1, n_p, n)) % n_p, p1)

    sess = _sessions(world, rng, p1, p2, drift)
    ev_sess, ev_type, ev_ts = _funnel(world, rng, sess)
    ev_item = sess["item"][ev_sess]
    purch, pp, reviewed, stars, rating, amount = _purchases(world, rng, ev_sess, ev_type, sess)

    users = user_id(uidx)
    ev_user = users[sess["user"][ev_sess]]
    inter = pd.DataFrame(
        {
            "user_id": ev_user,
            "item_id": world.items.item_id.to_numpy()[ev_item],
            "timestamp": ev_ts,
            "event": np.array(_EVENTS, dtype=object)[ev_type],
            "rating": rating,
            "weight": _WEIGHTS[ev_type],
            "amount": amount,
        }
    )
    r_rows = purch[reviewed]
    texts = pd.DataFrame(
        {
            "user_id": ev_user[r_rows],
            "item_id": inter.item_id.to_numpy()[r_rows],
            "timestamp": ev_ts[r_rows] + rng.integers(_DAY, 14 * _DAY, len(r_rows)),
            "text": write_reviews(world, rng, pp[reviewed], stars[reviewed], ev_item[r_rows]),
            "kind": "review",
        }
    )
    bot = world.is_bot[lo:hi]
    if bot.any():
        inter, texts = _with_bots(world, block, users, bot, inter, texts)
    if cfg.duplicate_rate > 0:  # double logging: a row repeated right after itself
        dup_rng = np.random.default_rng([cfg.seed, 3, block])
        twice = dup_rng.random(len(inter)) < cfg.duplicate_rate
        inter = inter.iloc[np.repeat(np.arange(len(inter)), 1 + twice)].reset_index(drop=True)
    drift &= ~bot
    return {
        "interactions": inter,
        "texts": texts,
        "users": _profiles(rng, users, p1, personas),
        "social": _ties(world, rng, uidx, p1) if cfg.social else _empty_social(),
        "drift": pd.DataFrame(
            {
                "user_id": users[drift],
                "persona_before": [personas[k].name for k in p1[drift]],
                "persona_after": [personas[k].name for k in p2[drift]],
                "switch_timestamp": START
                + (sess["switch"][drift] * cfg.span_seconds).astype(np.int64),
            }
        ),
    }


def _sessions(
    world: World, rng: np.random.Generator, p1: np.ndarray, p2: np.ndarray, drift: np.ndarray
) -> dict[str, np.ndarray]:
    """Browsing sessions: when (activity windows), who (persona at the time), which item."""
    cfg, n = world.config, len(p1)
    personas = [PERSONAS[i] for i in world.persona_idx]
    # activity windows: early-only, late-arriving and long-lived users
    w_start = rng.beta(0.9, 1.3, n) * 0.95
    w_len = (1.0 - w_start) * rng.uniform(0.08, 1.0, n)
    switch = w_start + w_len * rng.uniform(0.3, 0.7, n)
    median = np.array([p.sessions_median for p in personas])[p1]
    # regular users visit at least 3 times; the light share below is the cold-start population
    n_sess = np.clip(np.ceil(rng.lognormal(np.log(median), 0.7)), 3, 400).astype(np.int64)
    # a light-user share with 1-3 visits whatever their persona: the cold-start population
    light = rng.random(n) < cfg.light_share
    n_sess[light] = rng.integers(1, 4, int(light.sum()))
    # user-level tastes, one per persona they live through
    mix = np.array([p.category_mix for p in personas])
    tier_pref = np.array([p.tier_pref for p in personas])
    cat_pref = [_dirichlet(rng, cfg.taste_concentration * mix[p] + 0.05) for p in (p1, p2)]
    tier_u = [_dirichlet(rng, 8.0 * tier_pref[p] + 0.05) for p in (p1, p2)]
    s_user = np.repeat(np.arange(n), n_sess)
    s_frac = w_start[s_user] + w_len[s_user] * rng.random(len(s_user))
    order = np.lexsort((s_frac, s_user))
    s_user, s_frac = s_user[order], s_frac[order]
    late = drift[s_user] & (s_frac >= switch[s_user])
    s_persona = np.where(late, p2[s_user], p1[s_user])
    cat = np.where(late, _pick(rng, cat_pref[1][s_user]), _pick(rng, cat_pref[0][s_user]))
    tier = np.where(late, _pick(rng, tier_u[1][s_user]), _pick(rng, tier_u[0][s_user]))
    # taste: persona-specific item affinity inside the chosen (category, tier) group
    g = s_persona * world.n_groups + cat * len(TIERS) + tier
    pos = np.searchsorted(world.taste_cum, g + rng.random(len(g)) * 0.999999, side="right")
    item = world.taste_order[np.minimum(pos, len(world.taste_order) - 1)]
    by_pop = rng.random(len(item)) < cfg.popularity_share
    item[by_pop] = np.searchsorted(world.pop_cum, rng.random(int(by_pop.sum())), side="right")
    item = np.minimum(item, len(world.item_price) - 1)
    return {
        "user": s_user,
        "persona": s_persona,
        "item": item,
        "ts": START + (s_frac * cfg.span_seconds).astype(np.int64),
        # price sensitivity: how much the user likes the item's tier (~1 on average)
        "tier_fit": tier_u[0][s_user, world.item_tier[item]] * 3,
        "switch": switch,
    }


def _funnel(
    world: World, rng: np.random.Generator, sess: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """view -> click -> cart -> purchase per session: (session, event code, timestamp) rows."""
    personas = [PERSONAS[i] for i in world.persona_idx]
    item = sess["item"]
    conv = np.array([p.conversion for p in personas])[sess["persona"]]
    clicked = rng.random(len(item)) < 0.55
    carted = clicked & (rng.random(len(item)) < np.clip(0.35 * sess["tier_fit"], 0.05, 0.9))
    bought = carted & (rng.random(len(item)) < np.clip(0.6 * conv, 0.05, 0.95))
    offs = np.cumsum(rng.integers(5, 900, (len(item), 4)), axis=1)
    offs[:, 0] = 0
    parts = []
    for e, mask in enumerate((np.ones(len(item), bool), clicked, carted, bought)):
        idx = np.flatnonzero(mask)
        parts.append((idx, np.full(len(idx), e), sess["ts"][idx] + offs[idx, e]))
    ev_sess = np.concatenate([p[0] for p in parts])
    ev_type = np.concatenate([p[1] for p in parts])
    ev_ts = np.concatenate([p[2] for p in parts])
    o = np.lexsort((ev_type, ev_sess))
    return ev_sess[o], ev_type[o], ev_ts[o]


def _purchases(
    world: World,
    rng: np.random.Generator,
    ev_sess: np.ndarray,
    ev_type: np.ndarray,
    sess: dict[str, np.ndarray],
) -> tuple[np.ndarray, ...]:
    """Which purchases are reviewed and rated, their stars, and the rating/amount columns."""
    cfg = world.config
    personas = [PERSONAS[i] for i in world.persona_idx]
    ev_item = sess["item"][ev_sess]
    purch = np.flatnonzero(ev_type == 3)
    pp = sess["persona"][ev_sess[purch]]
    rev_p = np.clip(cfg.review_rate * np.array([p.review_propensity for p in personas])[pp], 0, 1)
    reviewed = rng.random(len(purch)) < rev_p
    rated = reviewed | (rng.random(len(purch)) < cfg.rating_rate)
    stars = _pick(rng, np.array([p.ratings for p in personas])[pp]) + 1
    # item quality nudges some ratings up or down
    shift = np.where(rng.random(len(purch)) < 0.35, np.sign(world.item_quality[ev_item[purch]]), 0)
    stars = np.clip(stars + shift, 1, 5)
    rating = np.full(len(ev_type), np.nan)
    rating[purch[rated]] = stars[rated]
    amount = np.full(len(ev_type), np.nan)
    amount[purch] = world.item_price[ev_item[purch]]
    return purch, pp, reviewed, stars, rating, amount


def _with_bots(
    world: World,
    block: int,
    users: np.ndarray,
    bot: np.ndarray,
    inter: pd.DataFrame,
    texts: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replace the activity of bot users by one scripted burst of views and clicks each."""
    rng = np.random.default_rng([world.config.seed, 2, block])
    bots = users[bot]
    n_ev = rng.integers(1500, 4000, len(bots))
    day = START + rng.integers(0, world.config.span_seconds // _DAY, len(bots)) * _DAY
    who = np.repeat(np.arange(len(bots)), n_ev)
    ts = day[who] + rng.integers(0, 6 * 3600, len(who))
    ev = (rng.random(len(who)) < 0.2).astype(np.int64)  # 0 = view, 1 = click
    rows = pd.DataFrame(
        {
            "user_id": bots[who],
            "item_id": world.items.item_id.to_numpy()[rng.integers(0, len(world.items), len(who))],
            "timestamp": ts,
            "event": np.array(_EVENTS, dtype=object)[ev],
            "rating": np.nan,
            "weight": _WEIGHTS[ev],
            "amount": np.nan,
        }
    ).sort_values(["user_id", "timestamp"], kind="stable")
    keep = ~inter.user_id.isin(bots)
    inter = pd.concat([inter[keep], rows]).sort_values("user_id", kind="stable")
    return inter.reset_index(drop=True), texts[~texts.user_id.isin(bots)].reset_index(drop=True)


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    g = rng.gamma(alpha)
    return g / g.sum(axis=1, keepdims=True)


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _profiles(
    rng: np.random.Generator, users: np.ndarray, p1: np.ndarray, personas: list
) -> pd.DataFrame:
    # demographics follow the persona 60% of the time: a weak segmentation signal
    n = len(users)
    age_p = np.array([p.age_pref for p in personas])[p1]
    reg_p = np.array([p.region_pref for p in personas])[p1]
    age = np.where(rng.random(n) < 0.6, _pick(rng, age_p), rng.integers(0, len(AGE_BANDS), n))
    reg = np.where(rng.random(n) < 0.6, _pick(rng, reg_p), rng.integers(0, len(REGIONS), n))
    return pd.DataFrame(
        {
            "user_id": users,
            "age_band": np.array(AGE_BANDS, dtype=object)[age],
            "region": np.array(REGIONS, dtype=object)[reg],
        }
    )


def _ties(world: World, rng: np.random.Generator, uidx: np.ndarray, p1: np.ndarray) -> pd.DataFrame:
    cfg = world.config
    n_total = cfg.users
    k = rng.poisson(cfg.mean_degree / 2.0, len(uidx))
    src = np.repeat(uidx, k)
    src_p = np.repeat(p1, k)
    same = rng.random(len(src)) < cfg.homophily
    dst = rng.integers(0, n_total, len(src))
    sizes = np.array([len(u) for u in world.users_by_persona])
    for p in np.unique(src_p[same]):
        m = same & (src_p == p)
        dst[m] = world.users_by_persona[p][rng.integers(0, sizes[p], int(m.sum()))]
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    pairs = np.unique(np.stack([a, b], axis=1)[a != b], axis=0)
    return pd.DataFrame(
        {
            "src": user_id(pairs[:, 0]) if len(pairs) else np.array([], dtype=object),
            "dst": user_id(pairs[:, 1]) if len(pairs) else np.array([], dtype=object),
            "kind": "friend",
            "weight": 1.0,
        }
    )


def _empty_social() -> pd.DataFrame:
    return pd.DataFrame({"src": [], "dst": [], "kind": [], "weight": []})
