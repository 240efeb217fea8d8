"""The hybrid: a personal model blended with the segment prior and the text/content score.

Each component's scores are z-normalised per user over the candidate items (train items), so
the weights are comparable across models and users; the segment prior enters as log-probability.
For user u with n_u training interactions::

    g_u   = n_u / (n_u + cold_shift)            (1 when cold_shift = 0)
    score = g_u z_personal
          + (1 - g_u) (cold_mix z_segment + (1 - cold_mix) z_text)
          + w_segment z_segment + w_text z_text + w_pop z_popularity + w_recent z_recent
          + w_social z_social

so a user with little history moves towards the segment and text signals. With
``cold_weights`` set, cold users (n_u <= ``cold_max``) are scored by their own linear blend
instead::

    score_cold = a_p z_personal + a_c z_cold_base + a_s z_segment + a_t z_text + a_pop z_pop
               + a_r z_recent + a_f z_social + a_w z_peers

where ``cold_base`` is an optional second personal model (the baseline that did best on the
validation period's cold users), ``recent`` the recency-weighted popularity of
:func:`~segrec.recommend._recency.recent_popularity` (half-life ``recent_half_life``),
``social`` the friends' counts of :class:`~segrec.recommend._social.SocialRecommender` (zero
without social ties) and ``peers`` the votes of the users who write most like the user
(:class:`~segrec.recommend._textknn.TextKNNRecommender`; zero without text). With
``tune_objective="split"`` (the default) the warm weights are tuned on warm validation users
and the cold weights on cold validation users separately; all weights
are chosen on validation data with :meth:`HybridRecommender.tune` (never on test data). Cold
users are few in one validation period (39-68 on the reference datasets), so ``tune`` also takes
earlier validation *windows*, whose cold users join the cold-weight choice.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec._ids import positions
from segrec.diagnostics import UsageError
from segrec.recommend._base import FitContext, RecLists
from segrec.recommend._content import ContentRecommender
from segrec.recommend._hybrid_tune import (  # _relevance, _shortlist: for tests, benchmarks
    EvalSet,
    Parts,
    Rel,
    _ndcg,
    _rel_rows,
    eval_set,
    tops_store,
)
from segrec.recommend._hybrid_tune import _relevance as _relevance
from segrec.recommend._hybrid_tune import _shortlist as _shortlist
from segrec.recommend._recency import recent_popularity
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender, batch_rows
from segrec.recommend._segment import SegmentPopRecommender
from segrec.recommend._shared import shared_model
from segrec.recommend._social import SocialRecommender
from segrec.recommend._textknn import TextKNNRecommender

__all__ = ["DEFAULT_COLD_GRID", "DEFAULT_HYBRID_GRID", "HybridConfig", "HybridRecommender"]

_log = logging.getLogger(__name__)

#: weights tried by :meth:`HybridRecommender.tune` when no grid is given (1,728 combinations;
#: ``w_social`` collapses to 0 without social ties, leaving 864)
DEFAULT_HYBRID_GRID: dict[str, list[float]] = {
    "w_segment": [0.0, 0.25, 0.5, 1.0],
    "w_text": [0.0, 0.25, 0.5, 1.0],
    "cold_shift": [0.0, 2.0, 5.0],
    "cold_mix": [0.0, 0.5, 1.0],
    "w_pop": [0.0, 0.5, 1.0],
    "w_recent": [0.0, 0.5],
    "w_social": [0.0, 0.5],
}

#: weights of the cold-user blend tried by :meth:`HybridRecommender.tune` (256 combinations;
#: ``cold_base`` collapses to 0 without a cold base model, ``social`` without social ties,
#: ``peers`` without user text).
#: Deliberately coarse: one validation period holds few cold users (39 on Last.fm, 68 on
#: Amazon MI) and a 243-combination grid over-fitted them (run-to-run swings of 0.74x-1.02x of
#: the best cold baseline).
DEFAULT_COLD_GRID: dict[str, list[float]] = {
    "personal": [0.0, 1.0],
    "cold_base": [0.0, 1.0],
    "segment": [0.0, 0.5],
    "text": [0.0, 0.5],
    "pop": [0.0, 0.5],
    "recent": [0.0, 1.0],
    "social": [0.0, 1.0],
    "peers": [0.0, 1.0],
}
COLD_KEYS = tuple(DEFAULT_COLD_GRID)
#: the reason kind each component's contribution stands for (personal and cold base: their
#: fitted models' own kinds, see :meth:`HybridRecommender.reasons`)
_REASON_OF = {
    "segment": "segment",
    "text": "text",
    "pop": "popular",
    "recent": "trending",
    "social": "social",
    "peers": "peers",
}


class HybridConfig(BaseModel):
    """``base`` / ``base_params``: the personal model (a registry name); ``shrinkage``: of the
    segment prior; ``history_weight``: of the content profile. Blend weights as in the module
    docstring. ``cold_base`` / ``cold_base_params``: the optional personal model of the cold
    blend; ``cold_weights``: its weights (keys as :data:`DEFAULT_COLD_GRID`; ``None``: cold users
    use the shared formula); ``cold_max``: the most training interactions of a cold user.
    ``tune_objective``: mean validation NDCG over all users (``ndcg``), the mean of the cold and
    warm means (``balanced``), or warm and cold weights tuned on their own users (``split``;
    falls back to ``ndcg`` with fewer than ``min_cold_val`` cold validation users, counted over
    every validation window). ``tune_shortlist``: see :func:`_shortlist`."""

    model_config = ConfigDict(extra="forbid")
    base: str = "ease"
    base_params: dict[str, Any] = Field(default_factory=dict)
    w_segment: float = Field(0.25, ge=0.0)
    w_text: float = Field(0.25, ge=0.0)
    cold_shift: float = Field(2.0, ge=0.0)
    cold_mix: float = Field(0.5, ge=0.0, le=1.0)
    w_pop: float = Field(0.0, ge=0.0)
    shrinkage: float = Field(50.0, ge=0.0)
    history_weight: float = Field(0.5, ge=0.0, le=1.0)
    cold_base: str | None = None
    cold_base_params: dict[str, Any] = Field(default_factory=dict)
    cold_weights: dict[str, float] | None = None
    cold_max: int = Field(2, ge=0)
    recent_half_life: float = Field(
        0.05,
        gt=0.0,
        description="half-life of the recency-weighted popularity, as a fraction of the training "
        "period (0.05: the best of 0.02-0.5 for cold users on both validation periods)",
    )
    w_recent: float = Field(0.0, ge=0.0)
    w_social: float = Field(0.0, ge=0.0)
    tune_objective: Literal["ndcg", "balanced", "split"] = "split"
    min_cold_val: int = Field(20, ge=1)
    tune_shortlist: int | None = Field(
        100,
        ge=1,
        description="while tuning, rank only each user's shortlist: the union of every "
        "component's top N unseen items (None: every item). Exact whenever the union covers "
        "the catalogue; it keeps the weight search linear in users, not users x items",
    )


_R = TypeVar("_R", bound=ScoringRecommender)


#: requests of at most this many users keep their components for their reasons
MEMO_ROWS = 64


def _rows_key(rows: UserRows) -> tuple[Any, ...]:
    """Everything a row's components depend on, as comparable values."""
    h = rows.history
    tv = rows.text_vectors
    return (
        tuple(rows.user_ids),
        h.shape,
        h.indptr.tobytes(),
        h.indices.tobytes(),
        np.asarray(rows.segments).tobytes(),
        np.asarray(rows.fitted).tobytes(),
        None if tv is None else np.asarray(tv).tobytes(),
        np.asarray(rows.has_text).tobytes(),
        tuple(tuple(t) for t in rows.texts),
        tuple(tuple(f) for f in rows.friends),
    )


