"""The report's example users: cold and warm, from different segments, the same every run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segrec.data import load_dataset
from segrec.recommend import FitContext, get_recommender
from segrec.report import example_lists, examples_html
from segrec.segment import Segmentation


@pytest.fixture(scope="module")
def shop() -> tuple[object, pd.DataFrame]:
    ds, _ = load_dataset("synthetic:users=300,seed=4")
    users = ds.user_ids.astype(str)
    labels = (pd.Series(range(len(users))) % 3).to_numpy()
    seg = Segmentation(users, labels, np.ones(len(users)), "toy")
    lists = get_recommender("pop").fit(FitContext(ds, segmentation=seg)).recommend(users, 6)
    recs = lists.frame()
    names = {0: "Drummers", 1: "Guitarists", 2: "Producers"}
    recs["segment"] = recs.user_id.map(seg.series().map(names))
    return ds, recs


def _n_history(ds: object, user: str) -> int:
    inter = ds.interactions  # type: ignore[attr-defined]
    return int(inter[inter.user_id.astype(str) == user].item_id.nunique())


def test_cold_then_warm_users_from_different_segments(shop: tuple[object, pd.DataFrame]) -> None:
    ds, recs = shop
    ex = example_lists(ds, recs, n_cold=2, n_warm=2, n_items=5)  # type: ignore[arg-type]
    assert len(ex) == 4
    cold, warm = ex[:2], ex[2:]
    assert all(e["n_history"] <= 2 for e in cold) and all(e["n_history"] > 2 for e in warm)
    assert all(e["n_history"] == _n_history(ds, e["user_id"]) for e in ex)
    assert len({e["segment"] for e in cold}) == 2  # one per segment
    # the warm examples start with the segment no cold example showed
    assert warm[0]["segment"] not in {e["segment"] for e in cold}
    for e in ex:
        assert 0 < len(e["items"]) <= 5 and all(label and reason for label, reason in e["items"])
        mine = recs[recs.user_id == e["user_id"]].sort_values("rank")
        assert [r for _, r in e["items"]] == mine.reason.head(5).tolist()
    assert example_lists(ds, recs) == ex  # type: ignore[arg-type]  # the same users every run


def test_without_cold_users_more_warm_ones_are_shown(shop: tuple[object, pd.DataFrame]) -> None:
    ds, recs = shop
    warm_users = [u for u in recs.user_id.unique() if _n_history(ds, u) > 2]
    ex = example_lists(ds, recs[recs.user_id.isin(warm_users)])  # type: ignore[arg-type]
    assert len(ex) == 4 and all(e["n_history"] > 2 for e in ex)
    assert example_lists(ds, recs.iloc[:0]) == []  # type: ignore[arg-type]


def test_examples_html_escapes_and_shows_reasons(shop: tuple[object, pd.DataFrame]) -> None:
    ds, recs = shop
    ex = example_lists(ds, recs.assign(reason="popular with <b>you</b>"))  # type: ignore[arg-type]
    html = examples_html(ex)
    assert html.count('class="card"') == 4 and "<b>you</b>" not in html
    assert "popular with &lt;b&gt;you&lt;/b&gt;" in html and "cold user" in html
    assert all(e["user_id"] in html for e in ex) and examples_html([]) == ""
