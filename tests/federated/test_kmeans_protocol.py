"""The federated k-means protocol without any transport: masks, sums, updates, accounting."""

from __future__ import annotations

import numpy as np
import pytest

from segrec.diagnostics import UsageError
from segrec.federated import (
    FederatedClient,
    FederatedServer,
    calibrate_sigma,
    clip_rows,
    ledger,
    local_vector,
    wire_summary,
)
from segrec.federated._secagg import decode, encode


def _blobs(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [1.5, 1.5], [-1.5, 1.5]])
    return np.vstack([c + 0.2 * rng.standard_normal((60, 2)) for c in centres])


def _run(x: np.ndarray, n_clients: int, sigma: float = 0.0) -> tuple[FederatedServer, list]:
    parts = np.array_split(np.random.default_rng(1).permutation(len(x)), n_clients)
    clients = [FederatedClient(i, x[p], 3.0, n_clients) for i, p in enumerate(parts)]
    server = FederatedServer(x[[0, 70, 130]], rounds=5, clip=3.0, sigma=sigma)
    server.collect_keys([c.setup() for c in clients])
    sent = []
    for r in range(1, 6):
        replies = [c.round(server.round_message(r)) for c in clients]
        sent += replies
        server.aggregate(replies)
    return server, sent


def test_masks_hide_each_vector_and_cancel_in_the_sum() -> None:
    x = _blobs()
    server, sent = _run(x, 4)
    # what one client sends is no longer its statistics: the decoded vector is far off
    centres = np.asarray(server.round_message(1)["centers"])
    first = sent[0]
    assert set(first) == {"client_id", "round", "stats"} and first["stats"].dtype == np.uint64
    assert wire_summary(first)["stats"] == ["ndarray", "uint64", [3 * 2 + 3]]
    assert np.abs(decode(first["stats"])).max() > 1e6  # uniform masks, not sums of ~60 rows
    # and the centres are exactly Lloyd's on the union of the clients' rows
    from sklearn.cluster import KMeans

    km = KMeans(3, init=x[[0, 70, 130]], n_init=1, max_iter=5, tol=0, algorithm="lloyd")
    km.fit(clip_rows(x, 3.0))
    np.testing.assert_allclose(server.centers, km.cluster_centers_, atol=1e-6)
    assert centres.shape == (3, 2)


def test_a_missing_reply_fails_the_round() -> None:
    x = _blobs()
    clients = [FederatedClient(i, x[i::3], 3.0, 3) for i in range(3)]
    server = FederatedServer(x[[0, 70, 130]], rounds=1, clip=3.0)
    server.collect_keys([c.setup() for c in clients])
    replies = [c.round(server.round_message(1)) for c in clients[:2]]
    with pytest.raises(RuntimeError, match="every client"):
        server.aggregate(replies)


def test_fixed_point_round_trip_and_local_vector() -> None:
    v = np.array([-3.25, 0.0, 1e6, 1 / 3])
    np.testing.assert_allclose(decode(encode(v)), v, atol=2**-23)
    x = np.array([[3.0, 4.0], [0.3, 0.4]])
    assert np.allclose(np.linalg.norm(clip_rows(x, 1.0), axis=1), [1.0, 0.5])
    out = local_vector(clip_rows(x, 1.0), np.array([[0.0, 0.0], [10.0, 10.0]]), 1.0)
    assert out.tolist() == pytest.approx([0.9, 1.2, 0.0, 0.0, 2.0, 0.0])


def test_noise_is_calibrated_by_opendp_to_the_asked_epsilon() -> None:
    sigma = calibrate_sigma(2.0, 1e-5, rounds=10, clip=3.0)
    book = ledger(2.0, 1e-5, 10, 3.0, sigma, n_clients=10, transport="local")
    assert book["differential_privacy"] and book["library"].startswith("opendp")
    assert book["epsilon_spent"] == pytest.approx(2.0, rel=1e-6)
    assert book["epsilon_spent"] <= 2.0 + 1e-12 and book["delta"] <= 1e-5
    # more rounds or a tighter budget need more noise
    assert calibrate_sigma(2.0, 1e-5, 20, 3.0) > sigma > calibrate_sigma(4.0, 1e-5, 10, 3.0)
    with pytest.raises(UsageError, match="dp-epsilon"):
        calibrate_sigma(0.0, 1e-5, 10, 3.0)
    plain = ledger(None, None, 10, 3.0, 0.0, 10, "local")
    assert plain["epsilon_spent"] is None and not plain["differential_privacy"]
