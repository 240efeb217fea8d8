"""Train / validation / test splits of a :class:`Dataset`, with cold and warm user slices.

Two protocols share one :class:`Split` artifact:

* :func:`temporal_split`: one global time line. Interactions are ordered by ``(timestamp,
  seq)``; the first ``1 - test_frac`` of the rows are ``train``, the rest ``test``; the last
  ``val_frac`` of the train rows are ``val`` and ``fit = train - val``. The cut falls between
  two rows, not two timestamps: rows sharing the cutoff timestamp are split by ``seq``, so one
  timestamp can straddle train and test (``train_cutoff`` is the timestamp of the first test
  row; every train row is at or before it, every test row at or after it).
* :func:`leave_last_out`: per user, the last interaction by ``(timestamp, seq)`` is ``test``
  and the one before it ``val``; users with fewer than 3 interactions are train-only.

``train_dataset()`` / ``fit_dataset()`` return Datasets with only the interactions of that part
and only the texts written before the part ends (per user for leave-last-out): dated texts
strictly before the cutoff, undated texts only when they attach to a kept (user, item) pair.
Items, users, social ties and truth are kept whole, so user and item codes do not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segrec.data._dataset import Dataset
from segrec.diagnostics import UsageError

__all__ = ["Split", "leave_last_out", "llo_roles", "temporal_cut", "temporal_split"]


@dataclass(frozen=True)
class Split:
    """Interaction rows of each part (index = row position in ``dataset.interactions``).

    ``test_users`` have at least one train and one test interaction; among them
    ``cold_users`` have at most ``cold_threshold`` train interactions and ``warm_users`` more.
    ``new_test_users`` appear in test with no train interaction at all.
    """

    dataset: Dataset
    method: str
    fit: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    train_cutoff: int | None = None
    fit_cutoff: int | None = None
    cold_threshold: int = 2
    params: dict[str, Any] = field(default_factory=dict)
    train: pd.DataFrame = field(init=False)
    test_users: pd.Index = field(init=False)
    cold_users: pd.Index = field(init=False)
    warm_users: pd.Index = field(init=False)
    new_test_users: pd.Index = field(init=False)

    def __post_init__(self) -> None:
        train = pd.concat([self.fit, self.val]).sort_index()
        object.__setattr__(self, "train", train)
        n_train = train.user_id.astype(str).value_counts()
        in_test = pd.Index(self.test.user_id.astype(str).unique())
        has_train = in_test.isin(n_train.index)
        test_users = in_test[has_train].sort_values()
        counts = n_train.reindex(test_users).to_numpy()
        object.__setattr__(self, "test_users", test_users)
        object.__setattr__(self, "cold_users", test_users[counts <= self.cold_threshold])
        object.__setattr__(self, "warm_users", test_users[counts > self.cold_threshold])
        object.__setattr__(self, "new_test_users", in_test[~has_train].sort_values())

    # -- period datasets --------------------------------------------------------------------
    def train_dataset(self) -> Dataset:
        """The dataset as known at the end of ``train`` (fit + val): evaluate on ``test``."""
        return _restrict(self.dataset, self.train, self._ends(self.test, self.train_cutoff))

    def fit_dataset(self) -> Dataset:
        """The dataset as known at the end of ``fit``: tune on ``val``."""
        held = pd.concat([self.val, self.test])
        return _restrict(self.dataset, self.fit, self._ends(held, self.fit_cutoff))

    def _ends(self, held: pd.DataFrame, cutoff: int | None) -> int | pd.Series:
        if cutoff is not None:
            return cutoff
        # per user: the first held-out timestamp (users with nothing held out keep everything)
        return held.groupby(held.user_id.astype(str)).timestamp.min()

    def stats(self) -> dict[str, Any]:
        """Row and user counts of every part and slice, and the cutoffs."""
        return {
            "method": self.method,
            "n_interactions": len(self.dataset.interactions),
            "n_train": len(self.train),
            "n_fit": len(self.fit),
            "n_val": len(self.val),
            "n_test": len(self.test),
            "n_train_users": int(self.train.user_id.nunique()),
            "n_test_users": len(self.test_users),
            "n_cold_users": len(self.cold_users),
            "n_warm_users": len(self.warm_users),
            "n_new_test_users": len(self.new_test_users),
            "cold_threshold": self.cold_threshold,
            "train_cutoff": self.train_cutoff,
            "fit_cutoff": self.fit_cutoff,
            **self.params,
        }


def temporal_split(
    ds: Dataset, test_frac: float = 0.2, val_frac: float = 0.1, *, cold_threshold: int = 2
) -> Split:
    """Global temporal split by row share (see the module docstring).

    >>> from segrec.data.synthetic import generate
    >>> sp = temporal_split(generate(users=200, seed=0))
    >>> round(sp.stats()["n_test"] / sp.stats()["n_interactions"], 2)
    0.2
    """
    _check_frac("test_frac", test_frac)
    _check_frac("val_frac", val_frac)
    inter = ds.interactions
    n = len(inter)
    if n == 0:
        raise UsageError("temporal_split: the dataset has no interactions; load a non-empty one")
    order = np.lexsort((inter.seq.to_numpy(), inter.timestamp.to_numpy()))
    n_fit, n_train = temporal_cut(n, test_frac, val_frac)
    ts = inter.timestamp.to_numpy()[order]
    end = int(ts[-1]) + 1
    return Split(
        ds,
        "temporal",
        fit=inter.iloc[order[:n_fit]],
        val=inter.iloc[order[n_fit:n_train]],
        test=inter.iloc[order[n_train:]],
        train_cutoff=int(ts[n_train]) if n_train < n else end,
        fit_cutoff=int(ts[n_fit]) if n_fit < n else end,
        cold_threshold=cold_threshold,
        params={"test_frac": test_frac, "val_frac": val_frac},
    )


def temporal_cut(n: int, test_frac: float, val_frac: float) -> tuple[int, int]:
    """``(n_fit, n_train)`` for ``n`` rows in time order: the last ``test_frac`` of the rows are
    test, the last ``val_frac`` of the train rows validation (shared with the evaluation)."""
    n_train = n - round(n * test_frac)
    return n_train - round(n_train * val_frac), n_train


def leave_last_out(ds: Dataset, *, by_item: bool = False, cold_threshold: int = 2) -> Split:
    """Per user: last interaction = test, the one before = validation (>= 3 interactions).

    With ``by_item=True`` the unit is a distinct item instead of a row: items are ordered by
    the user's first interaction with them, and every row of the last item goes to test (of
    the one before, to validation); users with fewer than 3 distinct items are train-only.
    Use it for funnel logs (view -> cart -> purchase of one item), where a row-level hold-out
    would leave the held-out item's earlier views in train.
    """
    inter = ds.interactions
    codes = inter.user_id.cat.codes.to_numpy().astype(np.int64)
    order = np.lexsort((inter.seq.to_numpy(), inter.timestamp.to_numpy(), codes))
    if by_item:
        pair = codes * max(ds.n_items, 1) + inter.item_id.cat.codes.to_numpy()
        uniq, first = np.unique(pair[order], return_index=True)
        units = uniq[np.argsort(first)]  # pairs in (user, first time) order
        unit_user = units // max(ds.n_items, 1)
        unit_of_row = np.searchsorted(uniq, pair)
        rank_of_unit = np.empty(len(units), np.int64)
        rank_of_unit[np.searchsorted(uniq, units)] = np.arange(len(units))
        role_sorted = llo_roles(unit_user, ds.n_users)
        role = role_sorted[rank_of_unit[unit_of_row]]
    else:
        role = np.empty(len(order), np.int64)
        role[order] = llo_roles(codes[order], ds.n_users)
    rows = np.arange(len(inter))
    return Split(
        ds,
        "leave_last_out",
        fit=inter.iloc[rows[role == 2]],
        val=inter.iloc[rows[role == 1]],
        test=inter.iloc[rows[role == 0]],
        cold_threshold=cold_threshold,
        params={"by_item": by_item},
    )


def llo_roles(user: np.ndarray, n_users: int) -> np.ndarray:
    """For units sorted by (user, time): 0 = last (test), 1 = second to last (val), 2 = fit.

    Users with fewer than 3 units keep all of them in fit.
    """
    size = np.bincount(user, minlength=n_users)
    back = np.cumsum(size)[user] - 1 - np.arange(len(user))
    eligible = size[user] >= 3
    return np.where(eligible & (back <= 1), back, 2)


def _restrict(ds: Dataset, rows: pd.DataFrame, end: int | pd.Series) -> Dataset:
    """``ds`` with interactions ``rows`` and the texts known before ``end``."""
    t = ds.texts
    ts = t.timestamp
    dated = ts.notna().to_numpy()
    if isinstance(end, pd.Series):
        limit = end.reindex(t.user_id.astype(str)).to_numpy(dtype=float)
        limit = np.where(np.isnan(limit), np.inf, limit)
    else:
        limit = np.full(len(t), float(end))
    keep = dated & (ts.fillna(0).to_numpy(dtype=float) < limit)
    if (~dated).any():
        pairs = pd.MultiIndex.from_arrays([rows.user_id.astype(str), rows.item_id.astype(str)])
        und = t[~dated]
        key = pd.MultiIndex.from_arrays([und.user_id.astype(str), und.item_id.astype(str)])
        keep[~dated] = key.isin(pairs)
    return ds.replace(interactions=rows, texts=t[keep])


def _check_frac(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise UsageError(f"{name}={value!r}: expected a fraction in [0, 1); e.g. {name}=0.2")
