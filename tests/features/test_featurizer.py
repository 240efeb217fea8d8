"""UserFeaturizer: one code path for the batch and for users one at a time (no train/serve skew)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset, load_dataset
from segrec.data._dataset import _decat
from segrec.features import (
    FeatureFusion,
    TextEmbedder,
    UserFeaturizer,
    build_user_features,
)

GRAPH = {"dim": 16, "epochs": 5}


def _embedder() -> TextEmbedder:
    return TextEmbedder(backend="tfidf-svd", use_cache=False)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset("synthetic:users=600,seed=1")[0]


@pytest.fixture(scope="module")
def fitted(ds):
    pytest.importorskip("torch")
    fz = UserFeaturizer(_embedder(), graph=GRAPH, item_vectors=True)
    return fz, fz.fit_transform(ds)


def _own_rows(ds: Dataset, users: list[str]) -> Dataset:
    """Only these users' interactions, texts and the ties they name (no items table)."""
    inter, texts, soc = _decat(ds.interactions), _decat(ds.texts), _decat(ds.social)
    return Dataset(
        interactions=inter[inter.user_id.isin(users)],
        texts=texts[texts.user_id.isin(users)],
        social=soc[soc.src.isin(users)],
        name="users",
    )


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.maximum(norm, 1e-12)


def test_fit_transform_is_the_evaluation_path(ds, fitted):
    from segrec.evaluate import EvalConfig
    from segrec.evaluate._run import _features
    from segrec.graph import graph_embeddings

    _, feats = fitted
    cfg = EvalConfig(
        features={"embedder": {"backend": "tfidf-svd", "use_cache": False}},
        graph=GRAPH,
        item_vectors=True,
    )
    ev, _ = _features(ds, cfg, True)
    base = build_user_features(ds, _embedder(), item_vectors=True)
    g = graph_embeddings(ds, base, random_state=0, **GRAPH)
    for other in (ev, base.with_block("graph", g.block("graph"), g.missing["graph"])):
        assert list(other.user_ids) == list(feats.user_ids)
        assert sorted(other.blocks) == ["behavior", "graph", "text"]
        for name in other.blocks:
            np.testing.assert_array_equal(other.blocks[name], feats.blocks[name])
            np.testing.assert_array_equal(other.missing[name], feats.missing[name])
    assert ev.columns == feats.columns
    pd.testing.assert_series_equal(ev.meta["text_source"], feats.meta["text_source"])
    pd.testing.assert_frame_equal(ev.meta["item_text_vectors"], feats.meta["item_text_vectors"])


def test_every_training_user_from_own_rows(ds, fitted):
    """Each user's own rows give back their batch row: text and behaviour to 1e-5, the graph
    vector through the fold-in (measured: cosine >= 0.9999998, max abs 5e-7 on this data)."""
    fz, feats = fitted
    again = fz.transform(_own_rows(ds, list(ds.user_ids)))  # rows are per user: a batch
    assert list(again.user_ids) == list(feats.user_ids)
    for name in ("text", "behavior"):
        np.testing.assert_allclose(again.blocks[name], feats.blocks[name], atol=1e-5)
        np.testing.assert_array_equal(again.missing[name], feats.missing[name])
    np.testing.assert_array_equal(again.missing["graph"], feats.missing["graph"])
    assert _cos(again.blocks["graph"], feats.blocks["graph"]).min() > 0.9999
    assert (again.meta["text_source"] == feats.meta["text_source"]).all()
    rng = np.random.default_rng(0)
    for u in rng.choice(np.asarray(ds.user_ids, dtype=str), 15, replace=False):
        one = fz.transform(_own_rows(ds, [u]))  # one user alone, as a model serves them
        i = feats.user_ids.get_loc(u)
        assert list(one.user_ids) == [u]
        for name in ("text", "behavior"):
            np.testing.assert_allclose(one.blocks[name][0], feats.blocks[name][i], atol=1e-5)
        assert _cos(one.blocks["graph"], feats.blocks["graph"][[i]])[0] > 0.9999


def test_state_round_trip_through_files(ds, fitted, tmp_path):
    fz, _ = fitted
    meta, arrays = fz.to_state()
    assert all(a.dtype != object for a in arrays.values())
    (tmp_path / "featurizer.json").write_text(json.dumps(meta))
    np.savez(tmp_path / "featurizer.npz", **arrays)
    with np.load(tmp_path / "featurizer.npz", allow_pickle=False) as npz:
        loaded = {k: npz[k] for k in npz.files}
    back = UserFeaturizer.from_state(
        json.loads((tmp_path / "featurizer.json").read_text()), loaded, embedder=fz.embedder_
    )
    users = _own_rows(ds, list(ds.user_ids[:40]))
    want, got = fz.transform(users), back.transform(users)
    assert list(got.user_ids) == list(want.user_ids) and got.columns == want.columns
    for name in want.blocks:
        np.testing.assert_array_equal(got.blocks[name], want.blocks[name])
        np.testing.assert_array_equal(got.missing[name], want.missing[name])


def _new_user(ds: Dataset, events: bool, texts: bool, friends: bool = False) -> Dataset:
    items = [*list(ds.item_ids[:3]), "never-seen-item"]
    inter = pd.DataFrame(
        {
            "user_id": "new-1",
            "item_id": items,
            "timestamp": [ds.interactions.timestamp.max()] * 4,
            "event": "purchase",
            "rating": [5.0, 4.0, np.nan, 3.0],
            "amount": np.nan,
        }
    )
    text = pd.DataFrame({"user_id": ["new-1"], "item_id": [items[0]], "text": ["great sound"]})
    ties = pd.DataFrame({"src": ["new-1"] * 2, "dst": list(ds.user_ids[:2]), "kind": "friend"})
    return Dataset(
        interactions=inter if events else None,
        texts=text if texts else None,
        social=ties if friends else None,
        name="new",
    )


@pytest.mark.parametrize(
    ("events", "texts", "friends", "miss_text", "miss_behavior", "source"),
    [
        (True, False, False, False, False, "items"),  # item-text fallback
        (False, True, False, False, True, "reviews"),
        (True, True, True, False, False, "reviews"),
        (False, False, True, True, True, "missing"),  # friends only: the graph still places them
    ],
)
def test_brand_new_user(ds, fitted, events, texts, friends, miss_text, miss_behavior, source):
    fz, _ = fitted
    f = fz.transform(_new_user(ds, events, texts, friends))
    assert list(f.user_ids) == ["new-1"]
    for name in ("text", "behavior", "graph"):
        assert np.isfinite(f.blocks[name]).all()
    assert bool(f.missing["text"][0]) is miss_text
    assert bool(f.missing["behavior"][0]) is miss_behavior
    assert not f.missing["graph"][0]
    assert f.meta["text_source"].iloc[0] == source
    if not miss_behavior:
        row = f.frame("behavior").iloc[0]
        assert row["frequency"] == 4 and row["recency_days"] == 0.0


def test_fusion_state_round_trip(fitted):
    _, feats = fitted
    for pca in (None, 8):
        fusion = FeatureFusion(pca=pca)
        x = fusion.fit_transform(feats)
        back = FeatureFusion.from_state(*fusion.to_state())
        np.testing.assert_allclose(back.transform(feats), x, atol=1e-6)
        assert back.columns_ == fusion.columns_
