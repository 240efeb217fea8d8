"""Content-based recommendation: the user's text profile against item text vectors (cosine)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from segrec._ids import positions
from segrec.diagnostics import UsageError
from segrec.recommend._base import FitContext
from segrec.recommend._rows import UserRows
from segrec.recommend._scorer import ScoringRecommender
from segrec.recommend._shared import shared_cache
from segrec.recommend._tfidf import TextSpace, vectorizer

__all__ = ["ContentConfig", "ContentRecommender", "shared_tfidf_vectors", "tfidf_vectors"]

_log = logging.getLogger(__name__)


class ContentConfig(BaseModel):
    """``history_weight`` mixes the user's own text vector (0) with the mean vector of the items
    they consumed (1); users without text use the history mean alone. ``dim`` is the size of the
    TF-IDF + SVD space built from the training texts when the context carries no item vectors."""

    model_config = ConfigDict(extra="forbid")
    history_weight: float = Field(0.5, ge=0.0, le=1.0)
    dim: int = Field(128, ge=2)
    random_state: int | None = None


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (x / n).astype(np.float32)


def tfidf_vectors(
    ctx: FitContext, dim: int = 128, random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Item and user vectors in one TF-IDF + truncated-SVD space built from the training texts.

    Item documents are the texts written about an item (plus title and categories); user
    documents the texts a user wrote. Returns (item_vectors, user_vectors) frames indexed by id.
    """
    items, users, _ = tfidf_space(ctx, dim, random_state)
    return items, users


def tfidf_space(
    ctx: FitContext, dim: int = 128, random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, TextSpace | None]:
    """:func:`tfidf_vectors` and the fitted space (None when no space could be built), whose
    :meth:`TextSpace.embed` places a new user's texts in it."""
    from sklearn.decomposition import TruncatedSVD

    ds = ctx.train
    t = ds.texts.dropna(subset=["text"])
    t = t[t.user_id.notna()]
    udoc = t.groupby(t.user_id.astype(str), observed=True).text.agg(" ".join)
    it = t[t.item_id.notna()]
    idoc = it.groupby(it.item_id.astype(str), observed=True).text.agg(" ".join)
    if len(ds.items):
        meta = (
            ds.items.title.fillna("").astype(str)
            + " "
            + ds.items.categories.fillna("").astype(str).str.replace("|", " ", regex=False)
        )
        meta.index = ds.items.item_id.astype(str)
        meta = meta[meta.str.strip() != ""]
        idoc = idoc.reindex(idoc.index.union(meta.index), fill_value="")
        idoc.loc[meta.index] = idoc.loc[meta.index] + " " + meta
    if len(idoc) == 0:
        return pd.DataFrame(), pd.DataFrame(), None
    vec = vectorizer("content")
    try:
        x = vec.fit_transform(pd.concat([idoc, udoc]).to_numpy())
    except ValueError:  # empty vocabulary
        return pd.DataFrame(), pd.DataFrame(), None
    k = int(min(dim, x.shape[1] - 1, x.shape[0] - 1))
    if k < 2:
        return pd.DataFrame(), pd.DataFrame(), None
    svd = TruncatedSVD(k, random_state=random_state)
    z = _unit(svd.fit_transform(x))
    return (
        pd.DataFrame(z[: len(idoc)], index=idoc.index),
        pd.DataFrame(z[len(idoc) :], index=udoc.index),
        TextSpace.of("content", vec, svd.components_),
    )


def shared_tfidf_space(
    ctx: FitContext, dim: int = 128, random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, TextSpace | None]:
    """:func:`tfidf_space`, built once per training dataset and these settings."""
    cache = shared_cache(ctx.train)
    key = f"tfidf_space:{dim}:{random_state}"
    if key not in cache:
        cache[key] = tfidf_space(ctx, dim, random_state)
    out: tuple[pd.DataFrame, pd.DataFrame, TextSpace | None] = cache[key]
    return out


