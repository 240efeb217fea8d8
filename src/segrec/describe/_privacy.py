"""Privacy for published segment statistics.

* Minimum segment size (default 10): smaller segments are merged into their nearest large
  segment (by centre) or suppressed, in everything published.
* Optional differential privacy on published counts and means: Laplace or Gaussian noise,
  with an epsilon budget split over the published queries and accounted in a ledger that is
  written to ``profiles.json``. Segments are disjoint, so by parallel composition one query
  type (say "mean monetary") costs its epsilon once across all segments.
  Means use clipping bounds; when the caller does not give public bounds they come from the
  data's 1st/99th percentiles, which is NOT strictly private (the ledger says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from segrec.diagnostics import UsageError

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


@dataclass
class PrivacyAccountant:
    """Spend an epsilon budget on noisy counts and means; every spend goes in the ledger."""

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
        self._rng = np.random.default_rng(self.random_state)

    @property
    def spent(self) -> float:
        return float(sum(e["epsilon"] for e in self.ledger))

    def _noise(self, sensitivity: float, eps: float, size: int) -> tuple[np.ndarray, float]:
        if self.spent + eps > self.epsilon * (1 + 1e-9):
            raise UsageError(
                f"privacy budget exceeded: spent {self.spent:.3f} of epsilon={self.epsilon}, "
                f"asked {eps:.3f} more; raise --dp-epsilon or publish fewer statistics"
            )
        if self.mechanism == "laplace":
            scale = sensitivity / eps
            return self._rng.laplace(0.0, scale, size), scale
        sigma = sensitivity * math.sqrt(2 * math.log(1.25 / self.delta)) / eps
        return self._rng.normal(0.0, sigma, size), sigma

    def noisy_counts(self, counts: np.ndarray, eps: float, query: str) -> np.ndarray:
        """Counts of disjoint groups (sensitivity 1), rounded and floored at 0."""
        noise, scale = self._noise(1.0, eps, len(counts))
        self.ledger.append({"query": query, "epsilon": eps, "sensitivity": 1.0, "scale": scale})
        return np.maximum(np.round(np.asarray(counts, float) + noise), 0.0)

    def noisy_means(
        self,
        values: np.ndarray,
        groups: np.ndarray,
        group_ids: list[int],
        eps: float,
        query: str,
        bounds: tuple[float, float] | None = None,
    ) -> dict[int, float]:
        """Clipped per-group means; sensitivity (hi - lo) / n per group."""
        v = np.asarray(values, float)
        ok = np.isfinite(v)
        public = bounds is not None
        if bounds is None:
            lo, hi = np.percentile(v[ok], [1, 99]) if ok.any() else (0.0, 1.0)
        else:
            lo, hi = bounds
        v = np.clip(v, lo, hi)
        if self.spent + eps > self.epsilon * (1 + 1e-9):
            raise UsageError(
                f"privacy budget exceeded: spent {self.spent:.3f} of epsilon={self.epsilon}, "
                f"query {query} asks {eps:.3f} more; raise --dp-epsilon or publish less"
            )
        out: dict[int, float] = {}
        scales = []
        for g in group_ids:
            sel = ok & (groups == g)
            n = int(sel.sum())
            if n == 0:
                out[g] = float("nan")
                continue
            sens = (hi - lo) / n
            if self.mechanism == "laplace":
                scale = sens / eps
                noise = self._rng.laplace(0.0, scale)
            else:
                scale = sens * math.sqrt(2 * math.log(1.25 / self.delta)) / eps
                noise = self._rng.normal(0.0, scale)
            out[g] = float(np.clip(v[sel].mean() + noise, lo, hi))
            scales.append(scale)
        self.ledger.append(
            {
                "query": query,
                "epsilon": eps,
                "clip": [float(lo), float(hi)],
                "public_bounds": public,
                "max_scale": float(max(scales)) if scales else 0.0,
            }
        )
        return out

    def report(self) -> dict[str, Any]:
        return {
            "mechanism": self.mechanism,
            "epsilon_budget": self.epsilon,
            "epsilon_spent": self.spent,
            "delta": self.delta if self.mechanism == "gaussian" else 0.0,
            "composition": "sequential over queries, parallel over disjoint segments",
            "ledger": list(self.ledger),
        }
