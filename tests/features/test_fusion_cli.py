"""Fusion of blocks, build_user_features and the ``segrec embed`` command."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segrec.features import FeatureFusion, TextEmbedder, UserFeatures, build_user_features


def _features() -> UserFeatures:
    rng = np.random.default_rng(0)
    ids = pd.Index([f"u{i}" for i in range(50)], name="user_id")
    text = rng.normal(size=(50, 8)).astype(np.float32)
    miss = np.zeros(50, bool)
    miss[:5] = True
    text[:5] = 123.0  # garbage in missing rows must not leak into the fused matrix
    beh = rng.normal(loc=100, scale=50, size=(50, 3)).astype(np.float32)
    return UserFeatures(ids, {"text": text, "behavior": beh}, {"text": miss})


def test_fusion_scales_imputes_and_flags_missing():
    fus = FeatureFusion()
    x = fus.fit_transform(_features())
    assert x.shape == (50, 8 + 1 + 3)
    assert "text:missing" in fus.columns_
    miss_col = fus.columns_.index("text:missing")
    assert x[:5, miss_col].tolist() == [1.0] * 5 and x[5:, miss_col].sum() == 0
    text_cols = [i for i, c in enumerate(fus.columns_) if c.startswith("text:") and i != miss_col]
    assert np.abs(x[:5][:, text_cols]).max() == 0  # mean-imputed (block mean after scaling)
    # each block has total variance ~1 on the users who have it
    beh_cols = [i for i, c in enumerate(fus.columns_) if c.startswith("behavior:")]
    assert abs(x[:, beh_cols].var(0).sum() - 1.0) < 1e-3


def test_fusion_weights_and_pca():
    f = _features()
    x = FeatureFusion(weights={"behavior": 0.0}).fit_transform(f)
    assert x.shape[1] == 9
    x = FeatureFusion(pca=4, random_state=0).fit_transform(f)
    assert x.shape == (50, 4)


def test_build_user_features_blocks(tiny_ds):
    emb = TextEmbedder(backend="tfidf-svd", use_cache=False)
    pre = pd.DataFrame({"g0": [1.0, 2.0]}, index=["u3", "u1"])  # u2 absent -> missing
    uf = build_user_features(tiny_ds, emb, blocks={"graph": pre})
    assert set(uf.blocks) == {"text", "behavior", "graph"}
    assert uf.meta["text_source"].tolist() == ["reviews", "items", "missing"]
    assert uf.missing["text"].tolist() == [False, False, True]
    assert uf.block("graph")[:, 0].tolist() == [2.0, 0.0, 1.0]
    assert uf.missing["graph"].tolist() == [False, True, False]
    assert uf.columns["behavior"][0] == "recency_days"
    assert uf.meta["monetary_basis"] == "amount"


def test_text_embedding_meta_says_whose_texts_made_the_vectors(tiny_ds):
    emb = TextEmbedder(backend="tfidf-svd", use_cache=False)
    uf = build_user_features(tiny_ds, emb, behavior=False)
    assert uf.meta["text_embedding"]["source"] == "users"
    # nobody wrote anything: the vectors come from item titles and categories alone
    silent = tiny_ds.replace(texts=tiny_ds.texts.iloc[:0])
    uf = build_user_features(silent, emb, behavior=False)
    stats = uf.meta["text_embedding"]
    assert stats["source"] == "items" and stats["n_texts"] == len(silent.items)
    assert stats["backend"] == "tfidf-svd"


def test_build_user_features_precomputed_text_vectors(tiny_ds):
    vecs = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    uf = build_user_features(tiny_ds, text_vectors=vecs, item_fallback=False, behavior=False)
    np.testing.assert_allclose(uf.block("text")[0], np.array([1, 1]) / np.sqrt(2), rtol=1e-6)
    assert uf.missing["text"].tolist() == [False, True, True]


def test_embed_command_writes_parquet(tmp_path):
    from typer.testing import CliRunner

    import segrec.cli._embed  # noqa: F401  (registers the command)
    from segrec.cli._app import app
    from segrec.data import load_dataset

    spec = "synthetic:users=60,seed=3"
    ds, _ = load_dataset(spec)
    out = tmp_path / "emb"
    args = [
        "embed",
        "--dataset",
        spec,
        "--out",
        str(out),
        "--backend",
        "tfidf-svd",
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "texts/s" in r.output
    t = pd.read_parquet(out / "text_embeddings.parquet")
    u = pd.read_parquet(out / "user_embeddings.parquet")
    assert len(t) == len(ds.texts) and set(t.columns) >= {
        "text_row",
        "user_id",
        "item_id",
        "vector",
    }
    assert len(u) == ds.n_users
    writers = set(ds.texts["user_id"].astype(str))
    assert set(u.loc[u["has_text"], "user_id"]) == writers
    r2 = CliRunner().invoke(app, args)  # cached re-run embeds nothing
    assert r2.exit_code == 0 and " 0 embedded" in r2.output, r2.output


def test_embed_command_rejects_unknown_backend(tmp_path):
    from typer.testing import CliRunner

    import segrec.cli._embed  # noqa: F401
    from segrec.cli._app import app
    from segrec.diagnostics import UsageError

    r = CliRunner().invoke(
        app,
        [
            "embed",
            "--dataset",
            "synthetic:users=20",
            "--out",
            str(tmp_path),
            "--backend",
            "word2vec",
        ],
    )
    assert r.exit_code != 0 and isinstance(r.exception, UsageError)
    assert "word2vec" in str(r.exception)


def test_subset_cuts_per_user_meta_too():
    """``text_source`` (one entry per user) must follow the rows of a subset."""
    from segrec.data.synthetic import generate
    from segrec.features import TextEmbedder, build_user_features

    ds = generate(users=120, seed=3)
    feats = build_user_features(ds, TextEmbedder(backend="tfidf-svd", use_cache=False))
    keep = feats.user_ids[::2][::-1]
    sub = feats.subset(keep)
    assert len(sub.meta["text_source"]) == len(keep) < feats.n_users
    assert list(sub.meta["text_source"].index) == list(keep)
    assert (sub.meta["text_source"] == feats.meta["text_source"].loc[keep]).all()
    assert sub.meta["dataset"] == feats.meta["dataset"]
