"""``generate``: the synthetic music shop as one in-memory :class:`~segrec.data.Dataset`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError

from segrec._progress import progress
from segrec.data._dataset import Dataset
from segrec.data.synthetic._block import generate_block
from segrec.data.synthetic._personas import PERSONAS
from segrec.data.synthetic._world import BLOCK_USERS, SyntheticConfig, World, build_world
from segrec.diagnostics import UsageError

__all__ = ["generate", "iter_blocks", "make_config", "synthetic_meta", "truth_series"]

_log = logging.getLogger(__name__)


Spelling = Literal["keyword", "spec", "flag"]


def make_config(
    config: SyntheticConfig | None = None, *, spelling: Spelling = "keyword", **kwargs: Any
) -> SyntheticConfig:
    """A config from either a :class:`SyntheticConfig` or keyword arguments (not both).

    An invalid value is one :class:`UsageError` that repeats it as the user typed it and says
    what to type instead; ``spelling`` is how they typed it: ``users=0`` (``"keyword"``, Python),
    ``synthetic:users=0`` (``"spec"``, a ``--dataset`` option) or ``--users 0`` (``"flag"``).
    """
    if config is not None and not kwargs:
        return config
    merged = {**(config.model_dump() if config is not None else {}), **kwargs}
    try:
        return SyntheticConfig(**merged)
    except ValidationError as exc:
        raise UsageError(_explain(exc, spelling)) from None


def _spell(name: str, value: Any, spelling: Spelling) -> str:
    if spelling == "flag":
        flag = {"n_items": "items"}.get(name, name)  # the CLI's names where they differ
        return f"--{flag.replace('_', '-')} {value}"
    return f"{'synthetic:' if spelling == 'spec' else ''}{name}={value}"


def _accepts(name: str) -> tuple[str, Any]:
    """What field ``name`` takes, in words, and a value to show as an example."""
    info = SyntheticConfig.model_fields[name]
    ann = str(info.annotation)
    kind = (
        "a whole number"
        if "int" in ann
        else "a number"
        if "float" in ann
        else "true or false"
        if "bool" in ann
        else "a value"
    )
    bound = {
        k: getattr(m, k) for m in info.metadata for k in ("ge", "gt", "le", "lt") if hasattr(m, k)
    }
    lo, hi = bound.get("ge", bound.get("gt")), bound.get("le", bound.get("lt"))
    if lo is not None and hi is not None:
        kind += f" from {lo:g} to {hi:g}"
    elif lo is not None:
        kind += f" above {lo:g}" if "gt" in bound else f" of {lo:g} or more"
    example = info.default if info.default is not None else lo
    if isinstance(example, bool):
        example = str(example).lower()
    return kind, example


def _explain(exc: ValidationError, spelling: Spelling) -> str:
    parts = []
    for err in exc.errors()[:3]:
        name = str(err["loc"][0]) if err.get("loc") else ""
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if name not in SyntheticConfig.model_fields:
            parts.append(msg)
            continue
        value = err.get("input")
        if err.get("type") == "value_error":  # a validator's own message says what to type
            parts.append(f"{_spell(name, value, spelling)}: {msg.partition(': ')[2] or msg}")
            continue
        kind, example = _accepts(name)
        who = _spell(name, "", spelling).rstrip("= ").removeprefix("synthetic:")
        parts.append(
            f"{_spell(name, value, spelling)}: {msg[:1].lower()}{msg[1:]}; {who} takes {kind}, "
            f"e.g. {_spell(name, example, spelling)}"
        )
    return "; ".join(parts)


def iter_blocks(world: World) -> Iterator[dict[str, pd.DataFrame]]:
    """The world's users block by block (each block has its own random stream)."""
    n_blocks = -(-world.config.users // BLOCK_USERS)
    for b in range(n_blocks):
        yield generate_block(world, b)


def generate(
    users: int | SyntheticConfig = 2000,
    seed: int = 0,
    *,
    config: SyntheticConfig | None = None,
    **kwargs: Any,
) -> Dataset:
    """Generate a believable music shop with planted personas; deterministic per ``seed``.

    Tables: ``interactions`` (view/click/cart/purchase funnel over ``months`` months; purchases
    carry ``amount`` and some a 1-5 ``rating``), ``texts`` (reviews of a share of purchases,
    written from persona phrase banks mixed with generic and off-persona phrases), ``items``
    (category, price tier, brand, title), ``users`` (``age_band``, ``region``, loosely tied to
    the persona) and ``social`` (undirected ``friend`` ties, each pair written once with
    ``src < dst``; most ties join users of the same persona).

    ``ds.truth`` is the persona of every user. For the ``drift_share`` of users who change
    persona part-way, it is the persona they start with (the one that shapes most of a
    training period); ``ds.meta["drift"]`` lists them with the persona they switch to and
    when.

    Pass either a :class:`SyntheticConfig` (``generate(cfg)`` or ``config=cfg``) or its fields
    as keywords: ``n_items``, ``popularity_exponent`` (Zipf exponent of item popularity, 0.9;
    ``n_items=100_000, popularity_exponent=1.2`` gives a marketplace's long tail), ``months``, ``personas``, ``drift_share``, ``review_rate``,
    ``rating_rate``, ``social``, ``mean_degree``, ``homophily``, ``taste_concentration``,
    ``popularity_share``, ``off_persona_share``, ``generic_share``, ``light_share`` (users with
    1-3 visits whatever their persona: the cold-start population), and the data-quality
    knobs ``bot_share`` (users replaced by scripted bursts of 1,500-4,000 views in a few
    hours, truth ``"bot"``) and ``duplicate_rate`` (rows logged twice), both 0 by default and
    there to exercise :func:`segrec.data.clean`. Invalid values raise
    :class:`~segrec.diagnostics.UsageError` naming the field.

    >>> ds = generate(users=300, seed=1)
    >>> ds.truth.nunique() >= 6
    True
    """
    if isinstance(users, SyntheticConfig):
        if config is not None:
            raise UsageError("generate: pass the SyntheticConfig once (positionally or config=)")
        config, users = users, 2000
    if config is None:
        cfg = make_config(users=users, seed=seed, **kwargs)
    else:  # users / seed given next to a config override it, like any other keyword
        over: dict[str, Any] = {"users": users} if users != 2000 else {}
        over |= {"seed": seed} if seed != 0 else {}
        cfg = make_config(config, **over, **kwargs)
    world = build_world(cfg)
    tables: dict[str, list[pd.DataFrame]] = {}
    with progress("synthetic users", cfg.users, "users") as bar:
        for blk in iter_blocks(world):
            for name, df in blk.items():
                tables.setdefault(name, []).append(df)
            bar.update(len(blk["users"]))
    cat = {n: pd.concat(v, ignore_index=True) for n, v in tables.items()}
    social = cat["social"].drop_duplicates(["src", "dst"], ignore_index=True)
    ds = Dataset(
        interactions=cat["interactions"],
        texts=cat["texts"],
        items=world.items.drop(columns="noun"),
        users=cat["users"],
        social=social,
        truth=truth_series(world),
        name="synthetic",
        meta=synthetic_meta(cfg, cat["drift"]),
    )
    _log.info("generated %s", ds.summary())
    return ds


def truth_series(world: World, lo: int = 0, hi: int | None = None) -> pd.Series:
    """Persona name per user (users ``lo`` to ``hi``) as a Series indexed by user_id."""
    from segrec.data.synthetic._block import user_id

    hi = world.config.users if hi is None else hi
    names = np.array([PERSONAS[i].name for i in world.persona_idx], dtype=object)
    labels = np.where(world.is_bot[lo:hi], "bot", names[world.user_persona[lo:hi]])
    return pd.Series(
        labels.astype(object),
        index=pd.Index(user_id(np.arange(lo, hi)), name="user_id", dtype=object),
        name="truth",
    )


def synthetic_meta(cfg: SyntheticConfig, drift: pd.DataFrame) -> dict[str, Any]:
    """``ds.meta`` of a synthetic shop: config, persona names and the drifting users."""
    return {
        "generator": "segrec.data.synthetic",
        "config": cfg.recorded(),
        "personas": sorted({p for p in (cfg.personas or [p.name for p in PERSONAS])}),
        "rating_scale": [1, 5],  # generic:FOLDER checks ratings against it on the way back
        "truth": "persona each user starts with (drifting users: see 'drift')",
        "drift": {
            u: {"from": a, "to": b, "at": int(t)}
            for u, a, b, t in drift.itertuples(index=False, name=None)
        },
    }
