"""DEC's pieces (Xie et al. 2016): the Student-t soft assignment, its sharpened target, and the
choice of k by silhouette on the encoder output."""

from __future__ import annotations

import numpy as np

from segrec._threads import reproducible_threads
from segrec.diagnostics import UsageError

__all__ = ["soft_assign", "target_distribution"]


def soft_assign(z: np.ndarray, centers: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """DEC's Student-t kernel: q_ij proportional to (1 + |z_i - mu_j|^2 / alpha)^-(alpha+1)/2."""
    d2 = ((z[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    q = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    return q / q.sum(1, keepdims=True)


def target_distribution(q: np.ndarray) -> np.ndarray:
    """DEC's sharpened target: p_ij proportional to q_ij^2 / f_j with f_j the soft size of j."""
    w = q**2 / np.maximum(q.sum(0), 1e-12)
    return w / w.sum(1, keepdims=True)


def _select_k(z: np.ndarray, k_range: tuple[int, int], sample: int, seed: int) -> tuple[int, dict]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(z), min(sample, len(z)), replace=False)
    scores: dict[int, float] = {}
    for k in range(k_range[0], min(k_range[1], len(z) - 1) + 1):
        with reproducible_threads():
            lab = KMeans(k, n_init=4, random_state=seed).fit_predict(z)
        if len(np.unique(lab[idx])) > 1:
            scores[k] = float(silhouette_score(z[idx], lab[idx]))
    if not scores:
        raise UsageError(f"cannot choose k in k_range={k_range} for {len(z)} users; set n_segments")
    return max(scores, key=lambda k: scores[k]), scores
