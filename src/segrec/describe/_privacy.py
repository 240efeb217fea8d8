"""Privacy for published segment statistics.

* Minimum segment size (default 10): smaller segments are merged into their nearest large
  segment (by centre) or suppressed, in everything published.
* Differential privacy (optional) through `OpenDP <https://opendp.org>`_: every noisy release
  is an OpenDP measurement, its privacy loss comes from that measurement's own privacy map and
  goes into the ledger, and the noise comes from OpenDP's samplers (secure, and on purpose not
  reproducible from a seed: a seed would let anyone who knows it subtract the noise).
  Clipping bounds are *declared* (the rating scale, an amount cap in the config, the catalogue's
  prices), never read from the data. Segments are disjoint, so one user changes one segment's
  figures: one query over all segments costs its epsilon once (parallel composition); queries
  add up (basic sequential composition: epsilons and deltas sum).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from segrec.diagnostics import UsageError, require

__all__ = ["PrivacyAccountant", "enforce_min_size"]


def enforce_min_size(
    labels: np.ndarray,
    centers: np.ndarray | None,
    min_size: int = 10,
    mode: Literal["merge", "suppress"] = "merge",
) -> tuple[np.ndarray, dict[str, Any]]:
    """Labels with small segments merged into the nearest large one, or set to -1 (suppressed).

    Returns the new labels and a report ``{"min_size", "mode", "merged": {small: into},
    "suppressed": [ids], "suppressed_users": n}``.
    """
    labels = np.asarray(labels).copy()
    ids, counts = np.unique(labels, return_counts=True)
    small = [int(i) for i, c in zip(ids, counts, strict=True) if c < min_size]
    large = [int(i) for i, c in zip(ids, counts, strict=True) if c >= min_size]
    report: dict[str, Any] = {"min_size": min_size, "mode": mode, "merged": {}, "suppressed": []}
    if small and (mode == "suppress" or not large):
        for s in small:
            labels[labels == s] = -1
        report["suppressed"] = small
    elif small:
        for s in small:
            if centers is not None and max(large) < len(centers) and s < len(centers):
                d = np.linalg.norm(centers[large] - centers[s], axis=1)
                into = large[int(np.argmin(d))]
            else:  # no centres: the largest segment
                into = large[int(np.argmax([counts[ids == g][0] for g in large]))]
            labels[labels == s] = into
            report["merged"][str(s)] = into
    report["suppressed_users"] = int((labels == -1).sum())
    return labels, report


def _opendp() -> Any:
    dp = require("opendp.prelude", "privacy", "differential privacy (--dp-epsilon)")
    dp.enable_features("contrib")
    return dp


@dataclass
class PrivacyAccountant:
    """Spend an (epsilon, delta) budget on OpenDP releases; every spend goes in the ledger.

    ``random_state`` is accepted for a uniform stage signature but does not seed the noise.

        >>> acct = PrivacyAccountant(1.0)  # doctest: +SKIP
        >>> acct.noisy_counts(np.array([120, 80]), 0.5, "segment sizes")  # doctest: +SKIP
    """

    epsilon: float
    mechanism: Literal["laplace", "gaussian"] = "laplace"
    delta: float = 1e-5
    random_state: int = 0
    ledger: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.epsilon > 0:
            raise UsageError(f"dp epsilon must be > 0; got {self.epsilon}")
        if self.mechanism not in ("laplace", "gaussian"):
            raise UsageError(
                f"dp mechanism must be 'laplace' or 'gaussian'; got {self.mechanism!r}"
            )
        if not 0 < self.delta < 1:
            raise UsageError(f"dp delta must be in (0, 1); got {self.delta}")
        self._dp = _opendp()

    @property
    def spent(self) -> float:
        return float(sum(e["epsilon"] for e in self.ledger))

    @property
    def delta_spent(self) -> float:
        return float(sum(e.get("delta", 0.0) for e in self.ledger))

    def _check(self, eps: float, delta: float, query: str) -> None:
        if self.spent + eps > self.epsilon * (1 + 1e-9) or self.delta_spent + delta > self.delta * (
            1 + 1e-9
        ):
            raise UsageError(
                f"privacy budget exceeded: spent epsilon {self.spent:.3f} of {self.epsilon} "
                f"(delta {self.delta_spent:.2g} of {self.delta:.2g}); query '{query}' asks "
                f"{eps:.3f} more; raise --dp-epsilon or publish fewer statistics"
            )

    def _vector(
        self, sensitivity: float, eps: float, delta: float
    ) -> tuple[Any, float, float, float]:
        """An OpenDP noise measurement on float vectors whose privacy map at ``sensitivity``
        stays within (eps, delta); returns it with its epsilon, delta and noise scale."""
        dp = self._dp
        dom = dp.vector_domain(dp.atom_domain(T=float, nan=False))
        if self.mechanism == "laplace":

            def make(s: float) -> Any:
                return dp.m.make_laplace(dom, dp.l1_distance(T=float), scale=s)

            scale = sensitivity / eps  # epsilon = L1 / scale; nudged up if OpenDP rounds above
            while make(scale).map(float(sensitivity)) > eps:
                scale *= 1 + 1e-9
            m = make(scale)
            return m, float(m.map(float(sensitivity))), 0.0, float(scale)

        def make_g(s: float) -> Any:
            g = dp.m.make_gaussian(dom, dp.l2_distance(T=float), scale=s)
            return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(g), float(delta))

        scale = dp.binary_search_param(
            make_g,
            d_in=float(sensitivity),
            d_out=(float(eps), float(delta)),
            bounds=(0.05 * sensitivity / eps, 200.0 * sensitivity / eps),
        )
        m = make_g(scale)
        e, d = m.map(float(sensitivity))
        return m, float(e), float(d), float(scale)

    def release(
        self, values: np.ndarray, sensitivity: float, eps: float, query: str, delta: float = 0.0
    ) -> np.ndarray:
        """``values`` plus OpenDP noise for an L1 (Laplace) or L2 (Gaussian) ``sensitivity``."""
        if self.mechanism == "gaussian" and delta <= 0:
            delta = self.delta - self.delta_spent
        self._check(eps, delta, query)
        m, e, d, scale = self._vector(sensitivity, eps, delta)
        out = np.asarray(m([float(v) for v in np.asarray(values, float)]), float)
        self.ledger.append(
            {
                "query": query,
                "mechanism": self.mechanism,
                "epsilon": e,
                "delta": d,
                "sensitivity": float(sensitivity),
                "scale": scale,
            }
        )
        return out

    def noisy_counts(
        self, counts: np.ndarray, eps: float, query: str, delta: float = 0.0
    ) -> np.ndarray:
        """Counts of disjoint groups (one user changes one count by 1), rounded, floored at 0."""
        return np.maximum(np.round(self.release(counts, 1.0, eps, query, delta)), 0.0)

    def noisy_means(
        self,
        values: np.ndarray,
        groups: np.ndarray,
        group_ids: list[int],
        eps: float,
        query: str,
        bounds: tuple[float, float] | None = None,
        delta: float = 0.0,
    ) -> dict[int, float]:
        """Per-group means of ``values`` clipped to the declared ``bounds``, released as a noisy
        sum and a noisy count of the users who have a value (one query: a user moves one sum by
        at most ``hi - lo`` and one count by 1; the count is scaled by ``hi - lo`` so both carry
        the same noise). NaN values (users without one) count in neither."""
        if bounds is None:
            raise UsageError(
                f"query '{query}': differential privacy needs declared clipping bounds "
                "(a rating scale, an amount cap); bounds taken from the data are not private"
            )
        lo, hi = float(bounds[0]), float(bounds[1])
        if not hi > lo:
            raise UsageError(f"query '{query}': bounds {bounds} must satisfy lo < hi")
        v = np.asarray(values, float)
        g = np.asarray(groups)
        ok = np.isfinite(v)
        width = hi - lo
        shifted = np.clip(v, lo, hi) - lo
        sums = np.array([shifted[ok & (g == s)].sum() for s in group_ids])
        counts = np.array([float((ok & (g == s)).sum()) for s in group_ids])
        noisy = self.release(np.r_[sums, counts * width], 2.0 * width, eps, query, delta)
        self.ledger[-1]["clip"] = [lo, hi]
        self.ledger[-1]["public_bounds"] = True
        k = len(group_ids)
        n = noisy[k:] / width
        out: dict[int, float] = {}
        for j, s in enumerate(group_ids):
            out[s] = float("nan") if n[j] < 1 else float(np.clip(lo + noisy[j] / n[j], lo, hi))
        return out

    def noisy_key_counts(
        self,
        counts: dict[str, int],
        max_keys: int,
        eps: float,
        delta: float,
        min_count: int,
        query: str,
    ) -> dict[str, int]:
        """Counts of keys from an open set (words, item ids), each user adding 1 to at most
        ``max_keys`` keys: OpenDP's Laplace threshold mechanism. Only keys whose noisy count
        reaches the threshold come out; the threshold is ``min_count`` or higher when
        ``delta`` needs it (the ledger records it)."""
        dp = self._dp
        self._check(eps, delta, query)
        dom = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
        met = dp.l01inf_distance(dp.absolute_distance(T=int))
        d_in = (int(max_keys), int(max_keys), 1)
        scale = max_keys / eps  # epsilon = L1 / scale; nudged up if OpenDP rounds above
        while (
            dp.m.make_laplace_threshold(dom, met, scale=scale, threshold=10**9).map(d_in)[0] > eps
        ):
            scale *= 1 + 1e-9
        lo, hi = max(int(min_count), 1), max(int(min_count), 1)
        while dp.m.make_laplace_threshold(dom, met, scale=scale, threshold=hi).map(d_in)[1] > delta:
            lo, hi = hi, hi * 2
        while lo < hi:  # the smallest threshold whose delta fits
            mid = (lo + hi) // 2
            m = dp.m.make_laplace_threshold(dom, met, scale=scale, threshold=mid)
            lo, hi = (lo, mid) if m.map(d_in)[1] <= delta else (mid + 1, hi)
        m = dp.m.make_laplace_threshold(dom, met, scale=scale, threshold=hi)
        e, d = m.map(d_in)
        out = m({str(k): int(v) for k, v in counts.items() if v > 0}) if counts else {}
        self.ledger.append(
            {
                "query": query,
                "mechanism": "laplace threshold",
                "epsilon": float(e),
                "delta": float(d),
                "scale": float(scale),
                "threshold": int(hi),
                "max_keys_per_user": int(max_keys),
            }
        )
        return {str(k): int(v) for k, v in out.items()}

    def report(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "library": f"opendp {version('opendp')}",
            "mechanism": self.mechanism,
            "epsilon_budget": self.epsilon,
            "epsilon_spent": self.spent,
            "delta_budget": self.delta,
            "delta": self.delta_spent,
            "composition": "basic sequential over queries (epsilons and deltas add up), "
            "parallel over disjoint segments",
            "privacy_unit": "one user (all their rows), added or removed",
            "ledger": list(self.ledger),
        }
