"""Text embeddings in Spark: ``mapInPandas`` over the distinct texts, the encoder built once per
Python worker from its saved state (a transformer loads its weights from where they are
installed; tfidf-svd travels whole), each partition sorted by length before it is embedded and
read from / written to the same on-disk embedding cache as the local engine
(:mod:`segrec.features._cache`, keyed by the sha1 of the text).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["spark_encode"]

_log = logging.getLogger(__name__)
#: encoders built in this Python worker, by the id of the state they came from
_ENCODERS: dict[str, Any] = {}


def _encoder(key: str, state: Any, cache_dir: str | None) -> Any:
    """The encoder of ``state``, built once per worker process (Spark reuses workers)."""
    if key not in _ENCODERS:
        from segrec.model._encoder import encoder_from_state

        emb = encoder_from_state(state)
        if cache_dir is not None:
            emb.config = emb.config.model_copy(update={"cache_dir": cache_dir})
        _ENCODERS[key] = emb
    return _ENCODERS[key]


def spark_encode(
    spark: Any, texts: list[str], embedder: Any, partitions: int | None = None
) -> np.ndarray:
    """L2-normalised vectors of ``texts`` (rows in input order), embedded by Spark workers with
    ``embedder``'s saved state (a tfidf-svd embedder must be fitted first)."""
    import hashlib

    from segrec.features._cache import text_key
    from segrec.model._encoder import encoder_state

    texts = ["" if t is None else str(t) for t in texts]
    if not texts:
        return np.zeros((0, embedder.backend.dim), np.float32)
    keys = [text_key(t) for t in texts]
    uniq = pd.DataFrame({"key": keys, "text": texts}).drop_duplicates("key", ignore_index=True)
    state = encoder_state(embedder)
    sid = hashlib.sha1(repr(state[0]).encode()).hexdigest()
    cache_dir = str(embedder.cache_dir) if embedder.config.use_cache else None
    n = partitions or max(spark.sparkContext.defaultParallelism, len(uniq) // 50_000 + 1)

    def embed(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        df = pd.concat(list(batches), ignore_index=True)
        if not len(df):
            return
        enc = _encoder(sid, state, cache_dir)
        # longest first: a batch holds texts of similar length (encode sorts by tokens too)
        df = df.iloc[np.argsort(-df.text.str.len().to_numpy(), kind="stable")]
        vecs = enc.encode(df.text.tolist())
        yield pd.DataFrame({"key": df.key.to_numpy(), "vec": list(vecs.astype(np.float32))})

    sdf = spark.createDataFrame(uniq).repartition(n)
    out = sdf.mapInPandas(embed, "key string, vec array<float>").toPandas()
    table = dict(zip(out.key, out.vec, strict=True))
    return np.stack([np.asarray(table[k], np.float32) for k in keys])
