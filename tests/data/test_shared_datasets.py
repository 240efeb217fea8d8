"""The loaders on the real datasets in ../shared/datasets: documented counts, exactly.

Counts are those measured and documented in shared/datasets/README.md (and the publishers'
readmes), not read back from the loaders. Skipped with a reason when the folder is absent.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from segrec.data import Dataset, LoadReport, load_dataset
from segrec.data.loaders.lastfm import undirected_pairs

pytestmark = pytest.mark.shared


@cache
def _load(spec: str) -> tuple[Dataset, LoadReport]:
    return load_dataset(spec)


def _get(shared: Path, kind: str, folder: str) -> tuple[Dataset, LoadReport]:
    return _load(f"{kind}:{shared / folder}")


def test_ml100k(shared_datasets: Path) -> None:
    ds, rep = _get(shared_datasets, "movielens", "movielens-100k")
    c = ds.counts()
    assert (c["interactions"], c["users_with_interactions"], c["items_with_interactions"]) == (
        100_000,
        943,
        1_682,
    )
    assert rep.rejected == 0
    counts = ds.interactions.rating.value_counts().to_dict()
    assert counts == {4.0: 34_174, 3.0: 27_145, 5.0: 21_201, 2.0: 11_370, 1.0: 6_110}
    assert len(ds.items) == 1_682 and len(ds.users) == 943
    assert (ds.users.gender == "M").sum() == 670 and ds.users.occupation.nunique() == 21
    ts = ds.interactions.timestamp
    assert ts.min() >= 874_713_600 and ts.max() < 893_289_600  # 1997-09-20 .. 1998-04-22 UTC


def test_ml_latest_small(shared_datasets: Path) -> None:
    ds, rep = _get(shared_datasets, "movielens", "movielens-latest-small")
    c = ds.counts()
    assert (c["interactions"], c["users_with_interactions"], c["items_with_interactions"]) == (
        100_836,
        610,
        9_724,
    )
    assert len(ds.texts) == 3_683 and ds.texts.user_id.nunique() == 58
    assert ds.texts.item_id.nunique() == 1_572
    assert len(ds.items) == 9_742
    assert rep.rejected == 0


def test_amazon_musical_instruments(shared_datasets: Path) -> None:
    ds, rep = _get(shared_datasets, "amazon", "amazon2014-musical-instruments-5core")
    c = ds.counts()
    assert (c["interactions"], c["users_with_interactions"], c["items_with_interactions"]) == (
        10_261,
        1_429,
        900,
    )
    counts = ds.interactions.rating.value_counts().to_dict()
    assert counts == {5.0: 6_938, 4.0: 2_084, 3.0: 772, 2.0: 250, 1.0: 217}
    kinds = ds.texts.kind.astype(str).value_counts().to_dict()
    assert kinds["review"] == 10_261 - 7  # the README: 7 reviews have empty text
    assert rep.tables["texts"].reasons["empty text"] == 7
    assert rep.tables["interactions"].rejected == 0
    assert set(rep.cleaning["pii"]) == {"url", "email", "card", "phone"}


def test_lastfm(shared_datasets: Path) -> None:
    ds, rep = _get(shared_datasets, "lastfm-hetrec", "hetrec2011-lastfm-2k")
    inter = ds.interactions
    plays = inter[inter.event.astype(str) == "play"]
    assert len(plays) == 92_834 and plays.user_id.nunique() == 1_892
    assert len(ds.social) == 25_434 and undirected_pairs(ds.social) == 12_717
    assert ds.n_users == 1_892
    assert len(ds.items) == 17_632
    # 186,479 tag assignments, of which 5 are dated 1956-1979 (before Last.fm) and quarantined
    t = rep.tables["interactions"]
    assert t.read == 92_834 + 186_479 and t.rejected == 5
    assert len(ds.texts) == 186_479 - 5
    assert rep.tables["tag_names"].accepted == 11_946


def test_filmtrust(shared_datasets: Path) -> None:
    ds, rep = _get(shared_datasets, "filmtrust", "filmtrust")
    c = ds.counts()
    assert (c["interactions"], c["users_with_interactions"], c["items_with_interactions"]) == (
        35_497,
        1_508,
        2_071,
    )
    assert len(ds.social) == 1_853 and set(ds.social.weight) == {1.0}
    assert ds.interactions.rating.min() == 0.5 and ds.interactions.rating.max() == 4.0
    assert rep.rejected == 0
