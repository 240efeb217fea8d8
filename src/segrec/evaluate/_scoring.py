"""Turn recommendation lists into per-user metrics and per-method summaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segrec.evaluate._metrics import (
    ACCURACY_METRICS,
    accuracy_metrics,
    catalog_coverage,
    hit_matrix,
    intra_list_diversity,
    novelty,
)
from segrec.evaluate._stats import bootstrap_ci
from segrec.recommend import RecLists

__all__ = ["ItemSpace", "per_user_metrics", "summarize"]


class ItemSpace:
    """The candidate items of one training period: codes, popularity and item vectors."""

    def __init__(
        self, item_ids: pd.Index, matrix: sp.csr_matrix, vectors: np.ndarray | None = None
    ) -> None:
        self.item_ids = pd.Index(item_ids, dtype="object")
        pop_count = np.asarray(matrix.sum(axis=0)).ravel()
        self.n_train_items = int((pop_count > 0).sum())
        n_users = max(int((np.diff(matrix.indptr) > 0).sum()), 1)
        self.popularity = pop_count / n_users
        # co-occurrence vectors (items x users) unless item text embeddings are given
        self.vectors: np.ndarray | sp.csr_matrix = (
            vectors if vectors is not None else sp.csr_matrix(matrix.T)
        )
        self.vector_kind = "item_text" if vectors is not None else "cooccurrence"

    def codes(self, lists: RecLists, user_ids: Sequence[str], k: int) -> np.ndarray:
        """users x k item codes (-1 for empty slots) in the order of ``user_ids``."""
        pos = {str(u): i for i, u in enumerate(lists.user_ids)}
        out = np.full((len(user_ids), k), -1, dtype=np.int64)
        for r, u in enumerate(user_ids):
            i = pos.get(str(u))
            if i is None:
                continue
            its = np.asarray(lists.items[i])[:k]
            if len(its):
                out[r, : len(its)] = self.item_ids.get_indexer(pd.Index(its, dtype="object"))
        return out


def per_user_metrics(
    codes: np.ndarray,
    relevant: Sequence[set[str]],
    space: ItemSpace,
    cutoffs: Sequence[int],
) -> pd.DataFrame:
    """One row per user: ``<metric>@<k>`` for accuracy, novelty and diversity."""
    rel_codes = [
        {int(c) for c in space.item_ids.get_indexer(pd.Index(list(r), dtype="object")) if c >= 0}
        for r in relevant
    ]
    n_rel = np.array([len(r) for r in rel_codes])
    hits = hit_matrix(codes, rel_codes)
    cols: dict[str, np.ndarray] = {}
    for k in cutoffs:
        for name, vals in accuracy_metrics(hits, n_rel, k).items():
            cols[f"{name}@{k}"] = vals
        cols[f"novelty@{k}"] = novelty(codes, space.popularity, k)
        cols[f"diversity@{k}"] = intra_list_diversity(codes, space.vectors, k)
    return pd.DataFrame(cols)


def summarize(
    per_user: pd.DataFrame,
    cold: np.ndarray,
    codes: np.ndarray,
    space: ItemSpace,
    cutoffs: Sequence[int],
    n_boot: int = 1000,
    random_state: int = 0,
) -> dict[str, Any]:
    """The method summary ``M``: means, cold/warm NDCG, bootstrap CIs, coverage and counts."""
    cold = np.asarray(cold, dtype=bool)
    m: dict[str, Any] = {
        "n_users": len(per_user),
        "n_cold": int(cold.sum()),
        "n_warm": int((~cold).sum()),
    }
    for k in cutoffs:
        for name in (*ACCURACY_METRICS, "novelty", "diversity"):
            col = per_user[f"{name}@{k}"].to_numpy()
            m[f"{name}@{k}"] = _mean(col)
        m[f"coverage@{k}"] = catalog_coverage(codes, space.n_train_items, k)
        nd = per_user[f"ndcg@{k}"].to_numpy()
        m[f"ndcg@{k}_cold"] = _mean(nd[cold])
        m[f"ndcg@{k}_warm"] = _mean(nd[~cold])
        m[f"ndcg@{k}_ci"] = bootstrap_ci(nd, n_boot, random_state=random_state)
        m[f"ndcg@{k}_cold_ci"] = bootstrap_ci(nd[cold], n_boot, random_state=random_state)
        m[f"ndcg@{k}_warm_ci"] = bootstrap_ci(nd[~cold], n_boot, random_state=random_state)
        m[f"recall@{k}_ci"] = bootstrap_ci(
            per_user[f"recall@{k}"].to_numpy(), n_boot, random_state=random_state
        )
    return m


def _mean(x: np.ndarray) -> float | None:
    return float(np.mean(x)) if len(x) else None