def shared_tfidf_vectors(
    ctx: FitContext, dim: int = 128, random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`tfidf_vectors`, built once per training dataset and these settings."""
    items, users, _ = shared_tfidf_space(ctx, dim, random_state)
    return items, users


class ContentRecommender(ScoringRecommender):
    """score(u, i) = cos(profile_u, v_i), profile_u = unit((1-h) t_u + h mean(v_j, j in history)).

    Item vectors come from ``ctx.item_vectors`` and user text vectors from ``ctx.user_text``
    (same embedding space); without them a TF-IDF + SVD space is built from the training texts.
    Users unknown at fit time are scored from their text vector when ``ctx.user_text`` has one,
    else by popularity.
    """

    name: ClassVar[str] = "content"
    config_class: ClassVar[type[BaseModel]] = ContentConfig
    reason_kind: ClassVar[str] = "text"

    def _fit(self, ctx: FitContext) -> None:
        cfg = self.config
        assert isinstance(cfg, ContentConfig)
        seed = ctx.random_state if cfg.random_state is None else cfg.random_state
        iv, ut = ctx.item_vectors, ctx.user_text
        self.source_ = "context"
        self.space_: TextSpace | None = None
        if iv is None or len(iv) == 0:
            iv, ut, self.space_ = shared_tfidf_space(ctx, cfg.dim, seed)
            self.source_ = "tfidf-svd"
        if len(iv) == 0:
            raise UsageError(
                f"recommender 'content': no item of {ctx.train.name!r} has text (reviews, tags, "
                "titles or categories) to match users against; load a dataset with text or drop it"
            )
        v = np.zeros((len(self.item_ids_), iv.shape[1]), dtype=np.float32)
        ivx = iv.copy()
        ivx.index = ivx.index.astype(str)
        pos = self.item_ids_.get_indexer(ivx.index)
        v[pos[pos >= 0]] = _unit(ivx.to_numpy(np.float32)[pos >= 0])
        self.item_vectors_ = v
        # the users' own text profiles (unit vectors; rows follow text_users_)
        self.text_users_ = pd.Index([], dtype="object")
        self.text_vectors_ = np.zeros((0, v.shape[1]), dtype=np.float32)
        if ut is not None and len(ut):
            self.text_users_ = pd.Index(ut.index.astype(str), dtype="object")
            self.text_vectors_ = _unit(ut.to_numpy(np.float32))
        self.history_mean_ = self._history_mean(self.matrix_)

    def _history_mean(self, history: sp.csr_matrix) -> np.ndarray:
        n = np.maximum(np.diff(history.indptr), 1)[:, None]
        return _unit(np.asarray(history @ self.item_vectors_) / n)

    def _text_of(self, user_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        out = np.zeros((len(user_ids), self.item_vectors_.shape[1]), dtype=np.float32)
        pos = positions(self.text_users_, user_ids)
        has = pos >= 0
        out[has] = self.text_vectors_[pos[has]]
        return out, has

    def _text_rows(self, rows: UserRows) -> tuple[np.ndarray, np.ndarray]:
        """Text profiles of rows the fit did not see: their texts in the fitted TF-IDF + SVD
        space, or their sentence-encoder profile when the model was fit in that space."""
        if self.space_ is not None:
            has = np.array([len(t) > 0 for t in rows.texts], bool)
            out = np.zeros((len(rows), self.item_vectors_.shape[1]), dtype=np.float32)
            if has.any():
                docs = [" ".join(rows.texts[i]) for i in np.flatnonzero(has)]
                out[has] = self.space_.embed(docs)
            return out, has
        d = self.item_vectors_.shape[1]
        if rows.text_vectors is None or rows.text_vectors.shape[1] != d:
            return np.zeros((len(rows), d), np.float32), np.zeros(len(rows), bool)
        return _unit(rows.text_vectors.astype(np.float32)), rows.has_text.copy()

    def _blend(self, prof: np.ndarray, text: np.ndarray, has: np.ndarray) -> np.ndarray:
        h = self.config.history_weight  # type: ignore[attr-defined]
        prof[has] = (1 - h) * text[has] + h * prof[has]
        return _unit(prof) @ self.item_vectors_.T

    def _score_known(self, codes: np.ndarray) -> np.ndarray:
        text, has = self._text_of([str(u) for u in self.user_ids_[codes]])
        return self._blend(self.history_mean_[codes].copy(), text, has)

    def _fold_in(self, rows: UserRows) -> np.ndarray:
        text, has = self._text_rows(rows)
        return self._blend(self._history_mean(rows.history), text, has)

    def _from_text(self, base: np.ndarray, text: np.ndarray, has: np.ndarray) -> np.ndarray:
        if has.any():
            base[has] = text[has] @ self.item_vectors_.T
        return base

    def _score_unknown(self, user_ids: list[str]) -> np.ndarray:
        return self._from_text(super()._score_unknown(user_ids), *self._text_of(user_ids))

    def _score_cold(self, rows: UserRows) -> np.ndarray:
        return self._from_text(super()._score_cold(rows), *self._text_rows(rows))

    def _own_parts(self, user_ids: list[str]) -> dict[str, Any]:
        out = super()._own_parts(user_ids)
        if self.space_ is None and len(self.text_users_):
            out["text_vectors"], out["has_text"] = self._text_of(user_ids)
        return out

    def params(self) -> dict[str, object]:
        return {**super().params(), "vectors": getattr(self, "source_", None)}
