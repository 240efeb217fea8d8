"""The fitted model: fit, save, load, assign, recommend, update, forget, refresh and drift."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segrec.data import load_dataset
from segrec.diagnostics import UsageError
from segrec.evaluate import EvalConfig
from segrec.model import Choice, SegrecModel, fit_model, load_model
from segrec.model._fit import fit_chosen, serving_dataset

LIGHT = {
    "features": {"embedder": {"backend": "tfidf-svd", "tfidf_dim": 32, "use_cache": False}},
    "graph": None,
}
CHOICE = Choice("fused", {"k": 5}, {"base": "itemknn", "base_params": {"neighbours": 50}})


@pytest.fixture(scope="module")
def shop():
    ds, _ = load_dataset("synthetic:users=500,seed=3")
    return ds


@pytest.fixture(scope="module")
def fitted(shop) -> SegrecModel:
    cfg = EvalConfig(**LIGHT)
    return fit_chosen(serving_dataset(shop, cfg), cfg, CHOICE)


@pytest.fixture(scope="module")
def folder(fitted, tmp_path_factory) -> Path:
    return fitted.save(tmp_path_factory.mktemp("m") / "model")


def test_folder_is_self_describing_and_holds_no_pickle(folder: Path, fitted) -> None:
    info = json.loads((folder / "model.json").read_text())
    assert info["format_version"] == 1
    for key in ("segrec_version", "config", "chosen", "dataset", "created_at", "encoder"):
        assert key in info
    assert info["chosen"]["segmentation"] == "fused" and info["chosen"]["n_segments"] == 5
    assert info["dataset"]["n_users"] == 500 and len(info["dataset"]["sha256"]) == 64
    assert info["encoder"]["kind"] == "tfidf-svd"
    for name in info["files"]:
        assert (folder / name).exists(), name
    for npz in folder.glob("*.npz"):
        with np.load(npz, allow_pickle=False) as z:  # would raise on object arrays
            for k in z.files:
                assert z[k].dtype != object
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.pickle"))


def test_loaded_model_recommends_what_the_fitted_one_does(folder: Path, fitted) -> None:
    loaded = load_model(folder)
    users = fitted.user_ids[:60]
    a = fitted.recommend_users(users, 10).frame()
    b = loaded.recommend_users(users, 10).frame()
    pd.testing.assert_frame_equal(a, b)
    assert loaded.user_ids == fitted.user_ids
    assert not hasattr(loaded.recommender, "ctx_") or loaded.recommender.ctx_ is None


def test_no_train_serve_skew(fitted, shop) -> None:
    ds = serving_dataset(shop, EvalConfig(**LIGHT))
    batch = fitted.segments.segment_id
    got = fitted.assign_dataset(ds).set_index("user_id").segment_id.reindex(batch.index)
    agree = float((got.to_numpy() == batch.to_numpy()).mean())
    assert agree >= 0.99, agree


def test_assign_one_new_user_from_texts_events_or_both(fitted) -> None:
    items = list(fitted.item_labels.index[:3])
    by_text = fitted.assign(texts=["love the warm tone of these strings, great value"])
    by_events = fitted.assign(events=[{"item_id": i} for i in items])
    both = fitted.assign(texts=["cheap but works"], events=[{"item_id": items[0], "rating": 5}])
    for a in (by_text, by_events, both):
        assert a.segment_id in fitted.segment_names
        assert a.segment == fitted.segment_names[a.segment_id]
        assert 0.0 <= a.strength <= 1.0
        assert a.alternative != a.segment_id
        assert isinstance(a.explanation, str) and a.explanation
        assert a.user_id is None


def test_bad_input_names_the_field(fitted) -> None:
    with pytest.raises(UsageError, match=r"events\[0\].item_id"):
        fitted.assign(events=[{"rating": 3}])
    with pytest.raises(UsageError, match="unknown item_id 'nope'"):
        fitted.assign(events=[{"item_id": "nope"}])
    with pytest.raises(UsageError, match=r"texts\[0\]"):
        fitted.assign(texts=[""])
    with pytest.raises(UsageError, match="unknown user_id 'ghost'"):
        fitted.recommend("ghost")
    with pytest.raises(UsageError, match="k must be"):
        fitted.recommend(fitted.user_ids[0], k=0)


def test_recommend_never_returns_what_the_user_has(fitted) -> None:
    ev = fitted.store.events
    for u in fitted.user_ids[:40]:
        have = set(ev.item_id[ev.user_id == u])
        lists = fitted.recommend(u, k=10)
        assert len(lists.items[0]) == 10 and not have & set(lists.items[0])
        assert all(isinstance(r, str) and r for r in lists.reasons[0])
    items = list(fitted.item_labels.index[:4])
    new = fitted.recommend(events=[{"item_id": i} for i in items], texts=["great strings"], k=5)
    assert len(new.items[0]) == 5 and not set(items) & set(new.items[0])


def test_update_folds_activity_in_and_keeps_the_previous_segment(shop, tmp_path: Path) -> None:
    cfg = EvalConfig(**LIGHT)
    m = fit_chosen(serving_dataset(shop, cfg), cfg, CHOICE)
    u = m.user_ids[0]
    before = m.segment_of(u)
    have = set(m.store.events.item_id[m.store.events.user_id == u])
    new_items = [i for i in m.item_labels.index if i not in have][:3]
    a = m.update(u, events=[{"item_id": i} for i in new_items], texts=["bright and loud"])
    assert a.previous == before.segment_id and a.user_id == u
    lists = m.recommend(u, k=10)
    assert not (have | set(new_items)) & set(lists.items[0])
    hist = m.store.history()
    assert (hist.user_id == u).sum() == 2  # the fit's assignment and the update's
    # a user the model never saw is created by an update
    b = m.update("brand-new", events=[{"item_id": new_items[0]}])
    assert b.previous is None and "brand-new" in m.user_ids
    assert len(m.recommend("brand-new", k=3).items[0]) == 3
    # saved and loaded, the model goes on from the updates
    again = load_model(m.save(tmp_path / "m"))
    assert again.segment_of(u) == m.segment_of(u) and again.segment_of("brand-new") == b
    pd.testing.assert_frame_equal(again.recommend(u, k=10).frame(), lists.frame())


def test_kept_answers_of_fit_time_users_follow_updates_and_forgets(shop) -> None:
    cfg = EvalConfig(**LIGHT)
    m = fit_chosen(serving_dataset(shop, cfg), cfg, CHOICE)
    u, other = m.user_ids[0], m.user_ids[1]
    first = m.recommend(u, k=10)
    assert m.recommend(u, k=10) is first  # kept
    pd.testing.assert_frame_equal(first.frame(), m.recommend_users([u], k=10).frame())
    assert len(m.recommend(u, k=5).items[0]) == 5  # another k is another answer
    seg = m.segment_of(u)
    assert m.segment_of(u) is seg
    have = set(m.store.events.item_id[m.store.events.user_id == u])
    new = [i for i in m.item_labels.index if i not in have][:3]
    after = m.update(u, events=[{"item_id": i} for i in new])
    assert m.segment_of(u) is after  # not the kept fit-time answer
    changed = m.recommend(u, k=10)
    assert changed is not first and not set(new) & set(changed.items[0])
    kept = m.recommend(other, k=10)
    m.forget(m.user_ids[5])  # scrubbing fitted parts drops every kept answer
    assert m.recommend(other, k=10) is not kept
    m.cache_size = 0
    assert m.recommend(other, k=10) is not m.recommend(other, k=10)


def test_forget_removes_the_user(shop, tmp_path: Path) -> None:
    cfg = EvalConfig(**LIGHT)
    m = fit_chosen(serving_dataset(shop, cfg), cfg, CHOICE)
    u = m.user_ids[3]
    out = m.forget(u)
    assert out["removed"]["events"] > 0 and out["remains_until_refit"]
    assert u not in m.user_ids
    assert not (m.store.events.user_id == u).any() and not (m.store.texts.user_id == u).any()
    m.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert u not in loaded.user_ids
    assert not (pd.read_parquet(tmp_path / "m" / "events.parquet").user_id == u).any()
    with pytest.raises(UsageError, match="unknown user_id"):
        loaded.recommend(u)


def test_newer_format_or_missing_folder_fails_in_one_line(folder: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "newer"
    shutil.copytree(folder, copy)
    info = json.loads((copy / "model.json").read_text())
    info["format_version"] = 99
    (copy / "model.json").write_text(json.dumps(info))
    with pytest.raises(UsageError, match="format version 99, newer than this segrec"):
        load_model(copy)
    with pytest.raises(UsageError, match="does not exist"):
        load_model(tmp_path / "nowhere")


def test_missing_encoder_fails_naming_it(folder: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "enc"
    shutil.copytree(folder, copy)
    enc = json.loads((copy / "encoder.json").read_text())
    enc.update(kind="transformer", name="/no/such/encoder", weights_sha256="0" * 64)
    enc["config"]["model"] = "/no/such/encoder"
    (copy / "encoder.json").write_text(json.dumps(enc))
    with pytest.raises(UsageError, match="text encoder '/no/such/encoder' is not installed"):
        load_model(copy)


def test_same_seed_same_segments(shop) -> None:
    cfg = EvalConfig(**LIGHT)
    ds = serving_dataset(shop, cfg)
    a = fit_chosen(ds, cfg, CHOICE).segments
    b = fit_chosen(ds, cfg, CHOICE).segments
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_fit_model_tunes_then_fits_and_from_run_reuses_the_choices(shop, tmp_path: Path) -> None:
    from segrec import run_pipeline

    cfg = EvalConfig(
        methods=["pop", "itemknn", "segment_pop", "hybrid"],
        segmentations=["random", "behavior", "fused"],
        segmentation_params={"behavior": {"k": 4}, "fused": {"k": 4}},
        n_bootstrap=20,
        cold_windows=0,
        budget=1,
        **LIGHT,
    )
    res = run_pipeline(shop, tmp_path / "run", cfg)
    m = load_model(tmp_path / "run" / "model")
    chosen = m.info["chosen"]
    assert chosen["segmentation"] == res.segmentation
    assert chosen["hybrid"]["base"] == res.evaluation.runs["hybrid"].model.config.base
    # the run's published files are the folder's own answers
    recs = pd.read_parquet(tmp_path / "run" / "recommendations.parquet")
    one = m.user_ids[7]
    mine = m.recommend(one, k=10).frame()
    theirs = recs[recs.user_id == one][["user_id", "rank", "item_id", "score", "reason"]]
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), theirs.reset_index(drop=True))
    seg = pd.read_parquet(tmp_path / "run" / "segments.parquet").set_index("user_id")
    assert (seg.segment_id == m.segments.segment_id.reindex(seg.index)).all()
    # --from-run: the same choices, no evaluation
    again = fit_model(shop, from_run=tmp_path / "run")
    assert again.info["chosen"]["hybrid"] == chosen["hybrid"]
    assert again.info["chosen"]["segmentation_params"] == chosen["segmentation_params"]
