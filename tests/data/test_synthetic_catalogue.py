"""The synthetic shop at marketplace shape: item count, long-tail popularity, determinism."""

import json

import pandas as pd
import pytest

from segrec.data.synthetic import generate
from segrec.diagnostics import UsageError


def _ratings_per_item(ds) -> pd.Series:
    i = ds.interactions
    return i[i.rating.notna()].item_id.astype(str).value_counts()


def test_item_count_and_a_long_tail() -> None:
    ds = generate(users=600, n_items=6000, seed=2)
    assert len(ds.items) == 6000
    per_item = _ratings_per_item(ds)
    # a marketplace: most rated items have one or two ratings, a few have many
    assert (per_item <= 2).mean() > 0.7
    assert per_item.max() >= 10


def test_popularity_exponent_shapes_the_tail() -> None:
    flat = generate(users=600, n_items=6000, seed=2, popularity_exponent=0.3)
    steep = generate(users=600, n_items=6000, seed=2, popularity_exponent=1.6)
    touched = [ds.interactions.item_id.astype(str).nunique() for ds in (flat, steep)]
    top = [
        _ratings_per_item(ds).iloc[:20].sum() / _ratings_per_item(ds).sum() for ds in (flat, steep)
    ]
    assert touched[0] > 1.5 * touched[1]  # a flatter curve reaches more of the catalogue
    assert top[1] > 2 * top[0]  # a steeper one concentrates ratings on the head


def test_same_seed_same_shop_and_default_metadata_unchanged() -> None:
    a = generate(users=300, n_items=3000, popularity_exponent=1.2, seed=5)
    b = generate(users=300, n_items=3000, popularity_exponent=1.2, seed=5)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    assert a.meta["config"]["popularity_exponent"] == 1.2
    # a shop made without the new options records its config as before they existed
    assert "popularity_exponent" not in generate(users=300, seed=5).meta["config"]
    c = generate(users=300, n_items=3000, popularity_exponent=1.2, seed=6)
    assert not a.interactions.item_id.astype(str).equals(c.interactions.item_id.astype(str))


def test_bad_exponent_is_one_usage_line() -> None:
    with pytest.raises(UsageError, match=r"popularity_exponent=0.*e\.g\. popularity_exponent=0\.9"):
        generate(users=50, popularity_exponent=0)


def test_cli_items_flag(tmp_path, capsys) -> None:
    from segrec.cli import main

    out = tmp_path / "shop"
    main(["data", "synth", "-o", str(out), "--users", "200", "--items", "3000", "--json"])
    info = json.loads(capsys.readouterr().out)
    assert info["items"] == 3000 and info["rows"]["items"] == 3000
    with pytest.raises(SystemExit) as exit_:
        main(["data", "synth", "-o", str(out), "--items", "5"])
    assert exit_.value.code == 2
    assert "--items 5: input should be greater than or equal to 24" in capsys.readouterr().err
