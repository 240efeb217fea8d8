"""The segmentations the evaluation builds itself: random, rfm, behavior, demographic."""

from __future__ import annotations

import re

import numpy as np
from sklearn.metrics import adjusted_rand_score

from segrec.evaluate import PhaseArtifacts, build_segmentation, demographic


def test_random_is_reproducible_and_independent_of_truth(planted) -> None:
    art = PhaseArtifacts(planted)
    a = build_segmentation("random", art, random_state=3, k_random=5)
    b = build_segmentation("random", art, random_state=3, k_random=5)
    assert a is not None and b is not None
    assert np.array_equal(a.labels, b.labels) and a.k == 5
    truth = planted.truth.reindex(a.user_ids).to_numpy()
    assert abs(adjusted_rand_score(truth, a.labels)) < 0.05
    other = build_segmentation("random", art, random_state=4, k_random=5)
    assert other is not None and abs(adjusted_rand_score(a.labels, other.labels)) < 0.05
    # a user's segment depends on the seed and the id only, not on the other users
    half = PhaseArtifacts(planted.replace(interactions=planted.interactions.iloc[::2]))
    c = build_segmentation("random", half, random_state=3, k_random=5)
    assert c is not None
    assert np.array_equal(c.labels, a.series().reindex(c.user_ids).to_numpy())


def test_behavior_recovers_planted_groups(planted) -> None:
    art = PhaseArtifacts(planted)
    seg = build_segmentation("behavior", art, params={"k": 4})
    assert seg is not None and seg.k == 4
    truth = planted.truth.reindex(seg.user_ids).to_numpy()
    assert adjusted_rand_score(truth, seg.labels) > 0.5
    assert art.behavior_x is not None  # cached for the quality figures


def test_rfm_names_cells(planted) -> None:
    seg = build_segmentation("rfm", PhaseArtifacts(planted))
    assert seg is not None and seg.k >= 2
    assert set(seg.names) == set(np.unique(seg.labels))
    assert len(seg.user_ids) == planted.interactions.user_id.nunique()


def test_demographic_from_user_attributes(planted) -> None:
    seg = demographic(planted)
    assert seg is not None
    # gender (2 values) x age terciles (3) = 6 groups, named so a person can read them:
    # "gender F, age 18-33", in the attributes' order (youngest first within a gender)
    assert seg.k == 6
    names = [seg.names[i] for i in range(6)]
    assert all(re.fullmatch(r"gender [FM], age \d+-\d+", n) for n in names), names
    lows = [int(re.search(r"age (\d+)", n).group(1)) for n in names]  # type: ignore[union-attr]
    assert lows[:3] == sorted(lows[:3]) and lows[:3] == lows[3:]
    ages = planted.users.set_index("user_id").age
    for i, n in enumerate(names):  # each name's range holds its members' ages
        lo, hi = map(int, re.search(r"age (\d+)-(\d+)", n).groups())  # type: ignore[union-attr]
        members = ages.reindex(seg.user_ids[seg.labels == i])
        assert members.between(lo, hi).all() and members.min() >= lo
    no_attrs = planted.replace(users=planted.users[["user_id"]])
    art = PhaseArtifacts(no_attrs)
    assert build_segmentation("demographic", art) is None
    assert "attribute" in art.skipped["demographic"]


def test_feature_segmentations_are_skipped_without_features(planted) -> None:
    art = PhaseArtifacts(planted)
    assert build_segmentation("text", art) is None
    assert art.skipped["text"] == "user features are unavailable"


def test_text_segmentation_on_a_dataset_without_text_says_so(planted) -> None:
    from segrec.features import TextEmbedder, build_user_features

    # no reviews and no item titles to fall back on (FilmTrust)
    silent = planted.replace(texts=planted.texts.iloc[:0], items=planted.items[["item_id"]])
    art = PhaseArtifacts(silent)
    art.features = build_user_features(silent, TextEmbedder(backend="tfidf-svd"))
    assert "text" not in art.features.blocks
    assert build_segmentation("text", art) is None
    assert art.skipped["text"] == "the dataset has no user-written text (reviews, tags or comments)"
    assert build_segmentation("fused", art) is not None  # the behaviour block is enough
