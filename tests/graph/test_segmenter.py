"""The GNN segmenter and the fused features beat k-means on text alone (planted personas)."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from segrec.graph import GNNSegmenter, graph_embeddings
from segrec.graph._inputs import InputFuser

from ._planted import planted_world, text_features

MARGIN = 0.1


def _agreement(truth: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    return adjusted_rand_score(truth, labels), normalized_mutual_info_score(truth, labels)


@pytest.fixture(scope="module")
def world():
    ds = planted_world(p_text=0.15)
    tf = text_features(ds)
    truth = ds.truth.reindex(ds.user_ids).to_numpy()
    text_only = KMeans(6, n_init=10, random_state=0).fit_predict(tf.block("text"))
    return ds, tf, truth, _agreement(truth, text_only)


@pytest.fixture(scope="module")
def fitted(world):
    ds, tf, _, _ = world
    model = GNNSegmenter(n_segments=6, epochs=10, refine_epochs=5, random_state=0)
    return model, model.fit(tf, ds)


def test_gnn_segmenter_beats_text_kmeans(world, fitted):
    _, _, truth, (ari_text, nmi_text) = world
    _, seg = fitted
    ari, nmi = _agreement(truth, seg.labels)
    assert ari >= ari_text + MARGIN and nmi >= nmi_text + MARGIN, (ari, nmi, ari_text, nmi_text)


def test_fused_features_with_graph_block_beat_text_kmeans(world):
    ds, tf, truth, (ari_text, nmi_text) = world
    g = graph_embeddings(ds, tf, dim=16, epochs=10, random_state=0)
    fused = tf.with_block("graph", g.block("graph"), g.missing["graph"])
    x = InputFuser().fit(fused).transform(fused)
    ari, nmi = _agreement(truth, KMeans(6, n_init=10, random_state=0).fit_predict(x))
    assert ari >= ari_text + MARGIN and nmi >= nmi_text + MARGIN, (ari, nmi, ari_text, nmi_text)


def test_segmentation_contract_and_isolated_users(world, fitted):
    ds, tf, _, _ = world
    model, seg = fitted
    assert seg.method == "gnn" and list(seg.user_ids) == list(tf.user_ids)
    assert seg.soft.shape == (ds.n_users, 6) and np.allclose(seg.soft.sum(1), 1.0)
    assert np.allclose(seg.strength, seg.soft.max(1))
    assert np.array_equal(seg.labels, seg.soft.argmax(1))
    assert seg.centers.shape == (6, model.config.out_dim)
    assert model.embeddings_.shape == (ds.n_users, model.config.out_dim)
    assert seg.meta["isolated_users"] == seg.meta["graph"]["isolated"]
    assert seg.meta["pretrain_loss"] and "modularity" in seg.quality
    # new users without a graph are embedded from their own features and still assigned
    new = model.predict(tf.subset(list(tf.user_ids[:20])))
    assert new.labels.shape == (20,) and np.allclose(new.soft.sum(1), 1.0)
    # the training users, propagated over the same graph, get the labels fit gave them
    again = model.predict(tf, ds)
    assert np.array_equal(again.labels, seg.labels)


def test_same_seed_same_labels_and_graph_only_input():
    ds = planted_world(groups=3, per_group=20, seed=4)
    a = GNNSegmenter(n_segments=3, epochs=3, refine_epochs=2, random_state=7).fit(None, ds)
    b = GNNSegmenter(n_segments=3, epochs=3, refine_epochs=2, random_state=7).fit(None, ds)
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.soft, b.soft)
    assert list(a.user_ids) == list(ds.user_ids)


def test_auto_k_in_range():
    ds = planted_world(groups=3, per_group=20, seed=5)
    seg = GNNSegmenter(epochs=3, refine_epochs=1, k_range=(2, 5)).fit(text_features(ds, 8), ds)
    assert 2 <= seg.k <= 5 and seg.meta["k_selection"]


@pytest.mark.slow
def test_synthetic_world_if_available():
    synthetic = pytest.importorskip("segrec.data.synthetic")
    if not hasattr(synthetic, "generate"):
        pytest.skip("segrec.data.synthetic.generate is not there yet")
    ds = synthetic.generate(users=400, seed=0)
    if ds.truth is None or ds.texts.empty:
        pytest.skip("this synthetic world has no personas or texts")
    tf = text_features(ds, 16)
    truth = ds.truth.reindex(ds.user_ids).astype(str).to_numpy()
    k = len(np.unique(truth))
    ari_text, _ = _agreement(
        truth, KMeans(k, n_init=10, random_state=0).fit_predict(tf.block("text"))
    )
    seg = GNNSegmenter(n_segments=k, epochs=10, refine_epochs=5).fit(tf, ds)
    ari, _ = _agreement(truth, seg.labels)
    assert ari >= ari_text + MARGIN, (ari, ari_text)


def test_same_seed_same_segments_at_any_thread_budget():
    """A busy machine (budget 1) and a quiet one (budget 2) give the same fit: the k sweep and
    the k-means start run at a fixed thread count (their float sums depend on it)."""
    from threadpoolctl import threadpool_limits

    ds = planted_world(groups=4, per_group=150, seed=6)
    fits = []
    for budget in (1, 2):
        with threadpool_limits(limits=budget):
            seg = GNNSegmenter(epochs=2, refine_epochs=2, k_range=(2, 4), random_state=3)
            fits.append(seg.fit(None, ds))
    a, b = fits
    assert a.meta["k_selection"] == b.meta["k_selection"]
    assert np.array_equal(a.centers, b.centers) and np.array_equal(a.soft, b.soft)
