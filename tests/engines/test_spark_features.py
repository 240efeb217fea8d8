"""Spark SQL behaviour features and MLlib segments against the local engine's, on the same
data (a real local[2] Spark session)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segrec.features import BehaviorFeaturizer
from segrec.model._fit import serving_dataset


@pytest.fixture(scope="module")
def serving(shop, light_config):
    return serving_dataset(shop, light_config)


@pytest.fixture(scope="module")
def spark_tables(spark, shop_dir, light_config):
    from segrec.engines._spark_ingest import read_tables, serving_tables

    return serving_tables(read_tables(spark, f"generic:{shop_dir / 'flat'}"), light_config.events)


def test_serving_data_in_spark_is_the_local_serving_dataset(spark_tables, serving) -> None:
    from segrec.engines._spark_ingest import to_dataset

    ds = to_dataset(spark_tables)
    assert list(ds.user_ids) == list(serving.user_ids)
    cols = ["user_id", "item_id", "timestamp", "event"]
    a = ds.interactions[cols].astype(str).reset_index(drop=True)
    b = serving.interactions[cols].astype(str).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert len(ds.texts) == len(serving.texts) and len(ds.items) == len(serving.items)


def test_behaviour_features_equal_the_local_featurizer(spark, spark_tables, serving) -> None:
    from segrec.engines._spark_behavior import spark_behavior

    local = BehaviorFeaturizer(n_categories=10)
    want, want_miss, basis = local.fit_transform(serving)
    fz, got, miss = spark_behavior(
        spark, spark_tables.interactions, serving.user_ids, serving.items, 10
    )
    assert fz.basis_ == basis and fz.now_ == local.now_ and fz.top_ == local.top_
    assert list(got.columns) == list(want.columns)
    assert np.array_equal(miss, want_miss)
    assert np.abs(got.to_numpy() - want.to_numpy()).max() < 1e-6
    # the Spark-fitted state transforms a user exactly as the local one does
    one = serving.replace(
        interactions=serving.interactions[serving.interactions.user_id == "u0000007"]
    )
    a, _, _ = fz.transform(one, pd.Index(["u0000007"]))
    b, _, _ = local.transform(one, pd.Index(["u0000007"]))
    assert np.abs(a.to_numpy() - b.to_numpy()).max() < 1e-6


def test_mllib_segments_agree_with_local_kmeans(spark, serving) -> None:
    from segrec.engines._spark_segment import SparkKMeansSegmenter
    from segrec.features import TextEmbedder, UserFeaturizer
    from segrec.segment import KMeansSegmenter, segmenter_from_state, segmenter_to_state

    feats = UserFeaturizer(TextEmbedder(backend="tfidf-svd", tfidf_dim=16, use_cache=False))
    feats = feats.fit_transform(serving)
    local = KMeansSegmenter(k=7, random_state=0, n_init=2).fit(feats)  # the planted personas
    mllib = SparkKMeansSegmenter(spark, "kmeans", k=7, random_state=0, n_init=2)
    seg = mllib.fit(feats)
    assert adjusted_rand_score(local.labels, seg.labels) >= 0.9
    mllib.spark = None
    meta, arrays = segmenter_to_state(mllib)
    assert meta["registry"] == "kmeans"  # loads as the local segmenter, without Spark
    again = segmenter_from_state(meta, arrays)
    assert np.array_equal(again.predict(feats), seg.labels)
    bis = SparkKMeansSegmenter(spark, "bisecting", k=4, random_state=0).fit(feats)
    assert bis.k == 4


def test_temporal_split_in_spark_matches_the_local_split(spark_tables, serving) -> None:
    from segrec.data import temporal_split
    from segrec.engines._spark_ingest import spark_temporal_split

    roles = spark_temporal_split(spark_tables).select("user_id", "item_id", "role").toPandas()
    local = temporal_split(serving)
    for role in ("fit", "val", "test"):
        want = getattr(local, role)
        got = roles[roles.role == role]
        assert len(got) == len(want)
        assert set(zip(got.user_id, got.item_id, strict=True)) == set(
            zip(want.user_id.astype(str), want.item_id.astype(str), strict=True)
        )


def test_quarantine_counts_rows_without_ids(spark, tmp_path, shop_dir) -> None:
    import shutil

    from segrec.engines._spark_ingest import read_tables

    bad = tmp_path / "bad"
    shutil.copytree(shop_dir / "flat", bad)
    inter = pd.read_parquet(bad / "interactions.parquet")
    inter.loc[inter.index[:3], "user_id"] = None
    inter.to_parquet(bad / "interactions.parquet", index=False)
    t = read_tables(spark, f"generic:{bad}")
    assert t.report["interactions"]["rejected"] == 3
    assert t.report["interactions"]["reasons"] == {"missing user_id": 3}
    assert t.interactions.count() == len(inter) - 3
