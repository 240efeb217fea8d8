"""The evaluation's named segmentations keep a fitted assigner that gives any user a segment."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from segrec.data import load_dataset
from segrec.evaluate._assigners import SEGMENTATIONS, load_assigner
from segrec.evaluate._config import SEGMENTATIONS as CONFIG_SEGMENTATIONS
from segrec.evaluate._segmentations import PhaseArtifacts, build_segmentation
from segrec.features import TextEmbedder, build_user_features

NAMES = ["random", "rfm", "behavior", "demographic", "text", "fused"]
EXACT = {"random", "rfm", "behavior", "demographic"}


@pytest.fixture(scope="module")
def built():
    ds, _ = load_dataset("synthetic:users=600,seed=1")
    art = PhaseArtifacts(ds, features=build_user_features(ds, TextEmbedder(backend="tfidf-svd")))
    segs = {n: build_segmentation(n, art, 0, 8, {"k": 6} if n != "random" else None) for n in NAMES}
    assert all(s is not None for s in segs.values()), art.skipped
    return art, segs


def _on_fit_users(art, name, seg):
    det = art.assigners[name].predict_detail(art.features, art.dataset)
    pos = det.user_ids.get_indexer(seg.user_ids.astype(str))
    assert (pos >= 0).all()
    return det, pos


@pytest.mark.parametrize("name", NAMES)
def test_assigner_reproduces_the_segmentation(built, name):
    art, segs = built
    det, pos = _on_fit_users(art, name, segs[name])
    agree = float((det.labels[pos] == segs[name].labels).mean())
    assert agree == 1.0 if name in EXACT else agree >= 0.99


@pytest.mark.parametrize("name", NAMES)
def test_assigner_one_user(built, name):
    art, segs = built
    ds = art.dataset
    u = str(segs[name].user_ids[5])
    one_ds = ds.replace(
        interactions=ds.interactions[ds.interactions.user_id.astype(str) == u],
        users=ds.users[ds.users.user_id.astype(str) == u],
        texts=ds.texts[ds.texts.user_id.astype(str) == u],
    )
    one = art.assigners[name].predict_detail(art.features.subset([u]), one_ds)
    assert one.labels.shape == (1,)
    if name != "rfm":  # rfm: `now` is the fit's, the rest of the history the user's own
        assert one.labels[0] == segs[name].labels[5]


@pytest.mark.parametrize("name", NAMES)
def test_assigner_state_round_trip(built, name, tmp_path):
    art, _ = built
    meta, arrays = art.assigners[name].to_state()
    (tmp_path / "a.json").write_text(json.dumps(meta))
    np.savez(tmp_path / "a.npz", **arrays)
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        back = load_assigner(json.loads((tmp_path / "a.json").read_text()), {k: z[k] for k in z})
    a = art.assigners[name].predict_detail(art.features, art.dataset)
    b = back.predict_detail(art.features, art.dataset)
    assert np.array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.strength, b.strength)


def test_unknown_users_get_no_segment_where_the_rule_needs_data(built):
    art, _ = built
    ds = art.dataset
    empty = ds.replace(interactions=ds.interactions.iloc[:0], users=ds.users.iloc[:0])
    for name in ("behavior", "demographic"):
        det = art.assigners[name].predict_detail(
            art.features.subset(art.features.user_ids[:3]), empty
        )
        assert len(det) == 3 and (det.labels == -1).all() and np.isnan(det.distance).all()


def test_one_catalogue():
    assert tuple(SEGMENTATIONS) == tuple(CONFIG_SEGMENTATIONS)
