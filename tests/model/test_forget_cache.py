"""Forgetting a user also removes the cached embeddings of the texts they wrote."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from segrec.data import load_dataset
from segrec.features import TextEmbedder
from segrec.features._cache import text_key
from segrec.model._forget import forget_text_embeddings
from segrec.model._store import UserStore


def _cached_keys(cache: Path) -> set[str]:
    keys: set[str] = set()
    for db in (cache / "embeddings").glob("*.sqlite"):
        con = sqlite3.connect(db)
        keys |= {k for (k,) in con.execute("SELECT key FROM vec")}
        con.close()
    return keys


def test_forget_removes_the_users_cached_text_vectors(tmp_path: Path) -> None:
    ds, _ = load_dataset("synthetic:users=120,seed=5")
    store = UserStore.from_dataset(ds)
    emb = TextEmbedder(backend="tfidf-svd", tfidf_dim=16, cache_dir=str(tmp_path))
    emb.encode(ds.texts["text"].tolist())  # what a fit caches
    texts = store.texts.assign(user_id=store.texts.user_id.astype(str))
    uid = texts.user_id.value_counts().index[0]
    mine = set(texts.loc[texts.user_id == uid, "text"])
    others = set(texts.loc[texts.user_id != uid, "text"])
    # a text someone else also wrote stays (it is theirs too); the user's own texts go
    texts.loc[texts.index[texts.user_id != uid][0], "text"] = next(iter(mine))
    store.texts = texts
    shared = {next(iter(mine))}
    before = _cached_keys(tmp_path)
    assert {text_key(t) for t in mine} <= before

    out = forget_text_embeddings(store, uid, emb)

    after = _cached_keys(tmp_path)
    gone = {text_key(t) for t in mine - shared}
    assert out["cached_embeddings"] == len(gone) > 0
    assert out["cached_embeddings_kept_shared"] == 1
    assert not gone & after
    assert {text_key(t) for t in shared} <= after
    assert {text_key(t) for t in others} - gone <= after  # nobody else's vectors were touched
    # the cache still works: re-encoding embeds only what was removed
    emb.encode(sorted(mine))
    assert emb.stats_["n_embedded"] == len(gone)
    # a user without texts, or asked twice: nothing to remove, no error
    assert forget_text_embeddings(store, uid + "-nobody", emb)["cached_embeddings"] == 0


def test_residual_user_state_names_the_parts_that_still_hold_the_user(tmp_path: Path) -> None:
    import json

    import numpy as np

    from segrec.model._forget import residual_user_state

    np.savez(tmp_path / "recommender.npz", user_ids_=np.array(["u1", "u2"]), w=np.ones(3))
    np.savez(tmp_path / "featurizer.npz", graph_ids=np.array(["u3"]))
    (tmp_path / "assigner.json").write_text(json.dumps({"note": ["u2"]}))
    (tmp_path / "model.json").write_text(json.dumps({"example": "u2"}))  # not fitted state
    assert residual_user_state(tmp_path, "u2") == ["recommender.npz:user_ids_", "assigner.json"]
    assert residual_user_state(tmp_path, "u9") == []
