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

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from segrec._ids import positions
from segrec.diagnostics import UsageError
from segrec.recommend._base import FitContext
from segrec.recommend._content import _unit, shared_tfidf_space
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender
from segrec.recommend._tfidf import TextSpace

__all__ = ["TextKNNConfig", "TextKNNRecommender"]

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

    def _profiles(self, ctx: FitContext) -> tuple[np.ndarray, np.ndarray]:
        """Unit text vectors of the training users (row order of ``user_ids_``) and which
        users have one."""
        f = ctx.features
        #: the TF-IDF + SVD space of the profiles (None: the features' text block)
        self.space_: TextSpace | None = None
        if f is not None and "text" in f.blocks:
            frame = pd.DataFrame(f.blocks["text"], index=pd.Index(f.user_ids.astype(str)))
            frame = frame[~f.missing.get("text", np.zeros(len(frame), bool))]
        else:
            cfg = self.config
            assert isinstance(cfg, TextKNNConfig)
            seed = ctx.random_state if cfg.random_state is None else cfg.random_state
            # the content model's default space
            _, users, self.space_ = shared_tfidf_space(ctx, 128, seed)
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
        return self._nearest(self.vectors_[codes], self.has_text_[codes], np.asarray(codes))

    def _nearest(self, vectors: np.ndarray, has: np.ndarray, codes: np.ndarray) -> sp.csr_matrix:
        """Neighbour weights of users with unit text ``vectors`` (``has``: they have one;
        ``codes``: their training codes, -1 for none, never their own neighbour)."""
        k = min(self.config.neighbours, len(self.voters_))  # type: ignore[attr-defined]
        rows, cols, vals = [], [], []
        if not has.any():  # nobody wrote: every similarity is zero, so no neighbour at all
            return sp.csr_matrix((len(codes), len(self.voters_)), dtype=np.float32)
        voters = self._voter_vectors()
        chunk = max(1, min(1024, _BLOCK // len(self.voters_)))
        for start in range(0, len(codes), chunk):
            c = np.asarray(codes[start : start + chunk])
            s = vectors[start : start + chunk] @ voters.T
            s[c[:, None] == self.voters_[None, :]] = 0.0  # not yourself
            s[~has[start : start + chunk]] = 0.0
            if k < s.shape[1]:
                top = np.argpartition(-s, k - 1, axis=1)[:, :k]
            else:  # every voter is a neighbour
                top = np.broadcast_to(np.arange(s.shape[1]), s.shape)
            w = np.clip(np.take_along_axis(s, top, 1), 0.0, None)
            r = np.repeat(np.arange(start, start + len(c)), top.shape[1])
            rows.append(r)
            cols.append(top.ravel())
            vals.append(w.ravel())
        if not rows:
            return sp.csr_matrix((0, len(self.voters_)), dtype=np.float32)
        out = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(codes), len(self.voters_)),
            dtype=np.float32,
        )
        out.eliminate_zeros()
        return out

    def _voter_vectors(self) -> np.ndarray:
        """The voters' unit vectors, gathered once (a cache: forget drops it with ``_memo``)."""
        memo = getattr(self, "_memo", None)
        if memo is None or memo[0] is not self.vectors_ or memo[1] is not self.voters_:
            memo = self._memo = (self.vectors_, self.voters_, self.vectors_[self.voters_])
        out: np.ndarray = memo[2]
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
        """How many of ``user``'s nearest writers chose ``item`` in training."""
        c = positions(self.item_ids_, [str(item)])[0]
        return 0 if c < 0 else self.peer_counter(UserRows.known(self, [user]), 0)(int(c))

    def _text_rows(self, rows: UserRows) -> tuple[np.ndarray, np.ndarray]:
        """Unit profiles of rows the fit did not see (their texts in the TF-IDF + SVD space,
        or their sentence-encoder vectors) and which rows have one."""
        d = self.vectors_.shape[1]
        if self.space_ is not None:
            vec = np.zeros((len(rows), d), np.float32)
            wrote = np.flatnonzero([len(t) > 0 for t in rows.texts])
            if len(wrote):
                vec[wrote] = self.space_.embed([" ".join(rows.texts[i]) for i in wrote])
        elif rows.text_vectors is not None and rows.text_vectors.shape[1] == d:
            vec = _unit(rows.text_vectors.astype(np.float32))
            vec[~rows.has_text] = 0.0
        else:
            vec = np.zeros((len(rows), d), np.float32)
        return vec, np.linalg.norm(vec, axis=1) > 0

    def _new_neighbours(self, rows: UserRows) -> sp.csr_matrix:
        vec, has = self._text_rows(rows)
        return self._nearest(vec, has, self.user_codes(rows.user_ids))

    def votes_rows(self, rows: UserRows) -> np.ndarray:
        """:meth:`votes` of ``rows`` (fitted rows by their training profile)."""
        out = np.zeros((len(rows), len(self.item_ids_)), dtype=np.float32)
        fit = rows.fitted
        if fit.any():
            out[fit] = self.votes([rows.user_ids[i] for i in np.flatnonzero(fit)])
        if (~fit).any():
            near = self._new_neighbours(rows.take(~fit))
            if near.nnz:
                out[~fit] = (near @ self.voter_items_).toarray()
        return out

    def peer_counter(self, rows: UserRows, r: int) -> Callable[[int], int]:
        """item code -> how many of row ``r``'s nearest writers chose it; computed on the first
        call, since reasons ask item after item."""
        memo: list[np.ndarray] = []

        def count(c: int) -> int:
            if not memo:
                one = rows.take(np.array([r]))
                if one.fitted[0]:
                    codes = self.user_codes(one.user_ids)
                    w = self.neighbours(codes) if codes[0] >= 0 else None
                else:
                    w = self._new_neighbours(one)
                voted = (w > 0).astype(np.float32) if w is not None else None
                row = np.zeros(len(self.item_ids_), np.float32)
                if voted is not None:
                    row = np.asarray((voted @ self.voter_items_).todense()).ravel()
                memo.append(row)
            return int(memo[0][c])

        return count

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        return self._votes(codes) + self.tiebreak_[None, :]

    def _fold_in(self, rows: UserRows) -> np.ndarray:
        return (self._new_neighbours(rows) @ self.voter_items_).toarray() + self.tiebreak_[None, :]

    def _own_parts(self, user_ids: list[str]) -> dict[str, Any]:
        out = super()._own_parts(user_ids)
        if self.space_ is None:
            codes = self.user_codes(user_ids)
            vec = np.zeros((len(codes), self.vectors_.shape[1]), np.float32)
            vec[codes >= 0] = self.vectors_[codes[codes >= 0]]
            has = np.zeros(len(codes), bool)
            has[codes >= 0] = self.has_text_[codes[codes >= 0]]
            out["text_vectors"], out["has_text"] = vec, has
        return out
