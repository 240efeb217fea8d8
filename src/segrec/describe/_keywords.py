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

__all__ = ["REVIEW_STOPWORDS", "class_tfidf", "top_keywords"]

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


def class_tfidf(
    texts: pd.Series, classes: pd.Series, max_features: int = 30_000, ngram_max: int = 2
) -> tuple[pd.DataFrame, list[str]]:
    """c-TF-IDF weights, one row per class (segment id) and one column per term."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    df = pd.DataFrame({"t": texts.astype(str).to_numpy(), "c": classes.to_numpy()})
    df["t"] = df["t"].str.replace(_PLACEHOLDER, " ", regex=True)
    docs = df.groupby("c", sort=True)["t"].apply(" ".join)
    stop = sorted(ENGLISH_STOP_WORDS | REVIEW_STOPWORDS)
    vec = CountVectorizer(
        stop_words=stop,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z\-]+[a-zA-Z]\b",
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


def top_keywords(
    texts: pd.Series, classes: pd.Series, n: int = 8, min_count: int = 3
) -> dict[int, list[str]]:
    """The ``n`` most distinctive terms per class; a bigram hides its own unigrams."""
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
            words = term.split()
            if any(term in p.split() or p in words for p in picked):
                continue  # "guitar" after "acoustic guitar", or the reverse
            picked.append(term)
        out[int(cls)] = picked  # type: ignore[arg-type,call-overload]
    return out
