"""Federated segmentation end to end: real client processes, the model folder, the ledger."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from segrec.data import load_dataset
from segrec.evaluate import EvalConfig
from segrec.federated import clip_rows, run_federated

LIGHT = EvalConfig(
    features={"embedder": {"backend": "tfidf-svd", "tfidf_dim": 16, "use_cache": False}},
    graph=None,
)


@pytest.fixture(scope="module")
def shop():
    ds, _ = load_dataset("synthetic:users=500,seed=7")
    return ds


def _labels(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)


def _stats_only(wire: list[dict], k: int, d: int) -> None:
    """Every client message is a key exchange or masked uint64 statistics: no rows, ids or
    texts cross the process boundary."""
    assert wire
    for msg in wire:
        content = msg["content"]
        flat = json.dumps(content)
        assert "user" not in flat and "text" not in flat and "item" not in flat
        if msg["round"] == 0:
            assert set(content) <= {"client_id", "public_key", "keys"}
        else:
            arrays = content.get("stats")
            if isinstance(arrays, list):  # local engine: one reply per client
                assert arrays == ["ndarray", "uint64", [k * (d + 1)]]
            else:  # Flower: one ArrayRecord per SuperNode, one array per hosted client
                for name, spec in arrays.items():
                    assert name.startswith("c") and spec == ["array", "uint64", [k * (d + 1)]]


def test_worker_processes_match_central_kmeans_and_write_a_model(shop, tmp_path: Path) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from segrec.model import load_model

    res = run_federated(
        shop, LIGHT, n_clients=4, rounds=6, k=5, engine="local", processes=2, out=tmp_path / "m"
    )
    x = clip_rows(res.features, res.ledger["clip_l2"])
    central = KMeans(5, init=res.init_centers, n_init=1, max_iter=6, tol=0, algorithm="lloyd")
    central.fit(x)
    assert adjusted_rand_score(central.labels_, _labels(x, res.centers)) >= 0.95
    _stats_only(res.wire, 5, x.shape[1])
    assert sum(m["round"] == 0 for m in res.wire) == 4
    # an ordinary model folder, whose segmenter uses the federated centres
    m = load_model(tmp_path / "m")
    assert m.info["chosen"]["segmentation"] == "fused" and m.info["federated"]["n_clients"] == 4
    np.testing.assert_allclose(m.assigner.segmenter.centers_, res.centers, atol=1e-5)
    assert len(m.recommend(m.user_ids[0], k=5).items[0]) == 5
    book = json.loads((tmp_path / "m" / "privacy_ledger.json").read_text())
    assert book["differential_privacy"] is False and len(book["history"]) == 6


def test_cli_with_noise_spends_exactly_the_asked_epsilon(tmp_path: Path) -> None:
    from segrec.cli import main

    with pytest.raises(SystemExit) as exc:
        main(
            [
                "federated", "--dataset", "synthetic:users=300,seed=3", "--clients", "3",
                "--rounds", "4", "--segments", "4", "--dp-epsilon", "3", "--dp-delta", "1e-6",
                "--engine", "local", "--out", str(tmp_path / "dp"),
            ]
        )  # fmt: skip
        raise SystemExit(0)
    assert exc.value.code == 0
    book = json.loads((tmp_path / "dp" / "privacy_ledger.json").read_text())
    assert book["epsilon_budget"] == 3.0
    assert book["epsilon_spent"] == pytest.approx(3.0, rel=1e-6) and book["epsilon_spent"] <= 3.0
    assert book["delta"] <= 1e-6 and book["sigma"] > 0 and book["library"].startswith("opendp")


def test_flower_deployment_runs_real_processes_and_sends_only_masked_sums(shop, tmp_path):
    from segrec.federated._deploy import flower_bin

    try:
        flower_bin()
    except Exception as exc:
        pytest.skip(f"Flower not installed beside segrec: {exc}")
    res = run_federated(
        shop, LIGHT, n_clients=3, rounds=2, k=4, engine="flower", workdir=tmp_path / "job"
    )
    d = res.features.shape[1]
    _stats_only(res.wire, 4, d)
    assert sum(m["round"] == 2 for m in res.wire) == 3  # three SuperNodes answered round 2
    # each client's folder was its own (owner-only), and the same protocol without Flower
    # from the same first centres reaches the same centres
    assert all(
        oct(p.stat().st_mode)[-3:] == "700" for p in (tmp_path / "job" / "clients").iterdir()
    )
    local = run_federated(shop, LIGHT, n_clients=3, rounds=2, k=4, engine="local")
    np.testing.assert_allclose(res.centers, local.centers, atol=1e-6)
