"""Drift: PSI and verdicts on planted shifts of the synthetic shop, against no shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.data.synthetic import SyntheticConfig, generate
from segrec.evaluate import EvalConfig
from segrec.model import Choice, psi
from segrec.model._drift import drift_report, reference_of
from segrec.model._fit import fit_chosen, serving_dataset

LIGHT = {
    "features": {"embedder": {"backend": "tfidf-svd", "tfidf_dim": 32, "use_cache": False}},
    "graph": None,
}
CHOICE = Choice("fused", {"k": 6}, {"base": "itemknn"})
OLD = ("budget_beginner", "studio_engineer", "gigging_drummer", "vintage_collector", "gift_buyer")


def test_psi_is_zero_for_equal_and_grows_with_the_shift() -> None:
    p = np.array([0.25, 0.25, 0.5])
    assert psi(p, p) == pytest.approx(0.0)
    assert 0 < psi(p, np.array([0.3, 0.2, 0.5])) < psi(p, np.array([0.6, 0.1, 0.3]))


def test_verdicts_follow_the_thresholds() -> None:
    seg = pd.DataFrame({"segment_id": [0] * 50 + [1] * 50, "distance": np.linspace(0, 1, 100)})
    ref = reference_of(seg)
    same = pd.DataFrame({"user_id": [f"u{i}" for i in range(100)], **seg})
    assert drift_report(ref, same).verdict == "stable"
    moved = same.assign(segment_id=[0] * 90 + [1] * 10)
    rep = drift_report(ref, moved)
    assert rep.verdict == "refit" and any("psi_segments" in r for r in rep.reasons)
    assert rep.exit_code == 3
    few = same.head(5)
    assert "too few" in drift_report(ref, few).reasons[0]


def _users(ds: Dataset, keep: pd.Index, prefix: str = "") -> Dataset:
    """The rows of users ``keep`` of ``ds`` (renamed with ``prefix``, so they are new to a
    model fit on other users); the catalogue stays the world's."""
    ren = {u: f"{prefix}{u}" for u in keep}
    inter = ds.interactions[ds.interactions.user_id.isin(keep)].astype({"user_id": str})
    texts = ds.texts[ds.texts.user_id.isin(keep)].astype({"user_id": str})
    social = ds.social[ds.social.src.isin(keep) & ds.social.dst.isin(keep)].astype(
        {"src": str, "dst": str}
    )
    return Dataset(
        interactions=inter.assign(
            user_id=inter.user_id.map(ren), item_id=inter.item_id.astype(str)
        ),
        texts=texts.assign(user_id=texts.user_id.map(ren)),
        items=ds.items.astype({"item_id": str}),
        social=social.assign(src=social.src.map(ren), dst=social.dst.map(ren)),
        name="window",
    )


def _taste_moved(win: Dataset, movers: pd.Index, towards: pd.Index) -> Dataset:
    """``win`` where the users ``movers`` buy what the users ``towards`` buy (their own texts
    unchanged): a persona's taste moving."""
    inter = win.interactions.astype({"user_id": str, "item_id": str})
    pool = inter[inter.user_id.isin(towards)].item_id.to_numpy()
    sel = inter.user_id.isin(movers).to_numpy()
    inter.loc[sel, "item_id"] = np.random.default_rng(0).choice(pool, int(sel.sum()))
    return Dataset(
        interactions=inter,
        texts=win.texts.astype({"user_id": str}),
        items=win.items,
        social=win.social,
        name="moved",
    )


@pytest.mark.slow
def test_a_new_persona_or_a_moved_taste_is_told_from_no_shift() -> None:
    world = generate(config=SyntheticConfig(users=1400, seed=3, drift_share=0.0))
    truth = world.truth.reindex(world.user_ids.astype(str))
    old = pd.Index(truth.index[truth.isin(OLD).to_numpy()])
    newcomers = pd.Index(truth.index[~truth.isin(OLD).to_numpy()])
    fit_users, held = old[: len(old) * 3 // 5], old[len(old) * 3 // 5 :]
    cfg = EvalConfig(**LIGHT)
    model = fit_chosen(serving_dataset(_users(world, fit_users), cfg), cfg, CHOICE)
    # no shift: users of the same personas the model never saw
    window = _users(world, held, "h-")
    calm = model.drift(window)
    assert calm.verdict == "stable", calm.reasons
    # personas the model never saw arrive: half the window
    mixed = model.drift(_users(world, held[: len(newcomers)].append(newcomers), "n-"))
    assert mixed.verdict != "stable", mixed.reasons
    assert mixed.psi_segments > calm.psi_segments
    assert (mixed.far_share or 0) > (calm.far_share or 0)
    # one persona's taste moves: its users now buy what studio engineers buy
    who = truth.reindex(held)
    movers = "h-" + held[(who == "budget_beginner").to_numpy()]
    towards = "h-" + held[(who == "studio_engineer").to_numpy()]
    moved = model.drift(_taste_moved(window, movers, towards))
    assert moved.verdict != "stable", moved.reasons
    assert moved.psi_segments > calm.psi_segments
