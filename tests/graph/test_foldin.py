"""Graph fold-in: new users embedded through the trained GCN without recomputing the graph."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from segrec.data import Dataset
from segrec.data._dataset import _decat

from ._planted import planted_world, text_features

pytest.importorskip("torch")

from segrec.graph import GNNSegmenter, GraphEmbedder, GraphFoldIn


@pytest.fixture(scope="module")
def world():
    ds = planted_world(groups=4, per_group=40, seed=2)
    return ds, text_features(ds)


@pytest.fixture(scope="module")
def embedder(world):
    ds, tf = world
    emb = GraphEmbedder(dim=16, epochs=5)
    return emb, emb.fit_transform(ds, tf)


def _own_rows(ds: Dataset, users: list[str]) -> Dataset:
    inter, soc = _decat(ds.interactions), _decat(ds.social)
    return Dataset(
        interactions=inter[inter.user_id.isin(users)],
        social=soc[soc.src.isin(users)],
        name="users",
    )


def _roundtrip(state, tmp_path, name):
    meta, arrays = state
    assert all(a.dtype != object for a in arrays.values())
    (tmp_path / f"{name}.json").write_text(json.dumps(meta))
    np.savez(tmp_path / f"{name}.npz", **arrays)
    with np.load(tmp_path / f"{name}.npz", allow_pickle=False) as npz:
        return json.loads((tmp_path / f"{name}.json").read_text()), {k: npz[k] for k in npz.files}


def test_training_users_get_their_fit_rows_and_vectors(world, embedder):
    ds, tf = world
    emb, g = embedder
    fold: GraphFoldIn = emb.foldin_
    rows = fold.neighbours(_own_rows(ds, list(ds.user_ids)), ds.user_ids)
    assert abs(rows - fold.adjacency_).max() == 0  # the same neighbours and weights as the fit
    again = emb.transform(_own_rows(ds, list(ds.user_ids)), tf)
    np.testing.assert_allclose(again.block("graph"), g.block("graph"), atol=1e-5)
    u = str(ds.user_ids[7])  # one user alone
    one = emb.transform(_own_rows(ds, [u]), tf.subset([u]))
    np.testing.assert_allclose(one.block("graph")[0], g.block("graph")[7], atol=1e-5)


def test_new_user_row_and_normalisation(world, embedder):
    """A newcomer's row: Jaccard against known users' item sets (its unknown items count in the
    union), plus the friends it names; a_hat = a / sqrt(d_u d_j) with the fit-time d_j."""
    ds, _ = world
    emb, _ = embedder
    fold = emb.foldin_
    donor = str(ds.user_ids[3])
    items = _decat(ds.interactions).query("user_id == @donor").item_id.unique().tolist()
    friend = str(ds.user_ids[100])
    new = Dataset(
        interactions=pd.DataFrame(
            {
                "user_id": "new",
                "item_id": [*items, "brand-new"],
                "timestamp": 0,
                "event": "purchase",
            }
        ),
        social=pd.DataFrame({"src": ["new"], "dst": [friend], "kind": "friend"}),
    )
    rows = fold.neighbours(new, pd.Index(["new"]))
    j = fold.user_ids_.get_loc(donor)
    assert rows[0, j] == pytest.approx(len(items) / (len(items) + 1))
    assert rows[0, fold.user_ids_.get_loc(friend)] >= 1.0
    x = np.random.default_rng(0).normal(size=(1, fold.states_[0].shape[1])).astype(np.float32)
    z = fold.embed(x, rows)
    # the same by hand, layer by layer
    d_u = 1.0 + rows.sum()
    a_hat = np.asarray(rows.todense()).ravel() / np.sqrt(d_u) * fold.inv_sqrt_deg_
    h = x[0]
    for layer, (w, b) in enumerate(fold.layers_):
        h = (a_hat @ fold.states_[layer] + h / d_u) @ w.T + b
        h = np.maximum(h, 0) if layer < len(fold.layers_) - 1 else h
    np.testing.assert_allclose(z[0], h, rtol=1e-4, atol=1e-5)
    isolated = fold.embed(x, sp.csr_matrix((1, len(fold.user_ids_)), dtype=np.float32))
    assert np.isfinite(isolated).all()


def test_one_new_users_events_route_equals_the_general_route(world, embedder):
    """An online newcomer's events (their arrays, no Dataset) give the same neighbours and,
    bit for bit, the same vector as the general route through a one-user Dataset: the online
    route builds its row without the general route's sparse intermediates, and ``embed``
    adds neighbours in column order whatever order built the row."""
    from segrec.data._one_user import plain_events

    ds, _ = world
    emb, _ = embedder
    fold: GraphFoldIn = emb.foldin_
    items = np.asarray(_decat(ds.interactions).item_id.unique())
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, fold.states_[0].shape[1])).astype(np.float32)
    linked = 0
    for _ in range(60):
        picked = rng.choice(items, int(rng.integers(1, 9)), replace=False)
        one = plain_events("anon", [{"item_id": str(i)} for i in picked], 1_700_000_000)
        fast = fold.neighbours(one, pd.Index(["anon"]))
        general = fold.neighbours(one.dataset(), pd.Index(["anon"]))
        assert abs(fast - general).max() == 0 if general.nnz else fast.nnz == 0
        assert fast.has_sorted_indices
        linked += fast.nnz > 0
        a, _ = fold.transform(one, pd.Index(["anon"]), x)
        b, _ = fold.transform(one.dataset(), pd.Index(["anon"]), x)
        np.testing.assert_array_equal(a, b)
    assert linked > 30  # the check covered newcomers with neighbours


def test_newcomers_who_only_wrote_have_no_edges(world, embedder):
    """A newcomer with texts but no interaction and no friend gets an empty row on the short
    path, as on the general one (beside a user who has interactions, so it runs in full)."""
    ds, _ = world
    emb, _ = embedder
    fold: GraphFoldIn = emb.foldin_
    texts = pd.DataFrame({"user_id": ["writer"], "text": ["warm strings"]})
    short = fold.neighbours(Dataset(texts=texts), pd.Index(["writer"]))
    donor = str(ds.user_ids[3])
    both = Dataset(
        interactions=_own_rows(ds, [donor]).interactions.assign(user_id="reader"),
        texts=texts,
    )
    full = fold.neighbours(both, pd.Index(["writer", "reader"]))
    assert short.shape == (1, len(fold.user_ids_)) and short.nnz == 0
    assert full[0].nnz == 0 and full[1].nnz > 0


def test_graph_embedder_state_round_trip(world, embedder, tmp_path):
    ds, tf = world
    emb, _ = embedder
    back = GraphEmbedder.from_state(*_roundtrip(emb.to_state(), tmp_path, "graph"))
    users = _own_rows(ds, list(ds.user_ids[:30]))
    sub = tf.subset(list(ds.user_ids[:30]))
    np.testing.assert_array_equal(
        back.transform(users, sub).block("graph"), emb.transform(users, sub).block("graph")
    )


def test_gnn_segmenter_fold_in_and_state(world, tmp_path):
    from segrec.segment import get_segmenter

    ds, tf = world
    adapter = get_segmenter("gnn", k=4, epochs=5, refine_epochs=3, random_state=0)
    seg = adapter.fit(tf, ds)
    inner = adapter._inner
    again = inner.predict(tf, _own_rows(ds, list(ds.user_ids)))  # own rows, fold-in
    assert (again.labels == inner.labels_).mean() >= 0.99
    np.testing.assert_allclose(again.soft, seg.soft, atol=1e-4)
    assert (adapter.predict(tf) == seg.labels).mean() >= 0.99  # fit-time rows, no dataset
    meta, arrays = _roundtrip(adapter.to_state(), tmp_path, "gnn")
    back = type(adapter).from_state(meta, arrays)
    users = _own_rows(ds, list(ds.user_ids[:25]))
    sub = tf.subset(list(ds.user_ids[:25]))
    np.testing.assert_array_equal(back.predict(sub, users), adapter.predict(sub, users))
    plain = GNNSegmenter.from_state(meta["inner"], arrays)
    np.testing.assert_array_equal(plain.predict(sub, users).soft, inner.predict(sub, users).soft)
