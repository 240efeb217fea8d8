"""Chunked generation straight to Parquet part files (1,000,000 users in bounded memory)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from segrec._progress import progress
from segrec.data._dataset import Dataset
from segrec.data.synthetic._generate import (
    iter_blocks,
    make_config,
    synthetic_meta,
    truth_series,
)
from segrec.data.synthetic._world import BLOCK_USERS, SyntheticConfig, build_world
from segrec.diagnostics import UsageError

__all__ = ["read_streamed", "stream_to_disk"]

_log = logging.getLogger(__name__)
_TABLES = ("interactions", "texts", "users", "social", "drift")


def stream_to_disk(
    out_dir: str | Path,
    users: int = 1_000_000,
    seed: int = 0,
    *,
    chunk_users: int = 50_000,
    config: SyntheticConfig | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Generate the synthetic shop and write it as Parquet part files, chunk by chunk.

    Layout: ``out_dir/<table>/part-00000.parquet`` ... for ``interactions``, ``texts``,
    ``users``, ``social`` and ``drift``; single files ``items.parquet`` and ``truth.parquet``;
    ``meta.json`` with the config and row counts. Rows are identical to
    :func:`~segrec.data.synthetic.generate` with the same config (users come in fixed blocks
    of 10,000 with their own random streams), except that ``seq`` restarts in every part and a
    friend tie drawn from both ends in different parts appears in both (rare). Only one chunk
    is in memory at a time; ``chunk_users`` is rounded up to a multiple of 10,000.

    Returns a summary dict (rows per table, files written).
    """
    cfg = (
        make_config(config, **kwargs)
        if config is not None
        else make_config(users=users, seed=seed, **kwargs)
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(cfg)
    world.items.drop(columns="noun").to_parquet(out / "items.parquet", index=False)
    truth = truth_series(world)
    truth.reset_index().to_parquet(out / "truth.parquet", index=False)
    per_chunk = max(1, -(-chunk_users // BLOCK_USERS))
    rows = dict.fromkeys(_TABLES, 0)
    buf: dict[str, list[pd.DataFrame]] = {}
    part = 0

    def flush() -> None:
        nonlocal part
        for name, frames in buf.items():
            df = pd.concat(frames, ignore_index=True)
            if name == "interactions":
                df["seq"] = range(len(df))
            (out / name).mkdir(exist_ok=True)
            df.to_parquet(out / name / f"part-{part:05d}.parquet", index=False)
            rows[name] += len(df)
        buf.clear()
        part += 1

    with progress("synthetic users (streamed)", cfg.users, "users") as bar:
        for i, blk in enumerate(iter_blocks(world), start=1):
            for name in _TABLES:
                buf.setdefault(name, []).append(blk[name])
            bar.update(len(blk["users"]))
            if i % per_chunk == 0:
                flush()
        if buf:
            flush()
    summary = {
        "name": "synthetic",
        "config": cfg.recorded(),
        "rows": {**rows, "items": len(world.items)},
        "parts": part,
        "personas": {str(k): int(v) for k, v in truth.value_counts().items()},
        "layout": "<table>/part-NNNNN.parquet; items.parquet; truth.parquet",
    }
    (out / "meta.json").write_text(json.dumps(summary, indent=2))
    _log.info("wrote %s parts to %s: %s", part, out, summary["rows"])
    return summary


def read_streamed(directory: str | Path) -> Dataset:
    """Read a folder written by :func:`stream_to_disk` back into one :class:`Dataset`.

    Parts are concatenated in order, ``seq`` is renumbered over the whole log and friend ties
    written from both ends are dropped, so the result equals ``generate`` with the same config.
    Everything is loaded into memory: for 1,000,000 users that is about 21 million rows.
    """
    d = Path(directory)
    if not (d / "meta.json").exists() or not (d / "interactions").is_dir():
        raise UsageError(
            f"{d}: not a streamed synthetic shop (no meta.json or part files); write one with "
            f"segrec data synth --stream --out {d}"
        )
    info = json.loads((d / "meta.json").read_text())

    def table(name: str) -> pd.DataFrame:
        parts = sorted((d / name).glob("part-*.parquet"))
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)

    inter = table("interactions")
    inter["seq"] = range(len(inter))
    drift = table("drift")
    truth = pd.read_parquet(d / "truth.parquet")
    return Dataset(
        interactions=inter,
        texts=table("texts"),
        items=pd.read_parquet(d / "items.parquet"),
        users=table("users"),
        social=table("social").drop_duplicates(["src", "dst"], ignore_index=True),
        truth=truth.set_index("user_id")["truth"],
        name="synthetic",
        meta=synthetic_meta(SyntheticConfig(**info["config"]), drift),
    )
