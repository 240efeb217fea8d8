"""The privacy ledger of federated k-means, accounted with OpenDP.

One round releases (to the server, through secure aggregation) the sum over clients of each
user's clipped row in its centre's sum and ``clip`` in its centre's count, plus Gaussian
noise of standard deviation ``sigma``. Adding or removing one user moves that vector by at
most ``sqrt(2) * clip`` in L2. OpenDP's Gaussian mechanism gives each round's zero-concentrated
DP; ``make_composition`` composes the rounds; ``make_zCDP_to_approxDP`` with ``make_fix_delta``
turns the total into (epsilon, delta). ``sigma`` is the smallest that OpenDP's binary search
finds for the asked (epsilon, delta), so the ledger's epsilon is the one asked.
"""

from __future__ import annotations

import math
from importlib.metadata import version
from typing import Any

from segrec.diagnostics import UsageError, require

__all__ = ["calibrate_sigma", "ledger"]


def _measurement(sigma: float, rounds: int, delta: float) -> Any:
    dp = require("opendp.prelude", "privacy", "differential privacy (--dp-epsilon)")
    dp.enable_features("contrib")
    dom = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    one = dp.m.make_gaussian(dom, dp.l2_distance(T=float), scale=float(sigma))
    total = dp.c.make_composition([one] * int(rounds))
    return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(total), float(delta))


def calibrate_sigma(epsilon: float, delta: float, rounds: int, clip: float) -> float:
    """The noise (per coordinate, of the aggregate) that makes ``rounds`` rounds
    (epsilon, delta)-DP for one user whose row is clipped to ``clip``."""
    if not epsilon > 0:
        raise UsageError(f"--dp-epsilon must be > 0; got {epsilon}")
    if not 0 < delta < 1:
        raise UsageError(f"--dp-delta must be in (0, 1); got {delta}")
    dp = require("opendp.prelude", "privacy", "differential privacy (--dp-epsilon)")
    sens = math.sqrt(2.0) * clip
    # the textbook zCDP -> (epsilon, delta) conversion brackets the answer; OpenDP's own
    # (tighter) map then decides inside the bracket
    log_d = math.log(1.0 / delta)
    rho = (math.sqrt(log_d + epsilon) - math.sqrt(log_d)) ** 2
    guess = sens * math.sqrt(rounds / (2.0 * rho))
    return float(
        dp.binary_search_param(
            lambda s: _measurement(s, rounds, delta),
            d_in=sens,
            d_out=(float(epsilon), float(delta)),
            bounds=(guess / 8.0, guess * 2.0),
        )
    )


def ledger(
    epsilon: float | None,
    delta: float | None,
    rounds: int,
    clip: float,
    sigma: float,
    n_clients: int,
    transport: str,
) -> dict[str, Any]:
    """The privacy ledger written beside the model folder (``privacy_ledger.json``)."""
    out: dict[str, Any] = {
        "protocol": "federated k-means (Lloyd), per-centre sums and counts per round",
        "transport": transport,
        "n_clients": n_clients,
        "rounds": rounds,
        "clip_l2": clip,
        "sensitivity_l2": math.sqrt(2.0) * clip,
        "privacy_unit": "one user (all their rows), added or removed",
        "secure_aggregation": "pairwise masks modulo 2^64 (DH group 14, SHAKE-256); the "
        "server sees only the sum over clients; no dropout recovery",
        "raw_data": "events and texts stay with their client; only masked fixed-point "
        "vectors of length k*(d+1) and a public key are sent",
    }
    if epsilon is None:
        out.update(
            differential_privacy=False,
            epsilon_budget=None,
            epsilon_spent=None,
            delta=None,
            sigma=0.0,
            note="no noise: the summed statistics of every round are exact (epsilon unbounded)",
        )
        return out
    assert delta is not None
    e, d = _measurement(sigma, rounds, delta).map(math.sqrt(2.0) * clip)
    out.update(
        differential_privacy=True,
        library=f"opendp {version('opendp')}",
        mechanism="Gaussian, distributed: each client adds N(0, sigma^2 / n_clients) per "
        "coordinate, so the aggregate carries sigma (assumes honest clients)",
        composition="zCDP over rounds (make_composition), then (epsilon, delta)",
        epsilon_budget=float(epsilon),
        epsilon_spent=float(e),
        delta=float(d),
        sigma=float(sigma),
        covers="the centres of every round and the final centres (post-processing)",
        not_covered="the featurizers, text encoder and initial centres (fit on data the "
        "server already holds) and the recommender and profiles of the model folder",
    )
    return out
