"""Federated segmentation: users' raw rows stay with their client; the server learns k-means
centres from securely aggregated, optionally differentially private sufficient statistics.

>>> from segrec.federated import run_federated  # doctest: +SKIP
>>> res = run_federated(ds, n_clients=10, rounds=10, dp_epsilon=4.0, out="fed/")  # doctest: +SKIP
>>> res.ledger["epsilon_spent"]  # doctest: +SKIP
"""

from segrec.federated._accounting import calibrate_sigma, ledger
from segrec.federated._protocol import (
    FederatedClient,
    FederatedServer,
    clip_rows,
    local_vector,
    wire_summary,
)
from segrec.federated._run import (
    FederatedResult,
    SharedState,
    prepare_shared,
    run_federated,
    run_protocol,
)

__all__ = [
    "FederatedClient",
    "FederatedResult",
    "FederatedServer",
    "SharedState",
    "calibrate_sigma",
    "clip_rows",
    "ledger",
    "local_vector",
    "prepare_shared",
    "run_federated",
    "run_protocol",
    "wire_summary",
]
