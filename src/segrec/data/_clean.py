"""Cleaning steps, each reporting what it removed: duplicates, bot-like users, k-core.

>>> from segrec.data.synthetic import generate
>>> ds, report = clean(generate(users=200, seed=0), kcore=2)
>>> [s["step"] for s in report.steps]
['dedupe', 'bots', 'kcore']
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.data._dataset import Dataset

__all__ = ["BotConfig", "CleanConfig", "CleaningReport", "clean"]

_log = logging.getLogger(__name__)
_DAY = 86_400
_ID_SAMPLE = 20  # removed ids listed in a report step


class BotConfig(BaseModel):
    """Activity thresholds above which a user is treated as a bot (``None`` = no limit).

    The defaults are loose on purpose: MovieLens raters enter hundreds of ratings in one
    sitting, which is enthusiasm, not automation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_events_per_day: int | None = Field(
        default=1000, ge=1, description="peak events in one UTC day"
    )
    max_events: int | None = Field(default=50_000, ge=1, description="events over the whole log")


class CleanConfig(BaseModel):
    """Which cleaning steps run. ``kcore=k`` keeps users and items with >= k distinct partners."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dedupe: bool = True
    bots: BotConfig | None = Field(default_factory=BotConfig)
    kcore: int | None = Field(default=None, ge=1)


@dataclass
class CleaningReport:
    """One entry per step: ``step``, ``rows_removed`` per table, ``users_removed``,
    ``items_removed``, ``reason`` and step ``details`` (thresholds, sample ids)."""

    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows_removed(self) -> int:
        """Interaction rows removed by all steps together."""
        return sum(s["rows_removed"].get("interactions", 0) for s in self.steps)

    def step(self, name: str) -> dict[str, Any]:
        """The entry of step ``name`` (``dedupe``, ``bots`` or ``kcore``)."""
        for s in self.steps:
            if s["step"] == name:
                return s
        raise KeyError(f"no cleaning step '{name}'; ran {[s['step'] for s in self.steps]}")

    def as_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "rows_removed": self.rows_removed}


def clean(
    ds: Dataset, config: CleanConfig | None = None, **kwargs: Any
) -> tuple[Dataset, CleaningReport]:
    """Run the configured steps in order (dedupe, bots, k-core); returns the cleaned dataset
    (its ``meta["cleaning"]`` holds the report) and the :class:`CleaningReport`.

    Keyword arguments are :class:`CleanConfig` fields: ``clean(ds, bots=BotConfig(
    max_events_per_day=200), kcore=5)``; ``bots=None`` skips the bot step.
    """
    cfg = config.model_copy(update=kwargs) if config is not None else CleanConfig(**kwargs)
    report = CleaningReport()
    if cfg.dedupe:
        ds = _dedupe(ds, report)
    if cfg.bots is not None:
        ds = _bots(ds, cfg.bots, report)
    if cfg.kcore is not None:
        ds = _kcore(ds, cfg.kcore, report)
    for s in report.steps:
        _log.info("cleaning %s: %s", s["step"], s["reason"])
    # a shallow copy shares the (read-only) tables: rebuilding the Dataset only to attach the
    # report would cost as much as a cleaning step
    out = copy.copy(ds)
    object.__setattr__(out, "meta", {**ds.meta, "cleaning": report.as_dict()})
    return out, report


def _dedupe(ds: Dataset, report: CleaningReport) -> Dataset:
    keys = {
        "interactions": ["user_id", "item_id", "timestamp", "event"],
        "texts": ["user_id", "item_id", "text"],
        "social": ["src", "dst", "kind"],
    }
    tables, removed = {}, {}
    for name, cols in keys.items():
        df = getattr(ds, name)
        if name == "interactions":
            df = df.sort_values("seq", kind="stable")  # keep the first row in file order
        dup = df.duplicated(cols, keep="first")
        tables[name] = df[~dup].sort_index()
        removed[name] = int(dup.sum())
    report.steps.append(
        {
            "step": "dedupe",
            "rows_removed": removed,
            "users_removed": 0,
            "items_removed": 0,
            "reason": f"{removed['interactions']} exact duplicate interactions (same user, "
            f"item, timestamp, event), {removed['texts']} duplicate texts, "
            f"{removed['social']} duplicate ties",
            "details": {"keys": keys},
        }
    )
    return ds.replace(**tables) if any(removed.values()) else ds


def _bots(ds: Dataset, cfg: BotConfig, report: CleaningReport) -> Dataset:
    inter = ds.interactions
    codes = inter.user_id.cat.codes.to_numpy()
    total = np.bincount(codes, minlength=ds.n_users)
    day = inter.timestamp.to_numpy() // _DAY
    peak = np.zeros(ds.n_users, dtype=np.int64)
    if len(day):
        day = day - day.min()
        n_days = int(day.max()) + 1
        keys, counts = np.unique(codes.astype(np.int64) * n_days + day, return_counts=True)
        np.maximum.at(peak, keys // n_days, counts)  # busiest UTC day per user
    too_busy = (
        peak > cfg.max_events_per_day if cfg.max_events_per_day else np.zeros_like(peak, bool)
    )
    too_many = total > cfg.max_events if cfg.max_events else np.zeros_like(total, bool)
    bots = ds.user_ids[too_busy | too_many]
    new, removed = _drop(ds, users=set(bots))
    report.steps.append(
        {
            "step": "bots",
            "rows_removed": removed,
            "users_removed": len(bots),
            "items_removed": 0,
            "reason": f"{len(bots)} users above the activity thresholds "
            f"({int(too_busy.sum())} with > {cfg.max_events_per_day} events in one day, "
            f"{int(too_many.sum())} with > {cfg.max_events} events)",
            "details": {**cfg.model_dump(), "user_ids": list(bots[:_ID_SAMPLE])},
        }
    )
    return new


def _kcore(ds: Dataset, k: int, report: CleaningReport) -> Dataset:
    inter = ds.interactions
    n_items = max(ds.n_items, 1)
    key = inter.user_id.cat.codes.to_numpy().astype(np.int64) * n_items
    key = np.unique(key + inter.item_id.cat.codes.to_numpy())
    pairs = np.stack([key // n_items, key % n_items], axis=1)
    alive = np.ones(len(pairs), dtype=bool)
    rounds = 0
    while True:
        u_deg = np.bincount(pairs[alive, 0], minlength=ds.n_users)
        i_deg = np.bincount(pairs[alive, 1], minlength=ds.n_items)
        ok = alive & (u_deg[pairs[:, 0]] >= k) & (i_deg[pairs[:, 1]] >= k)
        rounds += 1
        if ok.sum() == alive.sum():
            break
        alive = ok
    kept_users = np.zeros(ds.n_users, bool)
    kept_items = np.zeros(ds.n_items, bool)
    kept_users[pairs[alive, 0]] = True
    kept_items[pairs[alive, 1]] = True
    users, items = set(ds.user_ids[~kept_users]), set(ds.item_ids[~kept_items])
    new, removed = _drop(ds, users=users, items=items)
    report.steps.append(
        {
            "step": "kcore",
            "rows_removed": removed,
            "users_removed": len(users),
            "items_removed": len(items),
            "reason": f"{k}-core: removed {len(users)} users and {len(items)} items with fewer "
            f"than {k} distinct partners (after {rounds} rounds)",
            "details": {"k": k, "rounds": rounds},
        }
    )
    return new


def _drop(
    ds: Dataset, users: Collection[str] = (), items: Collection[str] = ()
) -> tuple[Dataset, dict[str, int]]:
    """Remove ``users`` and ``items`` from every table (and the truth labels)."""
    if not users and not items:
        return ds, dict.fromkeys(("interactions", "texts", "users", "items", "social"), 0)
    u, it = pd.Index(list(users), dtype=object), pd.Index(list(items), dtype=object)

    def bad(s: pd.Series, ids: pd.Index) -> np.ndarray:
        return s.astype(object).isin(ids).to_numpy() if len(ids) else np.zeros(len(s), bool)

    masks = {
        "interactions": bad(ds.interactions.user_id, u) | bad(ds.interactions.item_id, it),
        "texts": bad(ds.texts.user_id, u) | bad(ds.texts.item_id, it),
        "users": bad(ds.users.user_id, u),
        "items": bad(ds.items.item_id, it),
        "social": bad(ds.social.src, u) | bad(ds.social.dst, u),
    }
    tables = {n: getattr(ds, n)[~m] for n, m in masks.items()}
    truth = ds.truth[~ds.truth.index.isin(u)] if ds.truth is not None else None
    return ds.replace(**tables, truth=truth), {n: int(m.sum()) for n, m in masks.items()}
