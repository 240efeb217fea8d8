"""Uncertainty: bootstrap confidence intervals over users and paired significance tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MIN_PAIRED_USERS", "bootstrap_ci", "holm", "paired_test", "ratio_text"]

#: fewer users than this get means (and a ratio), but no bootstrap interval and no p-value
MIN_PAIRED_USERS = 5


def bootstrap_ci(
    values: np.ndarray, n_boot: int = 1000, alpha: float = 0.05, random_state: int = 0
) -> list[float]:
    """Percentile bootstrap ``[lo, hi]`` of the mean of per-user ``values`` (users resampled).

    Returns ``[nan, nan]`` for fewer than :data:`MIN_PAIRED_USERS` values (one user's
    resamples all have the same mean: an interval of zero width says nothing).
    """
    v = np.asarray(values, dtype=float)
    if len(v) < MIN_PAIRED_USERS:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(random_state)
    means = np.empty(n_boot)
    # chunked so memory stays small for many users
    step = max(1, 2_000_000 // max(len(v), 1))
    for s in range(0, n_boot, step):
        e = min(n_boot, s + step)
        idx = rng.integers(0, len(v), size=(e - s, len(v)))
        means[s:e] = v[idx].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return [float(lo), float(hi)]


def paired_test(
    a: np.ndarray,
    b: np.ndarray,
    n_boot: int = 1000,
    alpha: float = 0.05,
    random_state: int = 0,
) -> dict[str, Any]:
    """Compare per-user scores ``a`` and ``b`` (same users, same order).

    Reports the mean difference ``a - b``, its paired-bootstrap CI, a two-sided bootstrap
    p-value (share of null-centred resampled mean differences at least as far from zero as
    the observed one) and the Wilcoxon signed-rank p-value (scipy; ``None`` when every difference is zero).
    ``ratio`` is mean(a) / mean(b) and ``ratio_ci`` its percentile CI from the same paired
    resamples (targets are often stated as ratios: "1.15x the best baseline"). With fewer than
    :data:`MIN_PAIRED_USERS` users there is no interval and no p-value (``None``, with a
    ``note``), never a spurious "significant".
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    d = a - b
    n = len(d)
    out: dict[str, Any] = {"n_users": n, "mean_a": _mean(a), "mean_b": _mean(b)}
    out["mean_diff"] = _mean(d)
    out["ratio"] = out["mean_a"] / out["mean_b"] if n and out["mean_b"] > 0 else None
    out["rel_lift"] = out["ratio"] - 1.0 if out["ratio"] is not None else None
    if n < MIN_PAIRED_USERS:
        # resampling one to four users gives a handful of distinct means: an interval of zero
        # width and a p-value of 0.001 for a single user, which would read as a sure result
        out.update(
            {
                "diff_ci": [None, None],
                "ratio_ci": [None, None],
                "p_bootstrap": None,
                "p_wilcoxon": None,
                "significant": False,
                "note": f"{n} user(s): fewer than {MIN_PAIRED_USERS}, no interval or test",
            }
        )
        return out
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, n, size=(n_boot, n))
    means = d[idx].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    out["diff_ci"] = [float(lo), float(hi)]
    mb = b[idx].mean(axis=1)
    ok = mb > 0  # a resample whose reference scores zero everywhere has no ratio
    ratios = a[idx].mean(axis=1)[ok] / mb[ok]
    out["ratio_ci"] = (
        [float(v) for v in np.quantile(ratios, [alpha / 2, 1 - alpha / 2])]
        if out["ratio"] is not None and ok.mean() >= 1 - alpha / 2
        else [None, None]
    )
    # centred bootstrap: the share of null-shifted means at least as far from zero
    centred = means - means.mean()
    p = float((np.abs(centred) >= abs(d.mean())).mean()) if d.any() else 1.0
    out["p_bootstrap"] = max(p, 1.0 / n_boot) if d.any() else 1.0
    out["p_wilcoxon"] = _wilcoxon(d)
    out["significant"] = bool(out["p_bootstrap"] < alpha)
    return out


def ratio_text(test: dict[str, Any]) -> str | None:
    """``1.05x [0.92, 1.21]``: a :func:`paired_test` result's ratio with its interval
    (``None`` without a ratio)."""
    r, ci = test.get("ratio"), test.get("ratio_ci") or [None, None]
    if r is None:
        return None
    return f"{r:.2f}x" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci[0] is not None else "")


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else float("nan")


def _wilcoxon(d: np.ndarray) -> float | None:
    if not np.any(d != 0):
        return None
    from scipy.stats import wilcoxon

    try:
        return float(wilcoxon(d, zero_method="wilcox").pvalue)
    except ValueError:
        return None


def holm(p: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (``None`` stays ``None`` and does not count towards
    the family): the k-th smallest of m is multiplied by m - k + 1, kept monotone, capped at 1.
    Rejecting where the adjusted value is under alpha keeps the family-wise error under alpha."""
    known = [(v, i) for i, v in enumerate(p) if v is not None]
    out: list[float | None] = [None] * len(p)
    m, running = len(known), 0.0
    for k, (v, i) in enumerate(sorted(known)):
        running = max(running, min(1.0, (m - k) * v))
        out[i] = running
    return out
