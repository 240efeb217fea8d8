""":class:`UserFeaturizer`: ``Dataset -> UserFeatures`` as a fitted stage (fit once, transform
any users later with exactly the batch's code), and its state without pickle."""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.data import Dataset
from segrec.data._one_user import OneUserEvents
from segrec.diagnostics import UsageError
from segrec.features._behavior import BehaviorFeaturizer
from segrec.features._profiles import item_embeddings, item_review_vectors
from segrec.features._state import State, frame_from_state, frame_state, nest, unnest
from segrec.features._text_profiler import TextProfiler
from segrec.features._user_features import UserFeatures

__all__ = ["UserFeaturizer", "UserFeaturizerConfig"]

log = logging.getLogger(__name__)

#: version of the layout :meth:`UserFeaturizer.to_state` writes
STATE_FORMAT = 1


class UserFeaturizerConfig(BaseModel):
    """Options of :class:`UserFeaturizer` (those of :func:`build_user_features`, plus ``graph``:
    the keyword options of :func:`segrec.graph.graph_embeddings`, None for no graph block)."""

    model_config = ConfigDict(extra="forbid")
    text: bool = True
    behavior: bool = True
    text_pooling: Literal["mean", "recency", "rating"] = "mean"
    item_fallback: bool = True
    n_categories: int = Field(10, ge=1)
    item_vectors: bool = False
    graph: dict[str, Any] | None = None
    random_state: int = 0