def _fit_or_none(rec: _R, ctx: FitContext) -> _R | None:
    """``rec`` fitted on ``ctx``, or ``None`` when the data cannot support it (its UsageError)."""
    try:
        rec.fit(ctx)
    except UsageError:
        return None
    return rec


def _z(s: np.ndarray, cand: np.ndarray) -> np.ndarray:
    c = s[:, cand]
    mu = c.mean(axis=1, keepdims=True)
    sd = c.std(axis=1, keepdims=True)
    sd[sd < 1e-12] = 1.0
    return ((s - mu) / sd).astype(np.float32)


class HybridRecommender(ScoringRecommender):
    """Personal model + segment prior + content score, blended per user (see module doc)."""

    name: ClassVar[str] = "hybrid"
    config_class: ClassVar[type[BaseModel]] = HybridConfig
    #: the most rows whose components :meth:`components_rows` keeps (see :meth:`recommend_rows`)
    _memo_rows: ClassVar[int] = MEMO_ROWS

    def _fit(self, ctx: FitContext) -> None:
        self._memo: tuple[tuple[Any, ...], Parts] | None = None
        cfg = self.config
        assert isinstance(cfg, HybridConfig)
        self.personal_: ScoringRecommender = shared_model(cfg.base, cfg.base_params, ctx)
        self.cold_model_: ScoringRecommender | None = None
        if cfg.cold_base is not None:
            self.cold_model_ = shared_model(cfg.cold_base, cfg.cold_base_params, ctx)
        self.segment_ = SegmentPopRecommender(shrinkage=cfg.shrinkage).fit(ctx)
        self.recent_ = recent_popularity(ctx, cfg.recent_half_life)
        # no ties between the training users: no friends component; no text: no content, peers
        self.content_ = _fit_or_none(ContentRecommender(history_weight=cfg.history_weight), ctx)
        self.social_ = _fit_or_none(SocialRecommender(), ctx)
        self.peers_ = _fit_or_none(TextKNNRecommender(), ctx)
        # the shortlist tops of the components above (all but the segment prior), shared with
        # every hybrid on this training data that differs only in its segmentation
        self._tops = tops_store(self, ctx)

    def components(self, user_ids: Sequence[str]) -> Parts:
        """The z-scored components of ``user_ids`` (``cold_base`` repeats ``personal`` without a
        cold base model; ``social`` is all zeros without social ties, ``peers`` without text)."""
        return self.components_rows(UserRows.known(self, user_ids))

    def components_rows(self, rows: UserRows) -> Parts:
        """:meth:`components` of ``rows``: every component scores them with ``score_rows`` (the
        rows the fit did not see folded in), ``n`` is each row's history size. An online
        request (at most :data:`MEMO_ROWS` users), or a block in :meth:`recommend_rows`, keeps
        its components, so scoring and its reasons compute them once."""
        key = _rows_key(rows) if len(rows) <= self._memo_rows else None
        memo = getattr(self, "_memo", None)
        if key is not None and memo is not None and memo[0] == key:
            return memo[1]
        parts = self._components_rows(rows)
        if key is not None:
            self._memo = (key, parts)
        return parts

    def _components_rows(self, rows: UserRows) -> Parts:
        cand = self.candidates_
        zp = _z(self.personal_.score_rows(rows), cand)
        zc = zp if self.cold_model_ is None else _z(self.cold_model_.score_rows(rows), cand)
        zs = _z(np.log(self.segment_.score_rows(rows) + 1e-9), cand)
        zt = (
            np.zeros_like(zp) if self.content_ is None else _z(self.content_.score_rows(rows), cand)
        )
        if self.social_ is None:
            zf = np.zeros_like(zp)
        else:  # users whose friends chose nothing get a constant row, z-scored to 0
            zf = _z(np.log1p(self.social_.friend_counts_rows(rows)), cand)
        zw = np.zeros_like(zp) if self.peers_ is None else _z(self.peers_.votes_rows(rows), cand)
        n = rows.n_history.astype(np.float32)
        zpop = _z(np.log1p(self.popularity_)[None, :].astype(np.float32), cand)
        zrec = _z(np.log1p(self.recent_)[None, :].astype(np.float32), cand)
        z = {
            "personal": zp,
            "cold_base": zc,
            "segment": zs,
            "text": zt,
            "pop": zpop,
            "recent": zrec,
            "social": zf,
            "peers": zw,
        }
        return Parts(z, n)

    @staticmethod
    def _weights(n: np.ndarray, w: dict[str, float]) -> dict[str, np.ndarray]:
        """Per-user (column vector) weight of each component under the warm formula."""
        c = w["cold_shift"]
        g = (n / (n + c) if c > 0 else np.ones_like(n))[:, None]
        one = np.ones_like(g)
        return {
            "personal": g,
            "segment": (1 - g) * w["cold_mix"] + w["w_segment"],
            "text": (1 - g) * (1 - w["cold_mix"]) + w["w_text"],
            "pop": w.get("w_pop", 0.0) * one,
            "recent": w.get("w_recent", 0.0) * one,
            "social": w.get("w_social", 0.0) * one,
        }

    def _blend(
        self, parts: Parts, w: dict[str, float], cold_w: dict[str, float] | None = None
    ) -> np.ndarray:
        out = _weighted_sum(parts, self._weights(parts.n, w))
        if cold_w is not None:
            cold = parts.n <= self.config.cold_max  # type: ignore[attr-defined]
            if cold.any():
                out[cold] = _cold_blend(parts.rows(np.flatnonzero(cold)), cold_w)
        return out

    def _current(self) -> dict[str, float]:
        return {k: float(getattr(self.config, k)) for k in DEFAULT_HYBRID_GRID}

    def score(self, user_ids: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        return self.score_rows(UserRows.known(self, user_ids))

    def score_rows(self, rows: UserRows) -> np.ndarray:
        self._check_fitted()
        self._check_rows(rows)
        cw = self.config.cold_weights  # type: ignore[attr-defined]
        return self._blend(self.components_rows(rows), self._current(), cw)

    def recommend_rows(self, rows: UserRows, k: int = 10, reasons: bool = True) -> RecLists:
        """The lists of ``rows`` with reasons. Rows scored in one block (as
        :meth:`~segrec.model.SegrecModel.recommend_users` sends them) compute their components
        once for their scores and their reasons, which is half the cost of publishing every
        user's list; the block's components are dropped afterwards (hundreds of MB at 100,000
        items)."""
        if not reasons or len(rows) <= MEMO_ROWS or len(rows) > batch_rows(len(self.item_ids_)):
            return super().recommend_rows(rows, k, reasons)
        self._memo_rows = len(rows)  # type: ignore[misc]
        try:
            return super().recommend_rows(rows, k, reasons)
        finally:
            del self._memo_rows
            self._memo = None

    def reasons_rows(self, rows: UserRows, items: list[np.ndarray]) -> list[list[str]]:
        """Each item's reason is the kind of the component that contributed most to its score
        (personal and cold base: their model's kind, "similar" for the collaborative ones,
        "popular" for popularity; see :mod:`segrec.recommend._reasons`)."""
        from segrec.recommend._explain import explain_rows

        parts = self.components_rows(rows)
        n_users = len(parts.n)
        warm = self._weights(parts.n, self._current())
        weights = {k: np.broadcast_to(warm.get(k, 0.0), (n_users, 1)).copy() for k in COLD_KEYS}
        weights["cold_base"][:] = 0.0
        cw = self.config.cold_weights  # type: ignore[attr-defined]
        if cw is not None:
            cold = parts.n <= self.config.cold_max  # type: ignore[attr-defined]
            for k in COLD_KEYS:
                weights[k][cold] = cw.get(k, 0.0)
        # the personal models speak for themselves: a popularity base is "popular", not
        # "similar to something you bought"
        cold_model = self.cold_model_ or self.personal_
        kind_of = {
            **_REASON_OF,
            "personal": self.personal_.explained_as(),
            "cold_base": cold_model.explained_as(),
        }

        def kinds_of(r: int, its: np.ndarray) -> list[str]:
            cols = positions(self.item_ids_, its)
            contrib: dict[str, np.ndarray] = {}
            for k in COLD_KEYS:
                z = parts.z[k]
                c = weights[k][r] * z[0 if z.shape[0] == 1 else r, cols]
                kind = kind_of[k]
                contrib[kind] = contrib[kind] + c if kind in contrib else c
            kinds = list(contrib)
            table = np.stack([contrib[k] for k in kinds])
            return [kinds[int(np.argmax(table[:, j]))] for j in range(len(its))]

        return explain_rows(self, rows, items, kinds_of)

    # -- tuning -----------------------------------------------------------------------------
    def _eval_set(self, held: pd.DataFrame, k: int) -> EvalSet | None:
        """(users, components, mask, relevance) of the users of ``held`` (user_id, item_id) with
        training history, on items seen in training, restricted to each user's shortlist
        (:func:`_shortlist`, built in user chunks: :func:`~segrec.recommend._hybrid_tune.
        eval_set`); ``None`` when there are none."""
        return eval_set(self, held, k)

    def tune(
        self,
        ctx_fit: FitContext,
        val_interactions: pd.DataFrame,
        grid: dict[str, list[float]] | None = None,
        k: int = 10,
        cold_grid: dict[str, list[float]] | None = None,
        windows: Sequence[tuple[FitContext, pd.DataFrame]] = (),
    ) -> HybridRecommender:
        """Fit on ``ctx_fit``, pick the blend weights with the best validation NDCG@k on
        ``val_interactions`` (user_id, item_id) and keep them in ``config``; ``tuning_`` holds
        every tried combination (column ``group``: all, warm or cold users). With the ``split``
        objective the warm weights are tuned on warm users and ``cold_weights`` on cold users
        over ``cold_grid``. ``windows`` are further (context, held-out interactions) pairs from
        earlier in the training period, each context holding only what came before its window:
        their cold users join the choice of ``cold_weights`` (pooled NDCG over every window's
        cold users). Call :meth:`fit` on the full training context afterwards."""
        cfg = self.config
        assert isinstance(cfg, HybridConfig)
        grid = {**{k_: [v] for k_, v in self._current().items()}, **(grid or DEFAULT_HYBRID_GRID)}
        self.fit(ctx_fit)
        if self.social_ is None:
            grid["w_social"] = [0.0]
        ev = self._eval_set(val_interactions, k)
        if ev is None:
            _log.warning(
                "hybrid.tune: no validation user with history; keeping %s", self._current()
            )
            self.tuning_ = pd.DataFrame()
            return self
        ids, parts, mask, rel = ev
        cold = parts.n <= cfg.cold_max
        cold_sets = [(parts.rows(np.flatnonzero(cold)), mask[cold], _rel_rows(rel, cold))]
        if cfg.tune_objective == "split":
            cold_sets += self._window_sets(windows, k)
        n_cold = sum(len(s[0].n) for s in cold_sets)
        split = cfg.tune_objective == "split" and n_cold >= cfg.min_cold_val
        warm_rows = np.flatnonzero(~cold) if split else np.arange(len(ids))
        rows = []
        sub = parts.rows(warm_rows)
        sub_rel = _rel_rows(rel, warm_rows)
        sub_cold = cold[warm_rows]
        sub_mask = mask[warm_rows]
        if len(warm_rows) == 0:  # every validation user is cold: warm weights stay as they are
            grid = {k_: [v] for k_, v in self._current().items()}
        lead = LeadingSum()
        # combinations whose per-user weights coincide (any cold_mix when cold_shift is 0)
        # blend to the same scores: rank those once
        done: dict[bytes, np.ndarray] = {}
        for combo in itertools.product(*grid.values()):
            w = dict(zip(grid.keys(), combo, strict=True))
            if len(warm_rows) == 0:
                rows.append({"group": "warm", **w, "objective": np.nan})
                continue
            weights = self._weights(sub.n, w)
            key = b"".join(np.ascontiguousarray(v).tobytes() for v in weights.values())
            if key not in done:
                s = lead.weighted_sum(sub, weights, _WARM_LEAD, _lead_key(w))
                s += sub_mask
                done[key] = _ndcg(s, sub_rel, k)
            nd = done[key]
            obj = nd.mean()
            if cfg.tune_objective == "balanced" and sub_cold.any() and (~sub_cold).any():
                obj = 0.5 * (nd[sub_cold].mean() + nd[~sub_cold].mean())
            rows.append(
                {
                    "group": "warm" if split else "all",
                    **w,
                    "objective": obj,
                    "ndcg": nd.mean(),
                    "ndcg_cold": nd[sub_cold].mean() if sub_cold.any() else np.nan,
                }
            )
        warm = pd.DataFrame(rows)
        best = warm.iloc[int(np.nan_to_num(warm.objective.to_numpy(), nan=-1.0).argmax())]
        update: dict[str, Any] = {k_: float(best[k_]) for k_ in grid}
        update["cold_weights"] = None
        frames = [warm]
        if split:
            cw, cold_table = self._tune_cold(cold_sets, k, cold_grid)
            update["cold_weights"] = cw
            frames.append(cold_table)
        self.tuning_ = pd.concat(frames, ignore_index=True)
        self.config = cfg.model_copy(update=update)
        _log.info(
            "hybrid.tune: %d users (%d cold; %d cold over %d windows), warm %s, cold %s",
            len(ids),
            int(cold.sum()),
            n_cold,
            len(cold_sets),
            {k_: update[k_] for k_ in grid},
            update["cold_weights"],
        )
        return self

    def _window_sets(
        self, windows: Sequence[tuple[FitContext, pd.DataFrame]], k: int
    ) -> list[tuple[Parts, np.ndarray, Rel]]:
        """The cold users of each earlier window, scored by this configuration fitted on the
        window's own context."""
        out = []
        for ctx_w, held_w in windows:
            hw = HybridRecommender(config=self.config)
            hw.fit(ctx_w)
            # only the window's cold users, their rows as in the window's whole tuning set
            ev = eval_set(hw, held_w, k, cold_max=self.config.cold_max)  # type: ignore[attr-defined]
            if ev is not None and len(ev[0]):
                out.append(ev[1:])
        return out

    def _tune_cold(
        self,
        cold_sets: list[tuple[Parts, np.ndarray, Rel]],
        k: int,
        cold_grid: dict[str, list[float]] | None,
    ) -> tuple[dict[str, float], pd.DataFrame]:
        """The cold blend with the best NDCG@k over the cold users of every set (pooled)."""
        g = dict(cold_grid or DEFAULT_COLD_GRID)
        if self.cold_model_ is None:
            g["cold_base"] = [0.0]
        if self.social_ is None:
            g["social"] = [0.0]
        if self.peers_ is None:
            g["peers"] = [0.0]
        rows = []
        for combo in itertools.product(*(g.get(c, [0.0]) for c in COLD_KEYS)):
            if not any(combo):
                continue
            w = dict(zip(COLD_KEYS, combo, strict=True))
            nd = np.concatenate(
                [_ndcg(_cold_blend(p, w) + m, rel, k) for p, m, rel in cold_sets if len(p.n)]
            )
            rows.append(
                {
                    "group": "cold",
                    **w,
                    "objective": nd.mean(),
                    "ndcg_cold": nd.mean(),
                    "n_cold": len(nd),
                }
            )
        table = pd.DataFrame(rows)
        best = table.iloc[int(table.objective.to_numpy().argmax())]
        return {c: float(best[c]) for c in COLD_KEYS}, table

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["base_model"] = self.personal_.params() if hasattr(self, "personal_") else None
        return out


def _weighted_sum(parts: Parts, weights: dict[str, Any]) -> np.ndarray:
    """sum of weights[name] * z[name] over the named components; a weight is a number or a
    per-user column, and zero weights are skipped."""
    out = np.zeros((len(parts.n), parts.z["personal"].shape[1]), dtype=np.float32)
    for name, w in weights.items():
        if np.any(w):
            out += w * parts.z[name]
    return out


#: the warm formula's components whose weights depend only on :func:`_lead_key`; the grid
#: varies them in its outer loops, so :class:`LeadingSum` reuses their sum
_WARM_LEAD = ("personal", "segment", "text")


def _lead_key(w: dict[str, float]) -> tuple[float, ...]:
    return (w["cold_shift"], w["cold_mix"], w["w_segment"], w["w_text"])


class LeadingSum:
    """:func:`_weighted_sum` that keeps the sum of the leading components between calls with
    the same ``key``: the same float32 additions in the same order, so the same values, while
    a weight search that varies only the trailing weights adds the leading ones once."""

    def __init__(self) -> None:
        self._key: tuple[float, ...] | None = None
        self._sum = np.zeros(0, np.float32)

    def weighted_sum(
        self, parts: Parts, weights: dict[str, Any], lead: tuple[str, ...], key: tuple[float, ...]
    ) -> np.ndarray:
        if list(weights)[: len(lead)] != list(lead):  # not leading: no reuse
            return _weighted_sum(parts, weights)
        if key != self._key:
            self._sum = _weighted_sum(parts, {n: weights[n] for n in lead})
            self._key = key
        out = self._sum.copy()
        for name, w in weights.items():
            if name not in lead and np.any(w):
                out += w * parts.z[name]
        return out


def _cold_blend(parts: Parts, w: dict[str, float]) -> np.ndarray:
    return _weighted_sum(parts, {c: w.get(c, 0.0) for c in COLD_KEYS})
