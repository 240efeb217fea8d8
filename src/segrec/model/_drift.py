"""Is the segmentation going stale? Drift of recent assignments against the fit-time reference.

Three signals, each with a threshold (:class:`DriftThresholds`):

* the **re-assignment rate**: the share of users seen in the window whose segment differs from
  the one they had before it (their fit-time or previous assignment);
* the **population stability index** (PSI, sum over bins of (p - q) ln(p / q)) of the segment
  shares, and of the distance-to-centre distribution in the fit's decile bins; the usual reading
  is < 0.1 stable, 0.1-0.25 worth watching, > 0.25 a real shift;
* the share of **new users far from every centre** (farther than 99% of the fit's users).

The verdict is ``refit`` when any signal passes its refit threshold, ``watch`` when one passes
its watch threshold, else ``stable``; the reason names the signal and its value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DriftReport", "DriftThresholds", "drift_report", "psi", "reference_of"]

_EPS = 1e-4  # floor of a bin share, so an empty bin does not make PSI infinite


class DriftThresholds(BaseModel):
    """(watch, refit) thresholds of each drift signal."""

    model_config = ConfigDict(extra="forbid")
    psi_segments: tuple[float, float] = (0.1, 0.25)
    psi_distance: tuple[float, float] = (0.1, 0.25)
    reassignment_rate: tuple[float, float] = (0.15, 0.30)
    far_share: tuple[float, float] = (0.05, 0.15)
    min_users: int = Field(30, ge=1, description="fewer users in the window: no verdict")


@dataclass
class DriftReport:
    """The drift of one window of assignments; ``verdict`` is stable, watch or refit."""

    verdict: str
    reasons: list[str]
    n_users: int
    n_new_users: int
    reassignment_rate: float | None
    psi_segments: float
    psi_distance: float | None
    far_share: float | None
    shares: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exit_code(self) -> int:
        """What ``segrec drift`` exits with: 3 when a refit is advised, else 0."""
        return 3 if self.verdict == "refit" else 0


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two distributions over the same bins."""
    p = np.maximum(np.asarray(expected, float), _EPS)
    q = np.maximum(np.asarray(actual, float), _EPS)
    p, q = p / p.sum(), q / q.sum()
    return float(((q - p) * np.log(q / p)).sum())


def reference_of(segments: pd.DataFrame) -> dict[str, Any]:
    """The fit-time reference: segment shares, distance deciles and the 'far' distance."""
    shares = segments.segment_id.value_counts(normalize=True).sort_index()
    ref: dict[str, Any] = {"shares": {str(k): float(v) for k, v in shares.items()}}
    d = segments.distance.to_numpy(float) if "distance" in segments else np.array([])
    d = d[np.isfinite(d)]
    if len(d) >= 10:
        ref["distance_edges"] = np.unique(np.quantile(d, np.linspace(0, 1, 11)[1:-1])).tolist()
        ref["far_distance"] = float(np.quantile(d, 0.99))
    return ref


def _shares(ids: pd.Series, keys: list[str]) -> np.ndarray:
    counts = ids.astype(str).value_counts()
    return counts.reindex(keys).fillna(0).to_numpy(float) / max(len(ids), 1)


def drift_report(
    reference: dict[str, Any],
    window: pd.DataFrame,
    before: pd.Series | None = None,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """Drift of ``window`` (one row per user: user_id, segment_id, distance, new: bool)
    against ``reference``; ``before`` maps user_id -> the segment each user had before."""
    th = thresholds or DriftThresholds()
    ref_shares = reference.get("shares", {})
    window = window.assign(segment_id=window.segment_id.astype("int64"))
    keys = sorted(set(ref_shares) | set(window.segment_id.astype(str)), key=int)
    p = np.array([ref_shares.get(k, 0.0) for k in keys])
    q = _shares(window.segment_id, keys)
    psi_seg = psi(p, q)
    psi_dist = far = None
    d = window.distance.to_numpy(float) if "distance" in window else np.array([])
    edges = reference.get("distance_edges")
    if edges and np.isfinite(d).sum() >= th.min_users:
        dd = d[np.isfinite(d)]
        observed = np.bincount(np.searchsorted(edges, dd, side="right"), minlength=len(edges) + 1)
        psi_dist = psi(np.full(len(edges) + 1, 1.0 / (len(edges) + 1)), observed / len(dd))
    new = window.get("new", pd.Series(False, index=window.index)).to_numpy(bool)
    if new.any() and "far_distance" in reference:
        far = float((d[new] > reference["far_distance"]).mean())
    rate = None
    if before is not None:
        prev = before.reindex(window.user_id.astype(str))
        seen = prev.notna().to_numpy()
        if seen.any():
            rate = float(
                (prev.to_numpy()[seen].astype(int) != window.segment_id.to_numpy()[seen]).mean()
            )
    signals = {
        "psi_segments": (psi_seg, th.psi_segments),
        "psi_distance": (psi_dist, th.psi_distance),
        "reassignment_rate": (rate, th.reassignment_rate),
        "far_share": (far, th.far_share),
    }
    verdict, reasons = _verdict(signals, len(window), th.min_users)
    return DriftReport(
        verdict,
        reasons,
        len(window),
        int(new.sum()),
        rate,
        psi_seg,
        psi_dist,
        far,
        {
            "reference": dict(zip(keys, p.tolist(), strict=True)),
            "window": dict(zip(keys, q.tolist(), strict=True)),
        },
    )


def _verdict(
    signals: dict[str, tuple[float | None, tuple[float, float]]], n: int, min_users: int
) -> tuple[str, list[str]]:
    if n < min_users:
        users = "user" if n == 1 else "users"
        return "stable", [f"only {n} {users} in the window (< {min_users}): too few to judge"]
    refit = [
        f"{k} {v:.3f} >= {t[1]}" for k, (v, t) in signals.items() if v is not None and v >= t[1]
    ]
    watch = [
        f"{k} {v:.3f} >= {t[0]}"
        for k, (v, t) in signals.items()
        if v is not None and t[0] <= v < t[1]
    ]
    if refit:
        return "refit", refit + watch
    if watch:
        return "watch", watch
    shown = ", ".join(f"{k} {v:.3f}" for k, (v, _) in signals.items() if v is not None)
    return "stable", [f"every signal under its watch threshold ({shown})"]
