"""Evaluation protocols: global temporal split (``v1``) and leave-last-out (``llo``).

Both return an :class:`EvalSplit` whose frames are row subsets of the deduplicated
interactions. ``fit`` + ``val`` = ``train``; tuning fits on ``fit`` and scores ``val``, the final
run refits on ``train`` and scores ``test``. Datasets for each period
(:meth:`EvalSplit.train_dataset`, :meth:`EvalSplit.fit_dataset`) carry only what happened in
that period, texts included, so features and segments never see held-out rows.
:meth:`EvalSplit.earlier_windows` cuts further validation windows from before the validation
period (v1 only), for choices that rest on few users (the hybrid's cold-user weights).
See ``docs/evaluation.md`` for the protocol written out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.data._split import llo_roles, temporal_cut
from segrec.diagnostics import UsageError

__all__ = ["PROTOCOLS", "EvalSplit", "dedupe_interactions", "make_split"]

PROTOCOLS = ("v1", "llo")
COLD_MAX = 2  # cold users have <= 2 train interactions, warm users >= 3


def dedupe_interactions(inter: pd.DataFrame) -> pd.DataFrame:
    """Sort by (timestamp, file order) and keep the earliest row of each (user, item) pair."""
    df = inter.sort_values(["timestamp", "seq"], kind="mergesort")
    df = df[~df.duplicated(["user_id", "item_id"], keep="first")]
    return df


@dataclass(frozen=True)
class EvalSplit:
    """Interactions split into ``fit``/``val`` (tuning) and ``train``/``test`` (final scoring).

    ``test``/``val`` hold only rows of evaluable users on items seen in the matching training
    period. ``cutoff_test`` / ``cutoff_val`` map user_id -> the timestamp of the first held-out
    row (a global constant for ``v1``), used to cut texts to the training period.
    """

    dataset: Dataset
    protocol: str
    fit: pd.DataFrame
    val: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame
    cutoff_test: pd.Series
    cutoff_val: pd.Series
    meta: dict[str, Any] = field(default_factory=dict)

    # -- users --------------------------------------------------------------------------
    @property
    def test_users(self) -> pd.Index:
        return _users_of(self.test)

    @property
    def val_users(self) -> pd.Index:
        return _users_of(self.val)

    def train_counts(self, period: str = "train") -> pd.Series:
        """user_id -> number of interactions in ``period`` ('train' or 'fit')."""
        df = self.train if period == "train" else self.fit
        return df.user_id.astype(str).value_counts()

    def cold_mask(self, users: pd.Index, period: str = "train") -> np.ndarray:
        """True for users with at most two interactions in the training ``period``."""
        n = self.train_counts(period).reindex(users).fillna(0).to_numpy()
        return n <= COLD_MAX

    @property
    def cold_users(self) -> pd.Index:
        u = self.test_users
        return u[self.cold_mask(u)]

    @property
    def warm_users(self) -> pd.Index:
        u = self.test_users
        return u[~self.cold_mask(u)]

    # -- datasets -----------------------------------------------------------------------
    def train_dataset(self) -> Dataset:
        """The dataset as it was in the training period (fit + val): no test rows, no later text."""
        return _period_dataset(self.dataset, self.train, self.cutoff_test)

    def all_dataset(self) -> Dataset:
        """The whole dataset after deduplication, every text included: what the chosen models
        are fit on to serve once the evaluation is done (:func:`segrec.model.fit_model`)."""
        return _period_dataset(
            self.dataset, dedupe_interactions(self.dataset.interactions), pd.Series({"*": np.inf})
        )

    def fit_dataset(self) -> Dataset:
        """The dataset as it was in the fit period (validation excluded), used while tuning."""
        return _period_dataset(self.dataset, self.fit, self.cutoff_val)

    def earlier_windows(self, n: int) -> list[tuple[Dataset, pd.DataFrame]]:
        """Up to ``n`` validation windows before the validation period, latest first (protocol
        v1; ``llo`` has none). Window j covers the same number of interactions as the
        validation period and ends where window j-1 starts; each comes as (the dataset of
        everything before the window, texts cut at its start; the window's rows of users and
        items seen before it). A window is made only when at least one window's worth of
        interactions precedes it. Nothing from the validation or test periods enters."""
        if self.protocol != "v1" or n <= 0:
            return []
        width = len(self.train) - len(self.fit)
        out = []
        for j in range(1, n + 1):
            end = len(self.fit) - (j - 1) * width
            start = end - width
            if width <= 0 or start < width:
                break
            before, raw = self.fit.iloc[:start], self.fit.iloc[start:end]
            held, _ = _heldout(before, raw)
            out.append((_period_dataset(self.dataset, before, _cutoffs(raw, "v1")), held))
        return out

    def relevant(self, period: str = "test") -> dict[str, set[str]]:
        """user_id -> set of held-out item ids for ``period`` ('test' or 'val')."""
        df = self.test if period == "test" else self.val
        out: dict[str, set[str]] = {}
        for u, i in zip(df.user_id.astype(str), df.item_id.astype(str), strict=True):
            out.setdefault(u, set()).add(i)
        return out

    def counts(self) -> dict[str, Any]:
        """Sizes after the split: rows per period, users, cold/warm test users."""
        tu = self.test_users
        cold = self.cold_mask(tu)
        vu = self.val_users
        return {
            "protocol": self.protocol,
            "n_rows_loaded": len(self.dataset.interactions),
            "n_interactions": int(len(self.train) + len(self.meta.get("_test_raw", self.test))),
            "n_train": len(self.train),
            "n_fit": len(self.fit),
            "n_val": len(self.val),
            "n_test": len(self.test),
            "n_train_users": int(self.train.user_id.nunique()),
            "n_train_items": int(self.train.item_id.nunique()),
            "n_test_users": len(tu),
            "n_cold_users": int(cold.sum()),
            "n_warm_users": int((~cold).sum()),
            "n_val_users": len(vu),
            "n_val_cold_users": int(self.cold_mask(vu, "fit").sum()),
            "n_test_rows_dropped_unseen_item": int(self.meta.get("test_dropped_items", 0)),
        }


def _users_of(df: pd.DataFrame) -> pd.Index:
    return pd.Index(sorted(df.user_id.astype(str).unique()), dtype="object", name="user_id")


def _heldout(train: pd.DataFrame, held: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop held-out rows on items absent from ``train`` and of users absent from ``train``."""
    items = set(train.item_id.astype(str).unique())
    users = set(train.user_id.astype(str).unique())
    known_item = held.item_id.astype(str).isin(items).to_numpy()
    known_user = held.user_id.astype(str).isin(users).to_numpy()
    return held[known_item & known_user], int((~known_item).sum())


