"""Fitted TF-IDF (+ truncated SVD) text spaces kept as plain arrays, so a new user's texts go
through exactly the transform the fit used, and a saved model needs no pickled vectorizer.

Two spaces exist, each with its fixed vectorizer settings (:data:`SETTINGS`): ``"content"``
(the TF-IDF + SVD space of :func:`~segrec.recommend._content.tfidf_vectors`, used by content and
textknn without sentence vectors) and ``"reasons"`` (the term space of the text reasons: words of
three or more letters, HTML entities decoded).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["SETTINGS", "TextSpace"]

_COMMON: dict[str, Any] = {
    "min_df": 2,
    "max_df": 0.5,
    "sublinear_tf": True,
    "stop_words": "english",
}
#: vectorizer settings per space kind
SETTINGS: dict[str, dict[str, Any]] = {
    "content": {**_COMMON, "max_features": 50000},
    "reasons": {
        **_COMMON,
        "max_features": 30000,
        "token_pattern": r"(?u)\b[^\W\d_]{3,}\b",  # words of 3+ letters: not 'sn' of 'SN-2'
    },
}


def _unescape_lower(doc: str) -> str:
    """'&#34;' is no word."""
    return html.unescape(doc).lower()


def vectorizer(kind: str) -> Any:
    """A new, unfitted ``TfidfVectorizer`` with the settings of space ``kind``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if kind not in SETTINGS:
        raise ValueError(f"unknown text space kind {kind!r}; expected one of {sorted(SETTINGS)}")
    extra = {"preprocessor": _unescape_lower} if kind == "reasons" else {}
    return TfidfVectorizer(**SETTINGS[kind], **extra)


class TextSpace:
    """A fitted TF-IDF vocabulary (``vocabulary``: terms in column order, ``idf``) and, for an
    embedding space, the truncated-SVD ``components`` (dim x terms)."""

    def __init__(
        self,
        kind: str,
        vocabulary: np.ndarray,
        idf: np.ndarray,
        components: np.ndarray | None = None,
    ) -> None:
        self.kind = kind
        self.vocabulary = np.asarray(vocabulary).astype(str)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.components = components
        self._vec: Any = None

    @classmethod
    def of(cls, kind: str, fitted: Any, components: np.ndarray | None = None) -> TextSpace:
        """The space of a fitted ``TfidfVectorizer`` (built by :func:`vectorizer`)."""
        return cls(kind, fitted.get_feature_names_out(), fitted.idf_, components)

    def _vectorizer(self) -> Any:
        if self._vec is None:
            vec = vectorizer(self.kind)
            vec.vocabulary_ = {str(t): i for i, t in enumerate(self.vocabulary)}
            vec.idf_ = self.idf
            self._vec = vec
        return self._vec

    def terms(self, docs: list[str]) -> sp.csr_matrix:
        """TF-IDF rows (len(docs) x terms) of ``docs``, as the fitted vectorizer gives them."""
        if len(self.vocabulary) == 0:
            return sp.csr_matrix((len(docs), 0))
        return sp.csr_matrix(self._vectorizer().transform(list(docs)))

    def embed(self, docs: list[str]) -> np.ndarray:
        """Unit vectors (len(docs) x dim) in the SVD space (zero rows for docs with no known
        term)."""
        if self.components is None:
            raise ValueError(f"text space {self.kind!r} has no SVD components to embed with")
        z = np.asarray(self.terms(docs) @ self.components.T, dtype=np.float64)
        n = np.linalg.norm(z, axis=1, keepdims=True)
        n[n == 0] = 1.0
        return (z / n).astype(np.float32)

    def state(self) -> dict[str, Any]:
        """What :meth:`from_state` needs: plain strings and arrays."""
        return {
            "kind": self.kind,
            "vocabulary": self.vocabulary,
            "idf": self.idf,
            "components": self.components,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TextSpace:
        return cls(state["kind"], state["vocabulary"], state["idf"], state["components"])
