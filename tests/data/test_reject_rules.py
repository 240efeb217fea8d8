"""What loaders reject into the quarantine, and what the quarantine file itself promises.

Ratings off the source's declared scale, a user tied to themself and a tie listed twice are
rejected with their reason; the quarantine file always exists when asked for, is readable by
its owner only, and keeps no PII in its ``raw`` and ``value`` fields.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segrec.data import load_dataset
from segrec.data.synthetic import generate
from segrec.diagnostics import UsageError

SELF_LOOP = "self-loop: a user tied to themself"
DUPLICATE_TIE = "duplicate tie: same src, dst and kind as an earlier row"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def _records(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text("utf-8").splitlines() if ln]


def _reasons(rep, table: str = "interactions") -> dict[str, int]:  # type: ignore[no-untyped-def]
    return dict(rep.tables[table].reasons)


# -- ratings on the declared scale --------------------------------------------------------
def test_movielens_100k_takes_whole_stars_1_to_5(tmp_path: Path) -> None:
    d = tmp_path / "ml-100k"
    _write(d / "u.data", "1\t10\t1\t881250949\n1\t11\t0.5\t881250950\n2\t10\t6\t881250951\n")
    ds, rep = load_dataset(f"movielens:{d}")
    assert ds.interactions.rating.tolist() == [1.0]
    assert _reasons(rep) == {"rating below 1": 1, "rating above 5": 1}


def test_movielens_latest_takes_half_stars(tmp_path: Path) -> None:
    d = tmp_path / "ml-latest-small"
    _write(
        d / "ratings.csv",
        "userId,movieId,rating,timestamp\n1,1,0.5,964982703\n1,2,5.5,964982703\n1,3,0,964982703\n",
    )
    ds, rep = load_dataset(f"movielens:{d}")
    assert ds.interactions.rating.tolist() == [0.5]
    assert _reasons(rep) == {"rating above 5": 1, "rating below 0.5": 1}


def test_amazon_overall_is_1_to_5(tmp_path: Path) -> None:
    base = {"reviewerID": "U1", "asin": "A1", "unixReviewTime": 1393545600, "reviewText": "ok"}
    lines = [
        json.dumps({**base, "overall": 5.0}),
        json.dumps({**base, "asin": "A2", "overall": 11.0}),
        json.dumps({**base, "asin": "A3", "overall": 0.5}),
    ]
    f = _write(tmp_path / "reviews.json", "\n".join(lines) + "\n")
    ds, rep = load_dataset(f"amazon:{f}")
    assert ds.interactions.rating.tolist() == [5.0]
    assert _reasons(rep) == {"overall above 5": 1, "overall below 1": 1}


def test_filmtrust_ratings_are_half_stars_up_to_4(tmp_path: Path) -> None:
    d = tmp_path / "ft"
    _write(d / "ratings.txt", "1 1 0.5\n1 2 4\n2 1 4.5\n2 2 5\n")
    ds, rep = load_dataset(f"filmtrust:{d}")
    assert ds.interactions.rating.tolist() == [0.5, 4.0]
    assert _reasons(rep) == {"rating above 4": 2}


def test_yelp_stars_are_1_to_5(tmp_path: Path) -> None:
    head = "business_id,date,review_id,stars,text,type,user_id,cool,useful,funny\n"
    body = (
        "b1,2011-01-26,r1,1,fine,review,u1,0,0,0\n"
        "b1,2011-01-26,r2,0,bad,review,u2,0,0,0\n"
        "b1,2011-01-26,r3,6,wow,review,u3,0,0,0\n"
    )
    ds, rep = load_dataset(f"yelp-csv:{_write(tmp_path / 'y.csv', head + body)}")
    assert ds.interactions.user_id.astype(str).tolist() == ["u1"]
    assert _reasons(rep) == {"stars below 1": 1, "stars above 5": 1}


def _generic(tmp_path: Path, settings: str = "") -> Path:
    _write(tmp_path / "events.csv", "u,i,r\nc1,s1,4\nc1,s2,11\nc2,s1,0\nc2,s2,1\n")
    return _write(
        tmp_path / "map.toml",
        f'[interactions]\npath = "events.csv"\nuser_id = "u"\nitem_id = "i"\nrating = "r"\n'
        f"{settings}",
    )


def test_generic_rating_range_from_the_mapping(tmp_path: Path) -> None:
    q = tmp_path / "q.jsonl"
    ds, _ = load_dataset(f"generic:{_generic(tmp_path, 'rating_range = [1, 5]')}", q)
    assert ds.interactions.rating.tolist() == [4.0, 1.0]
    recs = {r["line"]: r for r in _records(q)}
    assert recs[3]["reason"] == "rating above 5" and recs[3]["value"] == "11"
    assert recs[4]["reason"] == "rating below 1" and recs[4]["field"] == "rating"


def test_generic_rating_range_as_a_spec_option(tmp_path: Path) -> None:
    ds, rep = load_dataset(f"generic:{_generic(tmp_path)}?rating_range=1-5")
    assert ds.interactions.rating.tolist() == [4.0, 1.0]
    assert rep.rejected == 2


def test_generic_without_a_range_accepts_numbers_and_says_so(tmp_path: Path) -> None:
    ds, rep = load_dataset(f"generic:{_generic(tmp_path)}")
    assert len(ds.interactions) == 4
    assert any("rating_range = [1, 5]" in n for n in rep.notes)


@pytest.mark.parametrize("bad", ["[5, 1]", '"five"', "[1]"])
def test_generic_bad_rating_range_names_the_key_and_the_fix(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UsageError, match=r"rating_range.*e\.g\. rating_range = \[1, 5\]"):
        load_dataset(f"generic:{_generic(tmp_path, f'rating_range = {bad}')}")


def test_a_saved_synthetic_shop_declares_its_1_to_5_scale(tmp_path: Path) -> None:
    ds = generate(users=60, seed=3)
    ds.to_parquet(tmp_path / "shop")
    back, rep = load_dataset(f"generic:{tmp_path / 'shop'}")
    assert rep.rejected == 0 and len(back.interactions) == len(ds.interactions)
    assert not any("rating_range" in n for n in rep.notes)


# -- ties ---------------------------------------------------------------------------------
def test_filmtrust_self_trust_and_repeated_trust_are_rejected(tmp_path: Path) -> None:
    d = tmp_path / "ft"
    _write(d / "ratings.txt", "1 1 2\n")
    _write(d / "trust.txt", "1 2 1\n2 2 1\n1 2 1\n2 1 1\n")
    q = tmp_path / "q.jsonl"
    ds, _ = load_dataset(f"filmtrust:{d}", q)
    assert list(zip(ds.social.src, ds.social.dst, strict=True)) == [("1", "2"), ("2", "1")]
    reasons = {r["line"]: r["reason"] for r in _records(q) if r["table"] == "social"}
    assert reasons == {2: SELF_LOOP, 3: DUPLICATE_TIE}


def test_lastfm_friend_of_themself_and_repeated_rows(tmp_path: Path) -> None:
    d = tmp_path / "lastfm"
    _write(d / "user_artists.dat", "userID\tartistID\tweight\n2\t51\t10\n")
    _write(d / "tags.dat", "tagID\ttagValue\n1\tmetal\n")
    _write(d / "user_taggedartists.dat", "userID\tartistID\ttagID\tday\tmonth\tyear\n")
    _write(d / "artists.dat", "id\tname\turl\tpictureURL\n51\tA\thttp://a\thttp://p\n")
    # both directions of one friendship are how the file is written: not duplicates
    _write(d / "user_friends.dat", "userID\tfriendID\n2\t3\n3\t2\n2\t2\n2\t3\n")
    ds, rep = load_dataset(f"lastfm-hetrec:{d}")
    assert len(ds.social) == 2
    assert _reasons(rep, "social") == {SELF_LOOP: 1, DUPLICATE_TIE: 1}


def test_generic_ties_differ_by_kind(tmp_path: Path) -> None:
    _write(tmp_path / "events.csv", "u,i\nc1,s1\n")
    _write(tmp_path / "ties.csv", "a,b,k\nc1,c2,friend\nc1,c2,trust\nc1,c2,friend\nc3,c3,trust\n")
    toml = _write(
        tmp_path / "map.toml",
        '[interactions]\npath = "events.csv"\nuser_id = "u"\nitem_id = "i"\n'
        '[social]\npath = "ties.csv"\nsrc = "a"\ndst = "b"\nkind = "k"\n',
    )
    ds, rep = load_dataset(f"generic:{toml}")
    assert ds.social.kind.astype(str).tolist() == ["friend", "trust"]
    assert _reasons(rep, "social") == {DUPLICATE_TIE: 1, SELF_LOOP: 1}


# -- the quarantine file ------------------------------------------------------------------
def test_quarantine_file_is_written_even_when_nothing_is_rejected(tmp_path: Path) -> None:
    q = tmp_path / "sub" / "q.jsonl"
    _, rep = load_dataset("synthetic:users=30,seed=1", q)
    assert rep.rejected == 0
    assert q.exists() and q.read_text() == ""
    assert rep.as_dict()["quarantine"] == str(q)


def test_quarantine_file_is_owner_only_even_if_it_existed(tmp_path: Path) -> None:
    q = _write(tmp_path / "q.jsonl", "old contents\n")
    q.chmod(0o644)
    load_dataset(f"generic:{_generic(tmp_path, 'rating_range = [1, 5]')}", q)
    assert stat.S_IMODE(q.stat().st_mode) == 0o600
    assert "old contents" not in q.read_text()


def test_a_failed_load_leaves_no_empty_quarantine(tmp_path: Path) -> None:
    q = tmp_path / "q.jsonl"
    with pytest.raises(UsageError):
        load_dataset(f"generic:{_generic(tmp_path, 'rating_range = [5, 1]')}", q)
    assert not q.exists()


def test_quarantine_raw_and_value_are_pii_scrubbed(tmp_path: Path) -> None:
    head = "business_id,date,review_id,stars,text,type,user_id,cool,useful,funny\n"
    body = (
        "b1,2011-01-26,r1,11,mail joe@example.com or call +1 (555) 123-4567,review,u1,0,0,0\n"
        "b1,2011-01-26,r2,4,fine,review,ann@example.org,0,0,x\n"
    )
    q = tmp_path / "q.jsonl"
    load_dataset(f"yelp-csv:{_write(tmp_path / 'y.csv', head + body)}", q)
    text = q.read_text()
    assert "joe@example.com" not in text and "555" not in text and "ann@example.org" not in text
    recs = _records(q)
    assert recs[0]["reason"] == "stars above 5"
    assert "mail [EMAIL] or call [PHONE]" in recs[0]["raw"]
    assert "[EMAIL]" in recs[1]["raw"]


def test_cli_check_writes_the_empty_quarantine_it_reports(tmp_path: Path) -> None:
    from segrec.cli import _commands  # noqa: F401  (registers the commands)
    from segrec.cli._app import app

    q = tmp_path / "bad.jsonl"
    res = CliRunner().invoke(
        app, ["data", "check", "-d", "synthetic:users=30,seed=1", "--json", "--quarantine", str(q)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["quarantine"] == str(q)
    assert q.exists() and q.read_text() == ""


# -- messages say what was typed and what to type -----------------------------------------
@pytest.mark.parametrize(
    ("spec", "typed", "fix"),
    [
        ("synthetic:users=abc", "synthetic:users=abc", "e.g. synthetic:users=2000"),
        ("synthetic:drift_share=2", "synthetic:drift_share=2", "from 0 to 1"),
        ("synthetic:social=maybe", "synthetic:social=maybe", "e.g. synthetic:social=true"),
        ("synthetic:personas=x", "synthetic:personas=x", "e.g. personas=budget_beginner|"),
    ],
)
def test_synthetic_spec_errors_name_no_internal_class(spec: str, typed: str, fix: str) -> None:
    with pytest.raises(UsageError) as exc:
        load_dataset(spec)
    msg = str(exc.value)
    assert msg.startswith(typed) and fix in msg
    assert "Config" not in msg