def _v1(df: pd.DataFrame, test_frac: float, val_frac: float) -> tuple[pd.DataFrame, ...]:
    n_fit, n_train = temporal_cut(len(df), test_frac, val_frac)
    return df.iloc[:n_fit], df.iloc[n_fit:n_train], df.iloc[:n_train], df.iloc[n_train:]


def _llo(df: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    # ``df`` is in time order; llo_roles wants units grouped by user, in time order within each
    codes = pd.Categorical(df.user_id.astype(str)).codes.astype(np.int64)
    order = np.argsort(codes, kind="stable")
    role = np.empty(len(df), np.int64)
    role[order] = llo_roles(codes[order], int(codes.max()) + 1 if len(codes) else 0)
    is_test, is_val = role == 0, role == 1
    return df[~is_test & ~is_val], df[is_val], df[~is_test], df[is_test]


def _cutoffs(held: pd.DataFrame, protocol: str) -> pd.Series:
    """user_id -> first held-out timestamp (v1: the same global value for every user)."""
    if len(held) == 0:
        return pd.Series(dtype="float64")
    if protocol == "v1":
        return pd.Series({"*": float(held.timestamp.min())})
    g = held.groupby(held.user_id.astype(str))["timestamp"].min()
    return g.astype("float64")


def make_split(
    ds: Dataset, protocol: str = "v1", test_frac: float = 0.2, val_frac: float = 0.1
) -> EvalSplit:
    """Split ``ds`` by ``protocol`` ('v1' global temporal 80/20 with the last 10% of train as
    validation, or 'llo' leave-last-out) after deduplicating (user, item) pairs (keep earliest).

    >>> # split = make_split(ds, "v1"); split.counts()["n_test_users"]
    """
    if protocol not in PROTOCOLS:
        raise UsageError(f"protocol={protocol!r} is not known; expected one of {PROTOCOLS}")
    if not (0.0 < test_frac < 1.0 and 0.0 < val_frac < 1.0):
        raise UsageError(
            f"test_frac={test_frac}, val_frac={val_frac}: both must lie strictly between 0 and 1"
        )
    df = dedupe_interactions(ds.interactions)
    if len(df) < 3:
        raise UsageError(f"dataset {ds.name!r} has {len(df)} interactions; need at least 3")
    fit, val_raw, train, test_raw = _v1(df, test_frac, val_frac) if protocol == "v1" else _llo(df)
    test, dropped = _heldout(train, test_raw)
    val, dropped_val = _heldout(fit, val_raw)
    return EvalSplit(
        dataset=ds,
        protocol=protocol,
        fit=fit,
        val=val,
        train=train,
        test=test,
        cutoff_test=_cutoffs(test_raw, protocol),
        cutoff_val=_cutoffs(val_raw, protocol),
        meta={
            "test_frac": test_frac if protocol == "v1" else None,
            "val_frac": val_frac if protocol == "v1" else None,
            "test_dropped_items": dropped,
            "val_dropped_items": dropped_val,
            "n_duplicates_removed": int(len(ds.interactions) - len(df)),
            "_test_raw": test_raw,
        },
    )


def _period_dataset(ds: Dataset, inter: pd.DataFrame, cutoff: pd.Series) -> Dataset:
    """``ds`` restricted to the interactions ``inter`` and to texts written before the cutoff.

    A text is kept when it is dated strictly before its user's cutoff, or dated exactly at the
    cutoff / undated and attached to a kept (user, item) interaction. Items without a kept
    interaction leave the items table, so ``item_ids`` of the result are the candidate items.
    """
    pairs = set(zip(inter.user_id.astype(str), inter.item_id.astype(str), strict=True))
    t = ds.texts
    users = t.user_id.astype(str).to_numpy()
    if "*" in cutoff.index:
        cut = np.full(len(t), cutoff["*"])
    else:
        cut = cutoff.reindex(users).fillna(np.inf).to_numpy(dtype=float)
    ts = t.timestamp.astype("float64").to_numpy()
    dated = ~np.isnan(ts)
    in_pair = np.fromiter(
        ((u, i) in pairs for u, i in zip(users, t.item_id.astype(str), strict=True)),
        dtype=bool,
        count=len(t),
    )
    keep = (dated & (ts < cut)) | (dated & (ts == cut) & in_pair) | (~dated & in_pair)
    train_items = set(inter.item_id.astype(str).unique())
    texts = t[keep]
    has_item = texts.item_id.notna().to_numpy()
    texts = texts[~has_item | texts.item_id.astype(str).isin(train_items).to_numpy()]
    items = ds.items[ds.items.item_id.astype(str).isin(train_items).to_numpy()]
    # deduplication keeps a pair's first event, so a shop's funnel leaves only views: remember
    # every event type the data had (for the words of reasons and names, segrec.data.wording)
    events = ds.meta.get("event_types") or sorted(
        ds.interactions["event"].astype("string").dropna().unique().tolist()
        if "event" in ds.interactions
        else []
    )
    return ds.replace(
        interactions=inter, texts=texts, items=items, meta={**ds.meta, "event_types": events}
    )
