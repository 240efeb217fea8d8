"""Profiles on the real Amazon Musical Instruments 5-core reviews (skipped when absent)."""

from __future__ import annotations

import pytest

from segrec.describe import SegmentDescriber
from segrec.segment import get_segmenter

AMAZON = "amazon2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz"


@pytest.mark.shared
@pytest.mark.slow
def test_amazon_profiles_read_well(shared_datasets):
    from segrec.data import load_dataset
    from segrec.features._fusion import build_user_features
    from segrec.features._text import TextEmbedder

    ds, _ = load_dataset(f"amazon:{shared_datasets / AMAZON}")
    feats = build_user_features(ds, TextEmbedder(backend="tfidf-svd", use_cache=False))
    seg = get_segmenter("kmeans", k=8, random_state=0).fit(feats, ds)
    prof = SegmentDescriber().describe(ds, seg, feats)
    assert len(prof) >= 2
    for p in prof.profiles:
        assert p["size"] >= 10
        assert len(p["keywords"]) >= 3
        assert len(p["representative_reviews"]) == 3
        assert p["name"] and "#" not in p["name"]
    assert prof.meta["explanations"]["fidelity"] > 1 / len(prof)
