"""Text neighbours: what the users who write most like you chose in the training period.

score(u, i) = sum of cos(t_u, t_v) over u's ``neighbours`` nearest users v (by text profile
``t``, positive similarity only) who interacted with i in training. Text profiles are the
``text`` block of ``ctx.features`` (mean-pooled sentence embeddings of what each user wrote,
see :func:`segrec.features.build_user_features`), or TF-IDF + SVD vectors of the training texts
when the context carries no features.

This is the cold user's signal: one or two reviews say little about which items come next,
but the users who wrote alike have long histories. On Amazon MI, the pooled cold users of the
validation period and the three windows before it (285 users; test never touched) score a
cold NDCG@10 of 0.069 with this model alone against 0.062 for popularity, and 0.073 blended
with popularity (1.17x; above popularity on three windows, level on the fourth). It is a
component of the hybrid's cold blend (``peers``) and an ablation row ``textknn`` in the
evaluation. On Amazon's test period it did not carry over (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from segrec.diagnostics import UsageError
from segrec.recommend._base import FitContext
from segrec.recommend._content import _unit, shared_tfidf_vectors
from segrec.recommend._scorer import ScoringRecommender

__all__ = ["TextKNNConfig", "TextKNNRecommender"]

#: the FitContext cache key under which a fitted model is found by the reasons
CACHE_KEY = "textknn"
#: at most this many similarities (users x voters, float32) in one dense block: 200 MB
_BLOCK = 50_000_000


class TextKNNConfig(BaseModel):
    """``neighbours``: how many nearest writers vote (200: best of 20 / 50 / 200 on the pooled
    validation windows of Amazon MI and Last.fm alike); ``random_state``: of the TF-IDF + SVD
    profiles used when the context has no text features (default: the context's)."""

    model_config = ConfigDict(extra="forbid")
    neighbours: int = Field(200, ge=1)
    random_state: int | None = None


class TextKNNRecommender(ScoringRecommender):
    """Items chosen by the ``neighbours`` users whose text profile is closest to the user's;
    global popularity breaks ties, so lists stay full and users without text get MostPop.

    >>> # TextKNNRecommender(neighbours=200).fit(ctx).recommend(["u1"], k=10)
    """

    name: ClassVar[str] = "textknn"
    config_class: ClassVar[type[BaseModel]] = TextKNNConfig
    reason_kind: ClassVar[str] = "peers"

    def _fit(self, ctx: FitContext) -> None:
        vec, has = self._profiles(ctx)
        voters = has & (self.n_history_ > 0)
        if not voters.any():
            raise UsageError(
                f"recommender 'textknn': no training user of {ctx.train.name!r} has both text "
                "and history; load a dataset with user-written text (reviews, tags) or drop it"
            )
        self.vectors_, self.has_text_ = vec, has
        self.voters_ = np.flatnonzero(voters)
        binary = self.matrix_.copy()
        binary.data[:] = 1.0
        self.voter_items_ = sp.csr_matrix(binary[self.voters_])
        pop = np.log1p(self.popularity_)
        # far below one neighbour's vote: it only orders items no neighbour chose
        self.tiebreak_ = (1e-3 * pop / max(float(pop.max()), 1e-12)).astype(np.float32)
        self._counts: tuple[str | None, np.ndarray | None] = (None, None)
        ctx.cache[CACHE_KEY] = self

    def _profiles(self, ctx: FitContext) -> tuple[np.ndarray, np.ndarray]:
        """Unit text vectors of the training users (row order of ``user_ids_``) and which
        users have one."""
        f = ctx.features
        if f is not None and "text" in f.blocks:
            frame = pd.DataFrame(f.blocks["text"], index=pd.Index(f.user_ids.astype(str)))
            frame = frame[~f.missing.get("text", np.zeros(len(frame), bool))]
        else:
            cfg = self.config
            assert isinstance(cfg, TextKNNConfig)
            seed = ctx.random_state if cfg.random_state is None else cfg.random_state
            users = shared_tfidf_vectors(ctx, 128, seed)[1]  # the content model's default space
            frame = pd.DataFrame(users.to_numpy(), index=pd.Index(users.index.astype(str)))
        pos = frame.index.get_indexer(pd.Index(self.user_ids_.astype(str), dtype="object"))
        vec = np.zeros((len(self.user_ids_), max(frame.shape[1], 1)), dtype=np.float32)
        has = pos >= 0
        if has.any():
            vec[has] = _unit(frame.to_numpy(np.float32)[pos[has]])
        has &= np.linalg.norm(vec, axis=1) > 0
        return vec, has

    def neighbours(self, codes: np.ndarray) -> sp.csr_matrix:
        """(len(codes), n_voters) similarity weights of each user's nearest writers (the user
        excluded; zero rows for users without text)."""
        self._check_fitted()
        k = min(self.config.neighbours, len(self.voters_))  # type: ignore[attr-defined]
        rows, cols, vals = [], [], []
        voters = self.vectors_[self.voters_]
        chunk = max(1, min(1024, _BLOCK // len(self.voters_)))
        for start in range(0, len(codes), chunk):
            c = np.asarray(codes[start : start + chunk])
            s = self.vectors_[c] @ voters.T
            s[c[:, None] == self.voters_[None, :]] = 0.0  # not yourself
            s[~self.has_text_[c]] = 0.0
            if k < s.shape[1]:
                top = np.argpartition(-s, k - 1, axis=1)[:, :k]
            else:  # every voter is a neighbour
                top = np.broadcast_to(np.arange(s.shape[1]), s.shape)
            w = np.clip(np.take_along_axis(s, top, 1), 0.0, None)
            r = np.repeat(np.arange(start, start + len(c)), top.shape[1])
            rows.append(r)
            cols.append(top.ravel())
            vals.append(w.ravel())
        out = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(codes), len(self.voters_)),
            dtype=np.float32,
        )
        out.eliminate_zeros()
        return out

    def _votes(self, codes: np.ndarray) -> np.ndarray:
        return (self.neighbours(codes) @ self.voter_items_).toarray()

    def votes(self, user_ids: Sequence[str]) -> np.ndarray:
        """Dense (len(user_ids), n_items) similarity-weighted neighbour votes; zero rows for
        users unknown at fit time or without text."""
        codes = self.user_codes(user_ids)
        out = np.zeros((len(codes), len(self.item_ids_)), dtype=np.float32)
        ok = codes >= 0
        if ok.any():
            out[ok] = self._votes(codes[ok])
        return out

    def count(self, user: str, item: str) -> int:
        """How many of ``user``'s nearest writers chose ``item`` in training. The user's counts
        are kept until another user is asked for, since reasons ask item after item."""
        if self._counts[0] != user:
            codes = self.user_codes([user])
            row = None
            if codes[0] >= 0:
                voted = (self.neighbours(codes) > 0).astype(np.float32)
                row = np.asarray((voted @ self.voter_items_).todense()).ravel()
            self._counts = (user, row)
        c = self.item_ids_.get_indexer([str(item)])[0]
        row = self._counts[1]
        return 0 if row is None or c < 0 else int(row[c])

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        return self._votes(codes) + self.tiebreak_[None, :]
