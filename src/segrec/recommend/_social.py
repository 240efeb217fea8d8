"""Social popularity: what the user's friends chose in the training period.

score(u, i) = log(1 + number of u's friends with a training interaction on i), over the
dataset's user-user ties (``Dataset.social``: friends, trust, follows; a directed tie counts both
ways). Ties carry no time in the public datasets, so the friendship graph is taken as known at
training time (the same assumption the GCN's user graph makes); the friends' *interactions* come
from the training period only.

Cold users are where this signal matters: a user with one or two interactions has little history
to extrapolate from, but often friends with plenty. On Last.fm tag events, friends' artists alone
score a cold-user NDCG@10 of 0.099-0.120 on the three validation windows before protocol v1's
validation period (0.057 on that period itself), and the hybrid's cold weights pick the
component up from the pooled windows (see :class:`~segrec.recommend.HybridRecommender` and
``docs/evaluation.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict

from segrec.diagnostics import UsageError
from segrec.recommend._base import FitContext
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["SocialConfig", "SocialRecommender"]


class SocialConfig(BaseModel):
    """No options: the friends' counts are the model."""

    model_config = ConfigDict(extra="forbid")


class SocialRecommender(ScoringRecommender):
    """Items most chosen by the user's friends in training (ties from ``ctx.train.social``);
    items no friend chose follow by global popularity, so lists stay full and users without
    friends get the MostPop list.

    >>> # SocialRecommender().fit(ctx).recommend(["u1"], k=10)
    """

    name: ClassVar[str] = "social"
    config_class: ClassVar[type[BaseModel]] = SocialConfig
    reason_kind: ClassVar[str] = "social"

    def _fit(self, ctx: FitContext) -> None:
        from segrec.graph import social_adjacency

        a = social_adjacency(ctx.train, self.user_ids_)
        if a.nnz == 0:
            raise UsageError(
                f"recommender 'social': dataset {ctx.train.name!r} has no social ties between "
                "its users; load a dataset with user-user ties (friends, trust) or drop 'social'"
            )
        a.data[:] = 1.0
        self.friends_ = a
        #: users x items: how many of the user's friends interacted with the item in training
        self.friend_counts_ = sp.csr_matrix(a @ self.matrix_, dtype=np.float32)
        pop = np.log1p(self.popularity_)
        # below one friend's worth (log 2) in total, so it only orders items no friend chose
        self.tiebreak_ = (0.5 * np.log(2.0) * pop / max(float(pop.max()), 1e-12)).astype(np.float32)

    def friend_counts(self, user_ids: Sequence[str]) -> np.ndarray:
        """Dense (len(user_ids), n_items) friends' counts; zero rows for users without friends
        (or unknown at fit time)."""
        self._check_fitted()
        codes = self.user_codes(user_ids)
        out = np.zeros((len(codes), len(self.item_ids_)), dtype=np.float32)
        ok = codes >= 0
        if ok.any():
            out[ok] = self.friend_counts_[codes[ok]].toarray()
        return out

    def friend_counts_rows(self, rows: UserRows) -> np.ndarray:
        """:meth:`friend_counts` of ``rows``: fitted rows from the fit's ties, the others from
        the friends they name (only users known at fit time count)."""
        self._check_fitted()
        out = np.zeros((len(rows), len(self.item_ids_)), dtype=np.float32)
        fit = rows.fitted
        if fit.any():
            out[fit] = self.friend_counts([rows.user_ids[i] for i in np.flatnonzero(fit)])
        for r in np.flatnonzero(~fit):
            codes = np.unique(self.user_codes(rows.friends[r]))
            codes = codes[codes >= 0]
            if len(codes):
                out[r] = np.asarray(self.matrix_[codes].sum(axis=0)).ravel()
        return out

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        return np.log1p(self.friend_counts(user_ids)) + self.tiebreak_[None, :]

    def _score_new(self, rows: UserRows) -> np.ndarray:
        return np.log1p(self.friend_counts_rows(rows)) + self.tiebreak_[None, :]

    def _own_parts(self, user_ids: list[str]) -> dict[str, Any]:
        out = super()._own_parts(user_ids)
        codes = self.user_codes(user_ids)
        f, ids = self.friends_, self.user_ids_.to_numpy()
        out["friends"] = [
            [] if c < 0 else [str(u) for u in ids[f.indices[f.indptr[c] : f.indptr[c + 1]]]]
            for c in codes
        ]
        return out