class UserFeaturizer:
    """Text, behaviour and (optionally) GCN graph blocks per user, fitted once.

    ``fit_transform(ds)`` is what the evaluation computes; ``transform(users)`` gives users in a
    small Dataset (their interactions, texts and named friends only) the same blocks from the
    fitted state: reference time, prices, categories, medians, pooling, item-text vectors and
    ridge map, and the graph fold-in. ``to_state``/``from_state`` round-trip without pickle.

        >>> from segrec.data import load_dataset
        >>> from segrec.features import TextEmbedder
        >>> ds, _ = load_dataset("synthetic:users=200,seed=1")
        >>> fz = UserFeaturizer(TextEmbedder(backend="tfidf-svd", use_cache=False))
        >>> feats = fz.fit_transform(ds)
        >>> sorted(feats.blocks), feats.n_users == ds.n_users
        (['behavior', 'text'], True)
    """

    def __init__(
        self,
        embedder: Any = None,
        *,
        text: bool = True,
        behavior: bool = True,
        text_pooling: Literal["mean", "recency", "rating"] = "mean",
        item_fallback: bool = True,
        n_categories: int = 10,
        item_vectors: bool = False,
        graph: dict[str, Any] | None = None,
        random_state: int = 0,
    ) -> None:
        self.embedder = embedder
        self.config = UserFeaturizerConfig(
            text=text,
            behavior=behavior,
            text_pooling=text_pooling,
            item_fallback=item_fallback,
            n_categories=n_categories,
            item_vectors=item_vectors,
            graph=graph,
            random_state=random_state,
        )

    # -- fit ------------------------------------------------------------------------------
    def fit(self, ds: Dataset, text_vectors: np.ndarray | None = None) -> UserFeaturizer:
        self.fit_transform(ds, text_vectors)
        return self

    def fit_transform(self, ds: Dataset, text_vectors: np.ndarray | None = None) -> UserFeatures:
        """Blocks of every user of ``ds`` (the training-period dataset); ``text_vectors`` (one
        row per ``ds.texts`` row) skips embedding the texts."""
        if text_vectors is not None and len(text_vectors) != len(ds.texts):
            raise UsageError(
                f"text_vectors has {len(text_vectors)} rows but the dataset has {len(ds.texts)} "
                "texts; pass one vector per ds.texts row (same order)"
            )
        out: dict[str, np.ndarray] = {}
        missing: dict[str, np.ndarray] = {}
        columns: dict[str, list[str]] = {}
        meta: dict[str, Any] = {"dataset": ds.name}
        self.embedder_ = self.embedder
        self.text_: TextProfiler | None = None
        self.item_text_vectors_: pd.DataFrame | None = None
        self._fit_text(ds, text_vectors, out, missing, meta)
        self.behavior_: BehaviorFeaturizer | None = None
        if self.config.behavior and len(ds.interactions):
            self.behavior_ = BehaviorFeaturizer(n_categories=self.config.n_categories)
            f, miss, basis = self.behavior_.fit_transform(ds)
            out["behavior"], missing["behavior"] = f.to_numpy(np.float32), miss
            columns["behavior"] = list(f.columns)
            meta["monetary_basis"] = basis
        feats = UserFeatures(ds.user_ids, out, missing, columns, meta)
        return self._fit_graph(ds, feats)

    def _fit_text(
        self,
        ds: Dataset,
        text_vectors: np.ndarray | None,
        out: dict[str, np.ndarray],
        missing: dict[str, np.ndarray],
        meta: dict[str, Any],
    ) -> None:
        cfg, emb = self.config, self.embedder
        # item texts can stand in for silent users only in the same space as the review vectors
        use_items = cfg.item_fallback and (emb is not None or text_vectors is None)
        if not (cfg.text and (len(ds.texts) or use_items)):
            return
        if emb is None and (text_vectors is None or use_items):
            from segrec.features._text import TextEmbedder

            emb = self.embedder_ = TextEmbedder()
        if text_vectors is None and len(ds.texts):
            text_vectors = emb.encode(ds.texts["text"].fillna("").tolist())
            meta["text_embedding"] = dict(getattr(emb, "stats_", {}))
        item_vecs = item_embeddings(ds, emb) if use_items else None
        if item_vecs is not None and item_vecs.empty:
            item_vecs = None
        if "text_embedding" in meta:
            meta["text_embedding"]["source"] = "users"
        elif item_vecs is not None:  # nobody wrote: every text vector is an item's description
            meta["text_embedding"] = {**getattr(emb, "stats_", {}), "source": "items"}
        tv = text_vectors
        if tv is None:
            tv = np.zeros((0, item_vecs.shape[1] if item_vecs is not None else 0), np.float32)
        profiler = TextProfiler(cfg.text_pooling)
        prof = profiler.fit_transform(ds, tv, item_vecs)
        if not prof.vectors.shape[1]:
            return
        self.text_ = profiler
        out["text"], missing["text"] = prof.vectors, prof.missing
        meta["text_source"] = pd.Series(prof.source, index=ds.user_ids).astype(str)
        meta["text_pooling"] = cfg.text_pooling
        if cfg.item_vectors:
            reviewed = item_review_vectors(ds, tv) if len(tv) else None
            self.item_text_vectors_ = (
                reviewed if reviewed is not None and len(reviewed) else item_vecs
            )
            meta["item_text_vectors"] = self.item_text_vectors_

    def _fit_graph(self, ds: Dataset, feats: UserFeatures) -> UserFeatures:
        self.graph_: Any = None
        if self.config.graph is None:
            return feats
        try:
            from segrec.graph import GraphEmbedder

            self.graph_ = GraphEmbedder(
                **{"random_state": self.config.random_state, **self.config.graph}
            )
            g = self.graph_.fit_transform(ds, feats)
        except ImportError as exc:
            log.warning("graph embeddings unavailable: %s", exc)
            self.graph_ = None
            return feats
        return feats.with_block("graph", g.block("graph"), g.missing["graph"])

    # -- transform ------------------------------------------------------------------------
    def transform(
        self,
        users: Dataset | OneUserEvents,
        user_ids: Any = None,
        text_vectors: np.ndarray | None = None,
    ) -> UserFeatures:
        """The same blocks for the users of ``users`` (a Dataset of only their interactions,
        texts and social ties; items come from the fitted state). Users are ``user_ids``, else
        everyone with an interaction or a text in ``users``, or naming a friend (``src``).
        One new user's plain events (:class:`OneUserEvents`) take a numpy route to the same
        blocks."""
        if not hasattr(self, "behavior_"):
            raise UsageError("this UserFeaturizer is not fitted; call fit(ds) first")
        if isinstance(users, OneUserEvents):
            if text_vectors is None and _ids_are(user_ids, users):
                return self._one_user(users)
            users = users.dataset()
        ids = _target_ids(users, user_ids)
        out: dict[str, np.ndarray] = {}
        missing: dict[str, np.ndarray] = {}
        columns: dict[str, list[str]] = {}
        meta: dict[str, Any] = {"dataset": users.name}
        if self.text_ is not None:
            prof = self.text_.transform(users, self._text_vectors(users, text_vectors), ids)
            out["text"], missing["text"] = prof.vectors, prof.missing
            meta["text_source"] = pd.Series(prof.source, index=ids).astype(str)
            meta["text_pooling"] = self.config.text_pooling
            if self.config.item_vectors:
                meta["item_text_vectors"] = self.item_text_vectors_
        if self.behavior_ is not None:
            f, miss, basis = self.behavior_.transform(users, ids)
            out["behavior"], missing["behavior"] = f.to_numpy(np.float32), miss
            columns["behavior"] = list(f.columns)
            meta["monetary_basis"] = basis
        feats = UserFeatures(ids, out, missing, columns, meta)
        if self.graph_ is None:
            return feats
        g = self.graph_.transform(users, feats)
        return feats.with_block("graph", g.block("graph"), g.missing["graph"])

    def _one_user(self, ev: OneUserEvents) -> UserFeatures:
        """:meth:`transform` of one user who wrote nothing, from their events' arrays."""
        ids = ev.user_ids
        out: dict[str, np.ndarray] = {}
        missing: dict[str, np.ndarray] = {}
        columns: dict[str, list[str]] = {}
        meta: dict[str, Any] = {"dataset": "users"}
        if self.text_ is not None:
            vec, source = self.text_.profile_of_items(ev.items)
            out["text"], missing["text"] = vec[None, :], np.array([source == "missing"])
            meta["text_source"] = pd.Series([source], index=ids).astype(str)
            meta["text_pooling"] = self.config.text_pooling
            if self.config.item_vectors:
                meta["item_text_vectors"] = self.item_text_vectors_
        if self.behavior_ is not None:
            out["behavior"] = self.behavior_.row_of(ev)[None, :].astype(np.float32)
            missing["behavior"] = np.zeros(1, dtype=bool)
            columns["behavior"] = list(self.behavior_.columns_)
            meta["monetary_basis"] = self.behavior_.basis_
        feats = UserFeatures(ids, out, missing, columns, meta)
        if self.graph_ is None:
            return feats
        g = self.graph_.transform(ev, feats)
        return feats.with_block("graph", g.block("graph"), g.missing["graph"])

    def _text_vectors(self, users: Dataset, given: np.ndarray | None) -> np.ndarray:
        assert self.text_ is not None
        if given is not None:
            return np.asarray(given, np.float32)
        if not len(users.texts):
            return np.zeros((0, self.text_.dim_), np.float32)
        if self.embedder_ is None:
            raise UsageError(
                "this UserFeaturizer was fitted on precomputed text_vectors without an "
                "embedder; pass text_vectors= to transform, or from_state(..., embedder=...)"
            )
        return self.embedder_.encode(users.texts["text"].fillna("").tolist())

    # -- state (no pickle) ----------------------------------------------------------------
    def to_state(self) -> State:
        """(JSON-able meta, arrays): everything ``transform`` needs except the embedder."""
        if not hasattr(self, "behavior_"):
            raise UsageError("this UserFeaturizer is not fitted; nothing to save")
        meta: dict[str, Any] = {"format": STATE_FORMAT, "config": self.config.model_dump()}
        arrays: dict[str, np.ndarray] = {}
        for name, part in (
            ("text", self.text_),
            ("behavior", self.behavior_),
            ("graph", self.graph_),
        ):
            meta[name] = None
            if part is not None:
                meta[name], pa = part.to_state()
                arrays.update(nest(name, pa))
        meta["item_text_vectors"] = self.item_text_vectors_ is not None
        if self.item_text_vectors_ is not None:
            arrays.update(frame_state("item_text_vectors", self.item_text_vectors_))
        return meta, arrays

    @classmethod
    def from_state(
        cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], embedder: Any = None
    ) -> UserFeaturizer:
        """A fitted featurizer from :meth:`to_state` output; ``embedder`` embeds new texts (it
        must be the one the fit used)."""
        if int(meta.get("format", 0)) > STATE_FORMAT:
            raise UsageError(
                f"featurizer state format {meta.get('format')} is newer than this segrec reads "
                f"({STATE_FORMAT}); upgrade segrec"
            )
        self = cls(embedder, **meta["config"])
        self.embedder_ = embedder
        self.text_ = _part(TextProfiler, "text", meta, arrays)
        self.behavior_ = _part(BehaviorFeaturizer, "behavior", meta, arrays)
        self.graph_ = None
        if meta["graph"] is not None:
            from segrec.graph import GraphEmbedder

            self.graph_ = GraphEmbedder.from_state(meta["graph"], unnest("graph", arrays))
        self.item_text_vectors_ = (
            frame_from_state("item_text_vectors", arrays) if meta["item_text_vectors"] else None
        )
        return self


def _part(cls: Any, name: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    return None if meta[name] is None else cls.from_state(meta[name], unnest(name, arrays))


def _ids_are(user_ids: Any, ev: OneUserEvents) -> bool:
    """True when ``user_ids`` asks for exactly the one user of ``ev`` (or is None)."""
    return user_ids is None or [str(u) for u in user_ids] == [ev.user_id]


def _target_ids(users: Dataset, user_ids: Any) -> pd.Index:
    if user_ids is not None:
        return pd.Index([str(u) for u in user_ids], dtype="object", name="user_id")
    present = set(users.interactions["user_id"].dropna().astype(str))
    present |= set(users.texts["user_id"].dropna().astype(str))
    present |= set(users.social["src"].dropna().astype(str))
    return users.user_ids[users.user_ids.isin(present)]
