"""Every segmenter assigns new users (predict / predict_detail) and travels without pickle."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from segrec.data import load_dataset
from segrec.diagnostics import UsageError
from segrec.features import TextEmbedder, build_user_features
from segrec.segment import (
    SegmentAssignment,
    get_segmenter,
    segmenter_from_state,
    segmenter_to_state,
)

SEGMENTERS = {
    "kmeans": {"k": 6},
    "minibatch": {"k": 6},
    "agglomerative": {},
    "hdbscan": {},
    "dbscan": {},
    "tree": {},
    "forest": {"n_estimators": 30},
}
EXACT = {"kmeans", "minibatch"}


@pytest.fixture(scope="module")
def shop():
    ds, _ = load_dataset("synthetic:users=600,seed=1")
    return ds, build_user_features(ds, TextEmbedder(backend="tfidf-svd"))


@pytest.fixture(scope="module")
def fitted(shop):
    ds, feats = shop
    out = {}
    for name, kw in SEGMENTERS.items():
        if name == "hdbscan":
            pytest.importorskip("hdbscan")
        seg = get_segmenter(name, **kw)
        extra = {"labels": ds.truth} if name in ("tree", "forest") else {}
        out[name] = (seg, seg.fit(feats, ds, **extra))
    return out


def _round_trip(seg, tmp_path):
    meta, arrays = segmenter_to_state(seg)
    (tmp_path / "seg.json").write_text(json.dumps(meta))
    np.savez(tmp_path / "seg.npz", **arrays)
    with np.load(tmp_path / "seg.npz", allow_pickle=False) as z:
        loaded = {k: z[k] for k in z.files}
    return segmenter_from_state(json.loads((tmp_path / "seg.json").read_text()), loaded)


@pytest.mark.parametrize("name", list(SEGMENTERS))
def test_predict_on_training_rows_reproduces_fit(fitted, shop, name):
    seg, fit = fitted[name]
    det = seg.predict_detail(shop[1])
    assert isinstance(det, SegmentAssignment)
    agree = float((det.labels == fit.labels).mean())
    assert agree == 1.0 if name in EXACT else agree >= 0.99
    same = det.labels == fit.labels
    np.testing.assert_allclose(det.strength[same], fit.strength[same], atol=1e-6)
    assert np.array_equal(seg.predict(shop[1]), det.labels)
    assert ((det.alternative != det.labels) | (det.alternative == -1)).all()
    assert np.isfinite(det.distance).all()


@pytest.mark.parametrize("name", list(SEGMENTERS))
def test_predict_one_user(fitted, shop, name):
    seg, _ = fitted[name]
    feats = shop[1]
    for i in (0, 17):
        one = seg.predict_detail(feats.subset([feats.user_ids[i]]))
        assert one.labels.shape == (1,) and one.labels[0] == seg.predict(feats)[i]
        assert list(one.user_ids) == [str(feats.user_ids[i])]


@pytest.mark.parametrize("name", list(SEGMENTERS))
def test_state_round_trip(fitted, shop, name, tmp_path):
    seg, _ = fitted[name]
    back = _round_trip(seg, tmp_path)
    a, b = seg.predict_detail(shop[1]), back.predict_detail(shop[1])
    assert type(back) is type(seg)
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.alternative, b.alternative)
    np.testing.assert_array_equal(a.strength, b.strength)
    np.testing.assert_array_equal(a.distance, b.distance)


def test_fitted_fusion_repeats_the_fit_matrix(fitted, shop):
    seg, _ = fitted["kmeans"]
    np.testing.assert_array_equal(seg.fusion_.transform(shop[1]), seg.fuser_.transform(shop[1]))


def test_fusion_layout_does_not_depend_on_rows(shop):
    """A user missing a block (the fit had some such users) keeps the fit's columns."""
    _, feats = shop
    miss = feats.missing["text"].copy()
    miss[:30] = True
    f2 = type(feats)(
        feats.user_ids, feats.blocks, {**feats.missing, "text": miss}, feats.columns, feats.meta
    )
    seg = get_segmenter("kmeans", k=4, missing_indicators=True)
    fit = seg.fit(f2)
    one = seg.predict_detail(f2.subset([f2.user_ids[100]]))  # has text: no indicator set
    assert one.labels[0] == fit.labels[100]
    gap = seg.predict_detail(f2.subset([f2.user_ids[0]]))  # the block missing for every row
    assert gap.labels[0] == fit.labels[0]


def test_dbscan_default_eps_finds_segments(fitted):
    _, fit = fitted["dbscan"]
    assert fit.k > 1
    assert fit.meta["eps"] > 0 and fit.meta["eps_rule"] == "scan"
    assert fit.meta["config"]["eps"] is None


def test_unsaveable_segmenter_is_named():
    class Odd:
        name = "odd"

    with pytest.raises(UsageError, match=r"'odd'.*cannot be saved"):
        segmenter_to_state(Odd())
    with pytest.raises(UsageError, match="registry entry"):
        segmenter_from_state({"registry": "nope"}, {})


def test_unfitted_segmenter_cannot_be_saved():
    with pytest.raises(UsageError, match="not fitted"):
        segmenter_to_state(get_segmenter("kmeans", k=2))
