"""Issue 5 "done when" checks on the synthetic world (fast features: tfidf-svd + behaviour)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segrec.segment import get_segmenter

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _world(users: int, seed: int):
    from segrec.data.synthetic import generate
    from segrec.features._fusion import build_user_features
    from segrec.features._text import TextEmbedder

    ds = generate(users=users, seed=seed)
    feats = build_user_features(ds, TextEmbedder(backend="tfidf-svd", use_cache=False))
    return ds, feats


@pytest.fixture(scope="module")
def world():
    return _world(600, 4)


def test_same_seed_identical_segments(world):
    ds, feats = world
    a = get_segmenter("kmeans", k=7, random_state=11).fit(feats, ds)
    b = get_segmenter("kmeans", k=7, random_state=11).fit(feats, ds)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.strength, b.strength)


def test_segments_carry_persona_signal(world):
    ds, feats = world
    s = get_segmenter("kmeans", k=ds.truth.nunique(), random_state=0).fit(feats, ds)
    assert "ari" in s.quality and "nmi" in s.quality
    assert s.quality["nmi"] > 0.05  # far above a random partition (~0.01 at this size)


def test_block_scaling_keeps_embedding_spectrum():
    from segrec.features import FeatureFusion, UserFeatures

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)) * np.array([5.0, 1.0, 0.1])  # one strong, one noise axis
    beh = rng.normal(size=(400, 2)) * np.array([100.0, 0.01])
    uf = UserFeatures(
        pd.Index([f"u{i}" for i in range(400)]),
        {"text": x, "behavior": beh},
        {},
        {"behavior": ["a", "b"]},
        {},
    )
    out = FeatureFusion(indicators=False).fit_transform(uf)  # default "auto"
    cols = FeatureFusion(indicators=False).fit(uf).columns_
    t = out[:, [c.startswith("text:") for c in cols]]
    b = out[:, [c.startswith("behavior:") for c in cols]]
    # embedding block: one scale (ratios of column spreads kept), total variance 1
    assert t.std(0)[0] / t.std(0)[2] == pytest.approx(50.0, rel=0.05)
    assert (t.var(0)).sum() == pytest.approx(1.0, rel=1e-3)
    # named columns: standardised per column (units differ), total variance 1
    assert b.std(0)[0] == pytest.approx(b.std(0)[1], rel=1e-3)
    assert (b.var(0)).sum() == pytest.approx(1.0, rel=1e-3)


def test_item_profiles_are_mapped_into_review_space(world):
    """Silent users' item-text profiles must land among reviewers of their persona, not in a
    region of their own (k-means would split users by text source instead of taste)."""
    from segrec.features._profiles import item_embeddings, user_text_profiles
    from segrec.features._text import TextEmbedder

    ds, _ = world
    emb = TextEmbedder(backend="tfidf-svd", use_cache=False)
    tv = emb.encode(ds.texts["text"].tolist())
    iv = item_embeddings(ds, emb)
    truth = ds.truth.reindex(ds.user_ids.astype(str)).astype(str).to_numpy()

    def centroid_accuracy(alpha: float) -> float:
        prof = user_text_profiles(ds, tv, item_vectors=iv, align_alpha=alpha)
        rev, sil = prof.source == "reviews", prof.source == "items"
        assert rev.sum() > 50 and sil.sum() > 50
        names = np.unique(truth[rev])
        cents = np.stack([prof.vectors[rev & (truth == n)].mean(0) for n in names])
        pred = names[np.argmax(prof.vectors[sil] @ cents.T, axis=1)]
        return float((pred == truth[sil]).mean())

    def kmeans_ari(alpha: float) -> tuple[float, float]:
        """k-means (k=7) on text profiles: ARI against text source and against persona."""
        from sklearn.cluster import KMeans

        prof = user_text_profiles(ds, tv, item_vectors=iv, align_alpha=alpha)
        m = prof.source != "missing"
        lab = KMeans(7, n_init=4, random_state=0).fit_predict(prof.vectors[m])
        return adjusted_rand_score(prof.source[m], lab), adjusted_rand_score(truth[m], lab)

    # with sharp persona category mixes raw item profiles already point the right way
    # (centroid accuracy ~0.63 either way, seed 4); alignment must not hurt that ...
    assert centroid_accuracy(1.0) >= centroid_accuracy(0.0) - 0.03
    assert centroid_accuracy(1.0) > 1.5 / 7  # well above chance among 7 personas
    # ... and must pull silent users into the persona clusters rather than a source region
    # (measured seed 4, tfidf dim 64: source ARI 0.025 -> 0.005, persona ARI 0.515 -> 0.641;
    # dim 256: source 0.158 -> 0.014, persona 0.388 -> 0.463)
    (src_raw, truth_raw), (src_al, truth_al) = kmeans_ari(0.0), kmeans_ari(1.0)
    assert src_al < 0.05 and src_al < src_raw
    assert truth_al > truth_raw + 0.05


def test_text_block_alone_carries_persona_signal(world):
    ds, feats = world
    s = get_segmenter("kmeans", k=7, random_state=0, blocks=["text"]).fit(feats, ds)
    lab = s.labels
    t = ds.truth.reindex(feats.user_ids.astype(str)).astype(str).to_numpy()
    assert adjusted_rand_score(t, lab) > 0.1


def _train_world(seed: int):
    from segrec.data import temporal_split
    from segrec.data.synthetic import generate
    from segrec.features._fusion import build_user_features
    from segrec.features._text import TextEmbedder

    ds = generate(users=2000, seed=seed)
    train = temporal_split(ds).train_dataset()
    feats = build_user_features(train, TextEmbedder(backend="tfidf-svd", use_cache=False))
    return ds, feats.subset(feats.user_ids[feats.meta["text_source"].to_numpy() != "missing"])


@pytest.mark.slow
def test_auto_k_near_planted_and_fused_beats_behaviour():
    """Text + behaviour without the graph block (guard against regressions; the issue's
    target, with the graph block, is the next test). Measured seed 0: auto-k 6, ARI 0.54; k=7
    fused 0.645, text 0.564, behaviour 0.480."""
    ds, feats = _train_world(0)
    s = get_segmenter("kmeans", k="auto", random_state=0).fit(feats, ds)
    planted = ds.truth.nunique()
    assert abs(s.quality["k_selected"] - planted) <= 1
    assert s.quality["ari"] >= 0.4
    fused = get_segmenter("kmeans", k=planted, random_state=0).fit(feats, ds)
    beh = get_segmenter("kmeans", k=planted, random_state=0, blocks=["behavior"]).fit(feats, ds)
    assert fused.quality["ari"] >= beh.quality["ari"] + 0.1


def _fused_with_graph(seed: int):
    """Text + behaviour + the GCN block (the GCN propagates the text + behaviour features over
    the user graph: co-purchase Jaccard neighbours and friend ties)."""
    pytest.importorskip("torch")
    from segrec.data import temporal_split
    from segrec.graph import graph_embeddings

    ds, feats = _train_world(seed)
    train = temporal_split(ds).train_dataset()
    g = graph_embeddings(train, feats, dim=32, epochs=20, random_state=0)
    gi = g.user_ids.get_indexer(feats.user_ids)
    return ds, feats.with_block("graph", g.block("graph")[gi], g.missing["graph"][gi])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_done_when_auto_k_and_ari(seed):
    """Issue 5: auto-k finds the 7 personas (+-1) and fused features reach ARI >= 0.8.

    Measured (generate(users=2000), train period, users with train activity, tfidf-svd text,
    graph block at its default weight 2): auto-k 7 and ARI 0.847 (seed 0), 0.858 (seed 1);
    on seeds 2 / 3, not used to choose the weight: 0.840 / 0.829. Without the graph block the
    same features reach 0.645 / 0.618 at k=7: ~30% of active users never buy, so they have
    no review and few events, and only their graph neighbours place them (ARI of that group
    0.40 -> 0.59 with the graph block at weight 1)."""
    ds, feats = _fused_with_graph(seed)
    s = get_segmenter("kmeans", k="auto", random_state=0).fit(feats, ds)
    planted = ds.truth.nunique()
    assert abs(s.quality["k_selected"] - planted) <= 1
    assert s.quality["ari"] >= 0.8
    # text or behaviour alone are well below the fusion (the graph block alone is not: it is
    # itself the GCN's fusion of both, at ARI 0.877 / 0.883)
    for block in ("text", "behavior"):
        one = get_segmenter("kmeans", k=planted, random_state=0, blocks=[block]).fit(feats, ds)
        assert one.quality["ari"] <= s.quality["ari"] - 0.1
    again = get_segmenter("kmeans", k="auto", random_state=0).fit(feats, ds)
    np.testing.assert_array_equal(s.labels, again.labels)
