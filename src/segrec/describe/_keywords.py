"""Distinctive keywords per segment with class-based TF-IDF (c-TF-IDF).

All texts of a segment's members form one document; a term's weight is its frequency in that
document times ``log(1 + A / f_t)``, where ``A`` is the mean number of words per segment and
``f_t`` the term's frequency over all segments: frequent-everywhere words ("great", "sound")
sink, words one segment uses much more than the rest rise.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["REVIEW_STOPWORDS", "TOKEN_PATTERN", "class_tfidf", "top_keywords", "users_per_term"]

#: words that say nothing about who a reviewer is (added to scikit-learn's English list)
_STOP_TEXT = """
great good nice just like really use used using works work worked product products bought buy
buying purchase purchased price one two also get got would could well much little lot item
items thing things love loved best better very even still make makes made easy pretty fine ok
okay quite way time times need needed want wanted recommend amazon star stars review reviews
say said does did don doesn didn isn wasn ve ll re arrived shipping box happy feels feel felt
response exactly highly honestly regrets overall value set solid quality expectations exceeded
pictures decent fantastic cheap service customer fast perfect excellent awesome amazing sturdy
mixed feelings points annoying thanks going looks look looking says piece days day week weeks
month second proper outstanding fine compared options picking took while think bit end years
"""
REVIEW_STOPWORDS = frozenset(_STOP_TEXT.split())
_PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|URL|CARD)\]")
#: what counts as a word in keywords: letters (and inner hyphens), at least three
TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z\-]+[a-zA-Z]\b"


def stop_words() -> list[str]:
    """scikit-learn's English stop words plus :data:`REVIEW_STOPWORDS`."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | REVIEW_STOPWORDS)


def strip_placeholders(texts: pd.Series) -> pd.Series:
    """Texts without the PII scrubber's placeholders ([EMAIL], [URL], ...)."""
    return texts.astype(str).str.replace(_PLACEHOLDER, " ", regex=True)


def class_tfidf(
    texts: pd.Series, classes: pd.Series, max_features: int = 30_000, ngram_max: int = 2
) -> tuple[pd.DataFrame, list[str]]:
    """c-TF-IDF weights, one row per class (segment id) and one column per term."""
    from sklearn.feature_extraction.text import CountVectorizer

    df = pd.DataFrame({"t": strip_placeholders(texts).to_numpy(), "c": classes.to_numpy()})
    docs = df.groupby("c", sort=True)["t"].apply(" ".join)
    vec = CountVectorizer(
        stop_words=stop_words(),
        token_pattern=TOKEN_PATTERN,
        ngram_range=(1, ngram_max),
        max_features=max_features,
        lowercase=True,
    )
    try:
        counts = vec.fit_transform(docs.to_numpy())
    except ValueError:  # only stop words / empty texts
        return pd.DataFrame(index=docs.index), []
    tf = counts.toarray().astype(float)
    words_per_class = tf.sum(1, keepdims=True)
    tf = tf / np.maximum(words_per_class, 1.0)
    avg_words = float(words_per_class.mean())
    f_t = counts.toarray().sum(0).astype(float)
    idf = np.log1p(avg_words / np.maximum(f_t, 1.0))
    terms = list(vec.get_feature_names_out())
    return pd.DataFrame(tf * idf, index=docs.index, columns=terms), terms


def users_per_term(
    texts: pd.Series, classes: pd.Series, users: pd.Series, terms: list[str]
) -> pd.DataFrame:
    """classes x ``terms``: how many distinct users of each class used each term."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    df = pd.DataFrame(
        {"t": strip_placeholders(texts).to_numpy(), "c": classes.to_numpy(), "u": users.to_numpy()}
    )
    docs = df.groupby(["c", "u"], sort=True)["t"].apply(" ".join)
    cv = CountVectorizer(
        vocabulary=terms,
        ngram_range=(1, 2),
        lowercase=True,
        token_pattern=TOKEN_PATTERN,
        binary=True,
    )
    m = cv.transform(docs.to_numpy())
    codes, cls = pd.factorize(docs.index.get_level_values(0), sort=True)
    onehot = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))))
    return pd.DataFrame((onehot @ m).toarray(), index=cls, columns=terms)


def top_keywords(
    texts: pd.Series,
    classes: pd.Series,
    n: int = 8,
    min_count: int = 3,
    users: pd.Series | None = None,
    min_users: int = 1,
) -> dict[int, list[str]]:
    """The ``n`` most distinctive terms per class; a bigram hides its own unigrams. With
    ``users`` (the author of each text), a term is picked only when at least ``min_users``
    distinct users of the class used it."""
    from sklearn.feature_extraction.text import CountVectorizer

    weights, terms = class_tfidf(texts, classes)
    if not terms:
        return {int(c): [] for c in pd.unique(classes)}
    # drop terms too rare to describe a group (typos, one reviewer's pet word)
    cv = CountVectorizer(
        vocabulary=terms,
        ngram_range=(1, 2),
        lowercase=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z\-]+[a-zA-Z]\b",
    )
    total = np.asarray(cv.transform(texts.astype(str)).sum(0)).ravel()
    weights = weights.loc[:, total >= min_count]
    support = None
    if users is not None and min_users > 1 and weights.shape[1]:
        support = users_per_term(texts, classes, users, list(weights.columns))
    # c-TF-IDF still ranks a word every segment uses ("guitar" in a guitar shop) first when
    # few segments differ mostly by behaviour; weigh by how over-represented the term is in
    # the segment versus all segments (lift), and drop terms the segment under-uses.
    share = weights.div(weights.sum(axis=1).replace(0, 1.0), axis=0)
    overall = share.mean(axis=0).replace(0, np.nan)
    lift = share.div(overall, axis=1).fillna(0.0)
    weights = weights * np.log1p(lift) * (lift > 1.0)
    out: dict[int, list[str]] = {}
    for cls, row in weights.iterrows():
        picked: list[str] = []
        for term in row.sort_values(ascending=False).index:
            if row[term] <= 0 or len(picked) >= n:
                break
            if support is not None and support.at[cls, term] < min_users:
                continue  # too few members used it: it would point at them
            words = term.split()
            if any(term in p.split() or p in words for p in picked):
                continue  # "guitar" after "acoustic guitar", or the reverse
            picked.append(term)
        out[int(cls)] = picked  # type: ignore[arg-type,call-overload]
    return out
