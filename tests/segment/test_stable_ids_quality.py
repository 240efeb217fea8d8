"""Stable ids across refits, quality indices, fusion and label files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segrec.diagnostics import UsageError
from segrec.segment import (
    KMeansSegmenter,
    bootstrap_stability,
    get_segmenter,
    internal_quality,
    make_fusion,
    match_segment_ids,
)
from segrec.testing import planted_features


def test_refit_keeps_ids_and_names_after_shuffle():
    feats, _ = planted_features(seed=1)
    first = KMeansSegmenter(k=4, random_state=0).fit(feats)
    first = first.__class__(**{**first.__dict__, "names": {0: "zero", 1: "one"}})
    # refit on the users in another order with another seed: raw ids would be permuted
    perm = np.random.default_rng(5).permutation(feats.n_users)
    shuffled = feats.subset(feats.user_ids[perm])
    refit = KMeansSegmenter(k=4, random_state=7).fit(shuffled, previous=first)
    old = first.series()
    new = refit.series().reindex(old.index)
    assert (old == new).mean() > 0.95
    assert refit.names.get(0) == "zero" and refit.names.get(1) == "one"


def test_new_segment_gets_fresh_id():
    old = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    new = np.array([[0, 1.0, 0.1], [0, 0, 1.0], [1.0, 0.1, 0]])
    m = match_segment_ids(new, old)
    assert m == {0: 1, 2: 0, 1: 2}


def test_predict_uses_stable_ids():
    feats, _ = planted_features(seed=2)
    first = KMeansSegmenter(k=4, random_state=0).fit(feats)
    seg = KMeansSegmenter(k=4, random_state=3)
    refit = seg.fit(feats, previous=first)
    assert (seg.predict(feats) == refit.labels).mean() > 0.95


def test_internal_quality_prefers_true_partition():
    feats, truth = planted_features()
    x = make_fusion(feats, None, {}).fit_transform(feats)
    good = internal_quality(x, truth.astype(int).to_numpy())
    bad = internal_quality(x, np.random.default_rng(0).integers(0, 4, feats.n_users))
    assert good["silhouette"] > bad["silhouette"] + 0.2
    assert good["davies_bouldin"] < bad["davies_bouldin"]
    assert good["calinski_harabasz"] > bad["calinski_harabasz"]


def test_bootstrap_stability_high_for_clear_low_for_noise():
    from sklearn.cluster import KMeans

    def fp(train, allx):
        return KMeans(4, n_init=1, random_state=1).fit(train).predict(allx)

    feats, _truth = planted_features()
    x = make_fusion(feats, None, {}).fit_transform(feats)
    ref = KMeans(4, n_init=1, random_state=0).fit_predict(x)
    noise = np.random.default_rng(0).normal(size=x.shape)
    ref_n = KMeans(4, n_init=1, random_state=0).fit_predict(noise)
    assert bootstrap_stability(fp, x, ref)["stability"] > 0.9
    assert bootstrap_stability(fp, noise, ref_n)["stability"] < 0.8


def test_auto_k_reports_sweep_and_recovers_k():
    feats, truth = planted_features(k=5, seed=3)
    s = get_segmenter("kmeans", k="auto", k_max=9, random_state=0).fit(feats)
    assert s.quality["k_selected"] == 5
    ks = [r["k"] for r in s.quality["k_sweep"] if "k" in r]
    assert ks == list(range(2, 10))
    assert adjusted_rand_score(truth, s.labels) > 0.9


def test_blocks_option_selects_blocks():
    feats, _truth = planted_features()
    only_beh = get_segmenter("kmeans", k=4, blocks=["behavior"]).fit(feats)
    assert only_beh.meta["config"]["blocks"] == ["behavior"]
    with pytest.raises(UsageError, match="not in these features"):
        get_segmenter("kmeans", k=4, blocks=["graph"]).fit(feats)


def test_errors_name_the_fix(tmp_path):
    with pytest.raises(UsageError, match="unknown segmenter method 'nope'"):
        get_segmenter("nope")
    feats, _ = planted_features()
    with pytest.raises(UsageError, match="labels"):
        get_segmenter("tree").fit(feats)
    with pytest.raises(UsageError, match="larger than the number of users"):
        KMeansSegmenter(k=500).fit(feats)
    f = tmp_path / "l.csv"
    f.write_text("id,x\n1,2\n")
    with pytest.raises(UsageError, match="expected user_id and segment"):
        get_segmenter("tree", labels_path=str(f)).fit(feats)


def test_supervised_from_file_predicts_unlabelled_users(tmp_path):
    feats, truth = planted_features()
    known = truth.iloc[::2]
    path = tmp_path / "crm.csv"
    pd.DataFrame({"user_id": known.index, "segment": "tier_" + known}).to_csv(path, index=False)
    seg = get_segmenter("forest", labels_path=str(path), n_estimators=30)
    s = seg.fit(feats)
    unl = ~truth.index.isin(known.index)
    assert adjusted_rand_score(truth[unl], s.labels[unl]) > 0.8
    assert set(s.meta["label_names"].values()) == {"tier_0", "tier_1", "tier_2", "tier_3"}


def test_density_flags_noise_and_assigns_it():
    feats, _ = planted_features()
    rng = np.random.default_rng(9)
    x = np.vstack(
        [make_fusion(feats, None, {}).fit_transform(feats), rng.uniform(-3, 3, size=(20, 20))]
    )
    s = get_segmenter("hdbscan", min_cluster_size=15).fit(x)
    assert s.noise is not None and s.noise[-20:].mean() > 0.5
    assert (s.labels >= 0).all()
    assert (s.strength[s.noise] <= 0.5).all()
