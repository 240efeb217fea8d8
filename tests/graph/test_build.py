import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.data import Dataset
from segrec.graph import (
    EVENT_WEIGHTS,
    build_user_graph,
    build_user_item_graph,
    modularity,
    normalize_adjacency,
)


def _tiny() -> Dataset:
    inter = pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "b", "c", "d", "d"],
            "item_id": ["x", "y", "x", "y", "z", "y", "y"],
            "timestamp": np.arange(7),
            "event": ["purchase", "view", "purchase", "purchase", "play", "rating", "rating"],
            "rating": [np.nan, np.nan, np.nan, np.nan, np.nan, 5.0, 1.0],
            "weight": [1.0, 1.0, 1.0, 1.0, 20.0, 1.0, 1.0],
        }
    )
    social = pd.DataFrame({"src": ["c", "e"], "dst": ["a", "f"], "kind": ["friend", "trust"]})
    return Dataset(interactions=inter, social=social)


def test_user_item_weights_follow_events_counts_and_ratings():
    ds = _tiny()
    g = build_user_item_graph(ds)
    m = g.matrix.toarray()
    a, x, y = ds.user_codes(["a"])[0], ds.item_codes(["x"])[0], ds.item_codes(["y"])[0]
    assert m[a, x] == EVENT_WEIGHTS["purchase"]
    assert m[a, y] == EVENT_WEIGHTS["view"]
    c, z = ds.user_codes(["c"])[0], ds.item_codes(["z"])[0]
    assert np.isclose(m[c, z], 1 + np.log(20.0))  # play count
    d = ds.user_codes(["d"])[0]
    assert np.isclose(m[d, y], 1.0 + 0.2)  # 5 stars + 1 star, summed
    assert g.matrix.indices.dtype == np.int32 and g.matrix.dtype == np.float32
    assert build_user_item_graph(ds, "binary").matrix.max() == 1.0


def test_user_graph_symmetric_with_social_and_isolated_users():
    ds = _tiny()
    order = pd.Index(["f", "e", "d", "c", "b", "a", "new"])
    g = build_user_graph(ds, co="jaccard", topk=5, threshold=0.0, user_ids=order)
    a = g.adjacency.toarray()
    assert np.allclose(a, a.T) and np.all(np.diag(a) == 0)
    pos = {u: i for i, u in enumerate(order)}
    assert np.isclose(a[pos["a"], pos["b"]], 1.0 / 3.0 + 0.0) or a[pos["a"], pos["b"]] > 0
    assert a[pos["c"], pos["a"]] >= 1.0  # friend tie (weight 1)
    assert a[pos["e"], pos["f"]] == 1.0  # directed trust becomes undirected
    assert g.isolated[pos["new"]] and g.meta["isolated"] == 1
    assert g.adjacency.indices.dtype == np.int32


def test_jaccard_matches_brute_force_and_is_chunk_independent():
    rng = np.random.default_rng(3)
    rows, cols = np.nonzero(rng.random((40, 25)) < 0.15)
    inter = pd.DataFrame(
        {
            "user_id": [f"u{r:02d}" for r in rows],
            "item_id": [f"i{c:02d}" for c in cols],
            "timestamp": 0,
            "event": "purchase",
        }
    )
    ds = Dataset(interactions=inter)
    n = ds.n_users
    b = ds.interaction_matrix("binary").toarray()
    both = b @ b.T
    size = b.sum(1)
    jac = both / np.maximum(size[:, None] + size[None, :] - both, 1)
    np.fill_diagonal(jac, 0)
    # no top-k cut: exactly the thresholded Jaccard matrix, whatever the chunking
    full = build_user_graph(ds, social=False, topk=n, threshold=0.1, chunk_rows=7).adjacency
    assert np.allclose(full.toarray(), np.where(jac >= 0.1, jac, 0.0), atol=1e-6)
    k = 2
    g1 = build_user_graph(ds, social=False, topk=k, threshold=0.1, chunk_rows=7).adjacency
    g2 = build_user_graph(ds, social=False, topk=k, threshold=0.1, chunk_rows=1000).adjacency
    assert (g1 != g2).nnz == 0
    kth = -np.sort(-jac, axis=1)[:, k - 1]
    for i, j in zip(*g1.nonzero(), strict=True):
        assert jac[i, j] >= min(kth[i], kth[j]) - 1e-6  # in the top k of one end
    deg = np.diff(g1.indptr)
    assert np.all(deg >= np.minimum(k, (jac >= 0.1).sum(1)))


def test_normalize_adjacency_and_modularity():
    a = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], float))
    n = normalize_adjacency(a).toarray()
    assert np.allclose(n, n.T)
    assert np.isclose(np.linalg.eigvalsh(n).max(), 1.0, atol=1e-5)
    iso = normalize_adjacency(sp.csr_matrix((3, 3))).toarray()
    assert np.allclose(iso, np.eye(3))
    assert np.isclose(modularity(a, [0, 0, 1, 1]), 0.5)
    assert modularity(a, [0, 1, 0, 1]) < 0
