"""The :class:`Dataset`: one container for interactions, texts, items, users and social ties."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec.data._schema import ID_COLUMNS, SCHEMAS, TABLES
from segrec.diagnostics import UsageError

__all__ = ["Dataset", "empty_table"]


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of table ``name``."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in SCHEMAS[name].items()})


def _conform(name: str, df: pd.DataFrame | None) -> pd.DataFrame:
    """Add missing optional columns and coerce dtypes (ids are handled by the Dataset)."""
    if df is None:
        return empty_table(name)
    df = df.reset_index(drop=True).copy()
    for col, dtype in SCHEMAS[name].items():
        if col not in df.columns:
            if col == "seq":
                df[col] = np.arange(len(df), dtype="int64")
            elif col == "weight":
                df[col] = 1.0
            elif col in ("user_id", "item_id", "src", "dst") and name not in ("texts",):
                raise UsageError(f"table '{name}' needs column '{col}'")
            else:
                df[col] = pd.Series([None] * len(df), dtype="object")
        if dtype == "category" or col in ("user_id", "item_id", "src", "dst"):
            continue
        if dtype in ("string", "Int64"):
            df[col] = df[col].astype(dtype)
        else:
            df[col] = pd.to_numeric(df[col], errors="raise").astype(dtype)
    if name == "interactions" or name == "texts" or name == "social":
        if "kind" in SCHEMAS[name] and "kind" in df:
            df["kind"] = df["kind"].astype("string").astype("category")
        if "event" in df:
            df["event"] = df["event"].astype("string").astype("category")
    return df


@dataclass(frozen=True)
class Dataset:
    """Interactions, texts, items, users and social ties, with string ids and integer codes.

    Build one from frames; every id column becomes a ``Categorical`` over the dataset-wide
    ``user_ids`` / ``item_ids`` (sorted, so codes do not depend on file order)::

        >>> import pandas as pd
        >>> ds = Dataset(interactions=pd.DataFrame({"user_id": ["u1"], "item_id": ["i1"],
        ...              "timestamp": [0], "event": ["purchase"], "rating": [float("nan")],
        ...              "amount": [9.5]}))
        >>> ds.n_users, ds.n_items
        (1, 1)

    ``truth`` optionally maps user_id -> a ground-truth label (the synthetic personas).
    ``meta`` records provenance (loader, source paths, cleaning reports).
    """

    interactions: pd.DataFrame = field(default_factory=lambda: empty_table("interactions"))
    texts: pd.DataFrame = field(default_factory=lambda: empty_table("texts"))
    items: pd.DataFrame = field(default_factory=lambda: empty_table("items"))
    users: pd.DataFrame = field(default_factory=lambda: empty_table("users"))
    social: pd.DataFrame = field(default_factory=lambda: empty_table("social"))
    truth: pd.Series | None = None
    name: str = "dataset"
    meta: dict[str, Any] = field(default_factory=dict)
    user_ids: pd.Index = field(init=False)
    item_ids: pd.Index = field(init=False)

    def __post_init__(self) -> None:
        tables = {n: _conform(n, getattr(self, n)) for n in TABLES}
        users: set[str] = set()
        items: set[str] = set()
        for n, df in tables.items():
            for col, kind in ID_COLUMNS[n]:
                vals = df[col]
                vals = vals[vals.notna()].astype(str)
                (users if kind == "user" else items).update(vals.unique().tolist())
        user_ids = pd.Index(sorted(users), dtype="object", name="user_id")
        item_ids = pd.Index(sorted(items), dtype="object", name="item_id")
        for n, df in tables.items():
            for col, kind in ID_COLUMNS[n]:
                cats = user_ids if kind == "user" else item_ids
                s = df[col]
                s = s.where(s.isna(), s.astype(str)) if len(s) else s.astype("object")
                df[col] = pd.Categorical(s, categories=cats)
            object.__setattr__(self, n, df)
        object.__setattr__(self, "user_ids", user_ids)
        object.__setattr__(self, "item_ids", item_ids)
        if self.truth is not None:
            t = self.truth.copy()
            t.index = t.index.astype(str)
            object.__setattr__(self, "truth", t)

    @classmethod
    def assembled(
        cls,
        tables: dict[str, pd.DataFrame],
        user_ids: pd.Index,
        item_ids: pd.Index,
        name: str = "dataset",
    ) -> Dataset:
        """A Dataset of tables that already conform (every column of :data:`SCHEMAS` with its
        dtype, ids as Categoricals over ``user_ids``/``item_ids``), skipping the coercion of
        the constructor: for internal builders on a latency path, which test that they give
        what the constructor gives."""
        ds = object.__new__(cls)
        for n in TABLES:
            object.__setattr__(ds, n, tables[n])
        for attr, value in (("truth", None), ("name", name), ("meta", {})):
            object.__setattr__(ds, attr, value)
        object.__setattr__(ds, "user_ids", user_ids)
        object.__setattr__(ds, "item_ids", item_ids)
        return ds

    # -- sizes ------------------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def counts(self) -> dict[str, int]:
        """Rows per table and distinct users/items that appear in interactions."""
        out = {n: len(getattr(self, n)) for n in TABLES}
        out["users_with_interactions"] = int(self.interactions.user_id.nunique())
        out["items_with_interactions"] = int(self.interactions.item_id.nunique())
        out["n_users"] = self.n_users
        out["n_items"] = self.n_items
        return out

    # -- codes ------------------------------------------------------------------------------
    def user_codes(self, user_ids: Iterable[str]) -> np.ndarray:
        """Integer codes of ``user_ids`` (-1 for unknown ids)."""
        return self.user_ids.get_indexer(pd.Index(list(user_ids), dtype="object"))

    def item_codes(self, item_ids: Iterable[str]) -> np.ndarray:
        return self.item_ids.get_indexer(pd.Index(list(item_ids), dtype="object"))

    def interaction_matrix(self, value: str = "binary"):  # type: ignore[no-untyped-def]
        """users x items CSR matrix of the interactions (``binary``, ``weight`` or ``count``)."""
        import scipy.sparse as sp

        df = self.interactions
        r = df.user_id.cat.codes.to_numpy()
        c = df.item_id.cat.codes.to_numpy()
        v = df["weight"].to_numpy(float) if value == "weight" else np.ones(len(df))
        m = sp.csr_matrix((v, (r, c)), shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        if value == "binary":
            m.data[:] = 1.0
        return m

    # -- derived datasets -------------------------------------------------------------------
    def replace(self, **tables: Any) -> Dataset:
        """A new Dataset with some tables replaced (ids are recomputed)."""
        cur = {n: getattr(self, n) for n in TABLES}
        cur.update({k: v for k, v in tables.items() if k in TABLES})
        extra = {k: v for k, v in tables.items() if k not in TABLES}
        kw: dict[str, Any] = {"truth": self.truth, "name": self.name, "meta": dict(self.meta)}
        kw.update(extra)
        return Dataset(**{n: _decat(df) for n, df in cur.items()}, **kw)

    def before(self, timestamp: int) -> Dataset:
        """Only what happened strictly before ``timestamp`` (interactions and dated texts).

        Texts without a timestamp are kept only when they attach to an interaction that is kept
        (same user and item), so no text from the future leaks into features.
        """
        inter = self.interactions[self.interactions.timestamp < timestamp]
        t = self.texts
        dated = t.timestamp.notna()
        keep = dated & (t.timestamp.fillna(0) < timestamp)
        if (~dated).any():
            pairs = set(zip(inter.user_id.astype(str), inter.item_id.astype(str), strict=True))
            und = t[~dated]
            keep_und = [
                (u, i) in pairs
                for u, i in zip(und.user_id.astype(str), und.item_id.astype(str), strict=True)
            ]
            keep.loc[und.index] = keep_und
        return self.replace(interactions=inter, texts=t[keep.to_numpy()])

    # -- persistence ------------------------------------------------------------------------
    def to_parquet(self, directory: str | Path) -> Path:
        """Write every table to ``directory/<table>.parquet`` plus ``meta.json``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for n in TABLES:
            _decat(getattr(self, n)).to_parquet(d / f"{n}.parquet", index=False)
        if self.truth is not None:
            self.truth.rename("truth").rename_axis("user_id").reset_index().to_parquet(
                d / "truth.parquet", index=False
            )
        (d / "meta.json").write_text(
            json.dumps({"name": self.name, "meta": self.meta}, indent=2, default=str)
        )
        return d

    @classmethod
    def from_parquet(cls, directory: str | Path) -> Dataset:
        d = Path(directory)
        if not d.is_dir():
            raise UsageError(
                f"{d}: no such directory; pass a folder written by segrec data synth --out "
                "(or Dataset.to_parquet in Python)"
            )
        tables = {}
        for n in TABLES:
            p = d / f"{n}.parquet"
            tables[n] = pd.read_parquet(p) if p.exists() else None
        truth = None
        if (d / "truth.parquet").exists():
            tf = pd.read_parquet(d / "truth.parquet")
            truth = pd.Series(tf["truth"].to_numpy(), index=tf["user_id"].astype(str), name="truth")
        info = json.loads((d / "meta.json").read_text()) if (d / "meta.json").exists() else {}
        return cls(**tables, truth=truth, name=info.get("name", d.name), meta=info.get("meta", {}))

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{self.name}: {c['interactions']:,} interactions, {c['n_users']:,} users, "
            f"{c['n_items']:,} items, {c['texts']:,} texts, {c['social']:,} social ties"
        )


def _decat(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical id columns back to plain strings (for persistence and rebuilding)."""
    out = df.copy()
    for col in ("user_id", "item_id", "src", "dst"):
        if col in out and isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("object")
    return out
