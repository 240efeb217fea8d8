"""One user's behaviour row in numpy equals the pandas group-by path, on every monetary basis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.data.synthetic import SyntheticConfig, generate
from segrec.features import BehaviorFeaturizer
from segrec.features._behavior import _reindexed


def _pandas_path(fz: BehaviorFeaturizer, one: Dataset, uid: str) -> pd.DataFrame:
    users = pd.Index([uid], dtype="object")
    raw = fz._frame(one.interactions).reindex(columns=fz.columns_)
    return fz._finish(_reindexed(raw, users))[0]


def _variants(ds: Dataset) -> dict[str, Dataset]:
    """The shop as it is (amounts), without amounts (prices), and with neither (ratings)."""
    no_amount = ds.interactions.assign(amount=np.nan)
    no_price = ds.items.assign(price=np.nan)
    return {
        "amount": ds,
        "price": Dataset(interactions=no_amount, items=ds.items, texts=ds.texts),
        "rating": Dataset(interactions=no_amount, items=no_price, texts=ds.texts),
    }


@pytest.mark.parametrize("basis", ["amount", "price", "rating"])
def test_one_user_row_equals_group_by_path(basis: str) -> None:
    ds = _variants(generate(SyntheticConfig(users=120, seed=5)))[basis]
    fz = BehaviorFeaturizer(n_categories=6).fit(ds)
    assert fz.basis_ == basis
    inter = ds.interactions
    rng = np.random.default_rng(0)
    users = rng.choice(np.asarray(ds.user_ids), 25, replace=False)
    for uid in users:
        mine = inter[inter["user_id"].astype(str) == uid]
        if mine.empty:
            continue
        # an unknown item (no price, no category) and a repeated timestamp on the way
        extra = mine.iloc[:1].assign(item_id="never-seen", timestamp=mine.timestamp.iloc[0])
        for rows in (mine, mine.iloc[:1], pd.concat([mine, extra])):
            one = Dataset(interactions=rows.astype({"user_id": str, "item_id": str}))
            fast, missing, got_basis = fz.transform(one, [uid])
            slow = _pandas_path(fz, one, uid)
            assert got_basis == basis and not missing.any()
            assert list(fast.columns) == list(slow.columns)
            np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=1e-12, atol=1e-12)


def test_several_users_still_take_the_group_by_path() -> None:
    ds = generate(SyntheticConfig(users=60, seed=2))
    fz = BehaviorFeaturizer().fit(ds)
    two = ds.user_ids[:2]
    f, missing, _ = fz.transform(ds, two)
    assert list(f.index) == list(two) and not missing.any()


@pytest.mark.parametrize("basis", ["amount", "rating"])
def test_a_user_who_only_wrote_gets_the_group_by_paths_row(basis: str) -> None:
    """A newcomer with a review and no interaction (an online text-only assign): the short
    path's row equals the group-by path's (category shares 0, the rest the fitted medians),
    and the row is marked missing."""
    ds = _variants(generate(SyntheticConfig(users=120, seed=5)))[basis]
    fz = BehaviorFeaturizer(n_categories=6).fit(ds)
    texts = pd.DataFrame({"user_id": ["writer"], "text": ["warm strings, they stay in tune"]})
    one = Dataset(texts=texts)
    fast, missing, got_basis = fz.transform(one, ["writer"])
    raw = pd.DataFrame(columns=fz.columns_, dtype=float)
    slow, slow_missing, _ = fz._finish(_reindexed(raw, pd.Index(["writer"], dtype="object")))
    assert got_basis == basis and missing.tolist() == slow_missing.tolist() == [True]
    assert list(fast.columns) == list(slow.columns) and list(fast.index) == ["writer"]
    np.testing.assert_array_equal(fast.to_numpy(), slow.to_numpy())
    assert fast.to_numpy().dtype == slow.to_numpy().dtype
