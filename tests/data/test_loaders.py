"""Each loader on small hand-written files: parsed values, rejected rows and their reasons."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from segrec.data import load_dataset
from segrec.data.loaders._common import MAX_TEXT_CHARS
from segrec.data.loaders.amazon import DUPLICATE_REASON
from segrec.data.loaders.lastfm import undirected_pairs
from segrec.diagnostics import UsageError


def _write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def _quarantine(path: Path) -> list[dict]:
    return (
        [json.loads(ln) for ln in path.read_text("utf-8").split("\n") if ln]
        if path.exists()
        else []
    )


# -- movielens ------------------------------------------------------------------------------
def _ml100k(d: Path) -> Path:
    _write(
        d / "u.data",
        b"1\t10\t4\t881250949\n"
        b"1\t11\t6\t881250950\n"  # line 2: rating out of range
        b"2\t10\tnan\t881250951\n"  # line 3: NaN rating
        b"2\t12\t3\n"  # line 4: missing field
        b"\n"  # blank: not a row
        b"3\t\xff\xfe\t2\t881250952\n"  # line 6: invalid UTF-8
        b"3\t12\t5\t99999999999\n"  # line 7: in the future
        b"3\t10\t1\t881250953\n",
    )
    flags0 = "|".join(["0"] * 19)
    _write(
        d / "u.item",
        f"10|Amélie (2001)|01-Jan-2001||http://x|{flags0[:-1]}1\n"
        f"11|Toy Story (1995)|01-Jan-1995||http://y|0|0|0|1|1{flags0[9:]}\n"
        f"12|Bad|01-Jan-1995||http://z|{flags0[:-1]}7\n",
        encoding="latin-1",
    )
    _write(d / "u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n3|x|M|writer|32067\n")
    return d


def test_ml100k_values_and_rejections(tmp_path: Path) -> None:
    d = _ml100k(tmp_path / "ml-100k")
    q = tmp_path / "q.jsonl"
    ds, rep = load_dataset(f"movielens:{d}", quarantine=q)
    inter = ds.interactions
    assert len(inter) == 2
    assert inter.user_id.astype(str).tolist() == ["1", "3"]
    assert inter.rating.tolist() == [4.0, 1.0]
    assert set(inter.event.astype(str)) == {"rating"}
    t = rep.tables["interactions"]
    assert (t.read, t.accepted, t.rejected) == (7, 2, 5)
    rows = [r for r in _quarantine(q) if r["table"] == "interactions"]
    by_line = {r["line"]: r["reason"] for r in rows}
    assert by_line[2] == "rating above 5"
    assert by_line[3] == "rating is not a number"
    assert by_line[4] == "expected 4 fields, found 3"
    assert by_line[6].startswith("invalid utf-8 bytes at offset 2")
    assert by_line[7] == "impossible timestamp: in the future"
    assert all(r["source"] == "u.data" for r in rows)
    items = ds.items.set_index(ds.items.item_id.astype(str))
    assert items.loc["10", "title"] == "Amélie (2001)"  # Latin-1 decoded
    assert items.loc["10", "categories"] == "Western"
    assert items.loc["11", "categories"] == "Animation|Children's"
    assert "12" not in items.index  # genre flag 7
    assert rep.tables["users"].rejected == 1  # age "x"
    assert ds.users.set_index(ds.users.user_id.astype(str)).loc["2", "occupation"] == "other"


def test_ml_latest_crlf_quotes_and_tags(tmp_path: Path) -> None:
    d = tmp_path / "ml-latest-small"
    _write(
        d / "ratings.csv",
        "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,2,0.5,964982704\r\n"
        "2,1,inf,964982705\r\n",
    )
    _write(
        d / "movies.csv",
        'movieId,title,genres\r\n1,"American President, The (1995)",Comedy|Romance\r\n'
        "2,Heat (1995),(no genres listed)\r\n",
    )
    _write(
        d / "tags.csv",
        'userId,movieId,tag,timestamp\r\n1,1,"funny, sad",1445714994\r\n'
        "1,2,\x07mail me a@b.io,1445714995\r\n2,2,,1445714996\r\n",
    )
    ds, rep = load_dataset(f"movielens:{d}")
    assert ds.interactions.rating.tolist() == [4.0, 0.5]
    assert rep.rejected_rows[0]["reason"] == "rating is not a finite number"
    assert rep.rejected_rows[0]["line"] == 4
    items = ds.items.set_index(ds.items.item_id.astype(str))
    assert items.loc["1", "title"] == "American President, The (1995)"
    assert items.loc["1", "categories"] == "Comedy|Romance"
    assert items.loc["2", "categories"] == ""
    assert ds.texts.text.tolist() == ["funny, sad", "mail me [EMAIL]"]
    assert set(ds.texts.kind.astype(str)) == {"tag"}
    assert rep.cleaning["control_chars_removed"] == 1
    assert rep.cleaning["pii"]["email"] == 1
    assert rep.tables["texts"].rejected == 1  # the empty tag


def test_movielens_unknown_folder_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"neither u\.data"):
        load_dataset(f"movielens:{tmp_path}")


def test_missing_header_column_is_usage_error(tmp_path: Path) -> None:
    d = tmp_path / "ml"
    _write(d / "ratings.csv", "userId,movie,rating,timestamp\n1,1,4,964982703\n")
    with pytest.raises(UsageError, match=r"ratings.csv: header lacks column\(s\) movieId; found"):
        load_dataset(f"movielens:{d}")


# -- amazon ---------------------------------------------------------------------------------
def _review(**kw: object) -> str:
    base = {
        "reviewerID": "U1",
        "asin": "A1",
        "overall": 5.0,
        "unixReviewTime": 1393545600,
        "reviewText": "Great strings",
        "summary": "good",
        "helpful": [0, 0],
    }
    base.update(kw)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def test_amazon_2018_variants_are_deduplicated_and_meta_unescaped(tmp_path: Path) -> None:
    lines = [
        _review(asin="A1", vote="3", style={"Size:": " Small"}, verified=True),
        _review(asin="A2", vote="3", style={"Size:": " Large"}, verified=True),  # variant dup
        _review(reviewerID="U2", asin="A2", overall="4"),  # wrong type
        _review(reviewerID="U2", asin="A2", reviewText="", summary="meh", overall=3.0),
        "{broken json",
        _review(reviewerID="U3", asin=..., reviewText="x"),  # missing asin
        _review(
            reviewerID="U3",
            asin="A1",
            unixReviewTime=...,
            reviewTime="09 18, 2004",
            reviewText="ok",
        ),
    ]
    rev = tmp_path / "shop" / "Musical_2018.json.gz"
    rev.parent.mkdir()
    with gzip.open(rev, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    _write(
        tmp_path / "shop" / "meta_Musical.json",
        json.dumps(
            {
                "asin": "A1",
                "title": "Strings &amp; Things",
                "category": ["Music", "Strings"],
                "price": "$12.99",
                "brand": "D&amp;R",
                "also_buy": ["A2"],
            }
        )
        + "\n"
        + "{'asin': 'A2', 'title': 'Capo', 'categories': [['Music'], ['Music', 'Capos']], 'price': 7.5}\n",
    )
    q = tmp_path / "q.jsonl"
    ds, rep = load_dataset(f"amazon:{tmp_path / 'shop'}", quarantine=q)
    t = rep.tables["interactions"]
    assert (t.read, t.accepted, t.rejected) == (7, 3, 4)
    reasons = {r["line"]: r["reason"] for r in _quarantine(q) if r["table"] == "interactions"}
    assert reasons[2] == DUPLICATE_REASON
    assert reasons[3] == "overall is not a number"
    assert reasons[5].startswith("broken JSON")
    assert reasons[6] == "asin is missing or empty"
    inter = ds.interactions
    assert inter.item_id.astype(str).tolist() == ["A1", "A2", "A1"]
    assert inter.timestamp.tolist()[2] == 1095465600  # 2004-09-18 UTC from reviewTime
    assert set(inter.event.astype(str)) == {"review"}
    kinds = ds.texts.groupby(ds.texts.kind.astype(str)).size().to_dict()
    assert kinds == {"review": 2, "summary": 3}  # U2's empty review text rejected
    assert rep.tables["texts"].rejected == 1
    # the quarantine names the source field of the empty text, not a generic "text"
    (bad_text,) = [r for r in _quarantine(q) if r["table"] == "texts"]
    assert (bad_text["line"], bad_text["field"]) == (4, "reviewText")
    items = ds.items.set_index(ds.items.item_id.astype(str))
    assert items.loc["A1", "title"] == "Strings & Things"
    assert items.loc["A1", "brand"] == "D&R"
    assert items.loc["A1", "price"] == pytest.approx(12.99)
    assert items.loc["A2", "categories"] == "Music|Capos"
    assert json.loads(items.loc["A1", "attrs"]) == {"also_buy": ["A2"]}
    assert any("'vote'" in n for n in rep.notes)


def test_amazon_option_names_meta_and_huge_text(tmp_path: Path) -> None:
    rev = _write(tmp_path / "r.json", _review(reviewText="y" * (MAX_TEXT_CHARS + 1)) + "\n")
    _write(tmp_path / "m.json", json.dumps({"asin": "A1", "title": "T"}) + "\n")
    ds, rep = load_dataset(f"amazon:{rev}?meta=m.json")
    assert len(ds.interactions) == 1 and len(ds.items) == 1
    assert rep.tables["texts"].reasons[f"text longer than {MAX_TEXT_CHARS:,} characters"] == 1
    with pytest.raises(UsageError, match=r"meta=nope\.json: no such file"):
        load_dataset(f"amazon:{rev}?meta=nope.json")


# -- lastfm ---------------------------------------------------------------------------------
def test_lastfm_plays_tags_friends(tmp_path: Path) -> None:
    d = tmp_path / "lastfm"
    _write(d / "user_artists.dat", "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t-3\n3\t51\t7\n")
    _write(d / "tags.dat", "tagID\ttagValue\n1\tmetal\n2\tcafé\n", encoding="latin-1")
    _write(
        d / "user_taggedartists.dat",
        "userID\tartistID\ttagID\tday\tmonth\tyear\n"
        "2\t52\t1\t1\t4\t2009\n2\t51\t2\t15\t6\t2010\n3\t51\t9\t1\t4\t2009\n"
        "3\t51\t1\t31\t2\t2009\n3\t51\t1\t1\t5\t1956\n",
    )
    _write(d / "artists.dat", "id\tname\turl\tpictureURL\n51\tMötley Crüe\thttp://a\thttp://p\n")
    _write(d / "user_friends.dat", "userID\tfriendID\n2\t3\n3\t2\n2\t4\n")
    ds, rep = load_dataset(f"lastfm-hetrec:{d}")
    inter = ds.interactions
    plays = inter[inter.event.astype(str) == "play"]
    assert plays.weight.tolist() == [13883.0, 7.0]
    assert rep.tables["interactions"].reasons["weight below 0"] == 1
    tags = inter[inter.event.astype(str) == "tag"]
    assert tags.timestamp.tolist() == [1238544000, 1276560000]  # 2009-04-01, 2010-06-15 UTC
    assert ds.texts.text.tolist() == ["metal", "café"]
    reasons = rep.tables["interactions"].reasons
    assert reasons["tagID not in tags.dat"] == 1
    assert reasons["impossible date (no such day in that month)"] == 1
    assert reasons["impossible timestamp: before 2002-01-01 (before Last.fm existed)"] == 1
    assert ds.items.title.tolist() == ["Mötley Crüe"]
    assert len(ds.social) == 3 and set(ds.social.kind.astype(str)) == {"friend"}
    assert undirected_pairs(ds.social) == 2
    assert rep.cleaning["social_undirected_pairs"] == 2
    assert ds.meta["untimed_events"] == ["play"]


# -- yelp -----------------------------------------------------------------------------------
def test_yelp_multiline_text_and_bad_rows(tmp_path: Path) -> None:
    head = "business_id,date,review_id,stars,text,type,user_id,cool,useful,funny\n"
    body = (
        'b1,2011-01-26,r1,5,"Great place,\nreally. Call 555-123-4567",review,u1,2,5,0\n'
        "b2,2011-13-01,r2,4,ok,review,u1,0,0,0\n"
        "b2,2011-02-01,r3,4,ok,tip,u2,0,0,0\n"
        "b2,2011-02-01,r4,9,ok,review,u2,0,0,0\n"
        'b3,2012-05-05,r5,3,"",review,u2,0,1,0\n'
    )
    f = _write(tmp_path / "yelp.csv", head + body)
    ds, rep = load_dataset(f"yelp-csv:{f}")
    assert ds.interactions.user_id.astype(str).tolist() == ["u1", "u2"]
    assert ds.interactions.seq.tolist() == [2, 7]  # line numbers; r1 spans lines 2-3
    lines = {r["line"]: r["reason"] for r in rep.rejected_rows}
    assert lines == {
        4: "date is not YYYY-MM-DD",
        5: "type is not 'review'",
        6: "stars above 5",
        7: "empty text",
    }
    assert ds.texts.text.tolist() == ["Great place,\nreally. Call [PHONE]"]


# -- filmtrust ------------------------------------------------------------------------------
def test_filmtrust(tmp_path: Path) -> None:
    d = tmp_path / "ft"
    _write(d / "ratings.txt", "1 1 2\n1 2 4\n2 1 3.5\n2 2 -1\n")
    _write(d / "trust.txt", "1 2 1\n2 3 1\n2\n")
    ds, rep = load_dataset(f"filmtrust:{d}")
    assert ds.interactions.rating.tolist() == [2.0, 4.0, 3.5]
    assert len(ds.social) == 2 and set(ds.social.kind.astype(str)) == {"trust"}
    assert rep.tables["social"].reasons["expected 3 fields, found 1"] == 1
    assert ds.counts()["users_with_interactions"] == 2 and ds.n_users == 3


# -- generic --------------------------------------------------------------------------------
def test_generic_csv_jsonl_parquet(tmp_path: Path) -> None:
    _write(
        tmp_path / "events.csv",
        "customer,sku,ts,type,price_paid\n"
        "c1,s1,1700000000,purchase,9.5\nc1,s2,2023-11-15T00:00:00Z,view,\nc2,s1,yesterday,view,\n",
    )
    _write(
        tmp_path / "reviews.jsonl",
        json.dumps({"user": "c1", "body": "nice www.x.com"})
        + "\n"
        + json.dumps({"user": "c2", "body": 5})
        + "\n",
    )
    pd.DataFrame(
        {
            "sku": ["s1", "s2"],
            "name": ["Shoe", "Hat"],
            "cost": [10.0, 5.0],
            "color": ["red", "blue"],
        }
    ).to_parquet(tmp_path / "items.parquet")
    toml = _write(
        tmp_path / "shop.toml",
        """
[interactions]
path = "events.csv"
user_id = "customer"
item_id = "sku"
timestamp = "ts"
event = "type"
amount = "price_paid"
[texts]
path = "reviews.jsonl"
user_id = "user"
text = "body"
[items]
path = "items.parquet"
item_id = "sku"
title = "name"
price = "cost"
attributes = ["color"]
""",
    )
    ds, rep = load_dataset(f"generic:{toml}")
    inter = ds.interactions
    assert inter.timestamp.tolist() == [1700000000, 1700006400]
    assert inter.event.astype(str).tolist() == ["purchase", "view"]
    assert inter.amount.iloc[0] == 9.5 and pd.isna(inter.amount.iloc[1])
    assert rep.tables["interactions"].reasons["timestamp is not unix seconds or ISO-8601"] == 1
    assert ds.texts.text.tolist() == ["nice [URL]"]
    assert rep.tables["texts"].reasons["text is not a string"] == 1
    items = ds.items.set_index(ds.items.item_id.astype(str))
    assert items.loc["s2", "title"] == "Hat" and items.loc["s2", "price"] == 5.0
    assert json.loads(items.loc["s1", "attrs"]) == {"color": "red"}


def test_generic_missing_column_names_file_key_and_columns(tmp_path: Path) -> None:
    _write(tmp_path / "events.csv", "customer,sku,ts\nc1,s1,1700000000\n")
    toml = _write(
        tmp_path / "m.toml",
        '[interactions]\npath = "events.csv"\nuser_id = "customer"\nitem_id = "product"\n',
    )
    with pytest.raises(UsageError) as exc:
        load_dataset(f"generic:{toml}")
    msg = str(exc.value)
    assert 'item_id = "product"' in msg and "events.csv has no column 'product'" in msg
    assert "customer, sku, ts" in msg and "m.toml" in msg


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_generic_single_file_is_read_as_interactions(tmp_path: Path, fmt: str) -> None:
    # generic:events.csv with our column names needs no mapping file, and is checked the same way
    frame = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u3"],
            "item_id": ["i1", "i2", "i1", "i2"],
            "timestamp": ["1700000000", "2023-11-15T00:00:00Z", "yesterday", "1700000100"],
            "rating": [5, 4, 3, 2],
            "comment": ["kept as an unused column"] * 4,
        }
    )
    file = tmp_path / f"events.{fmt}"
    if fmt == "csv":
        frame.to_csv(file, index=False)
    elif fmt == "parquet":
        frame.to_parquet(file)
    else:
        frame.to_json(file, orient="records", lines=True)
    ds, rep = load_dataset(f"generic:{file}")
    assert ds.name == "events"
    assert rep.tables["interactions"].read == 4 and rep.tables["interactions"].rejected == 1
    assert rep.tables["interactions"].reasons["timestamp is not unix seconds or ISO-8601"] == 1
    assert sorted(ds.interactions.timestamp.tolist()) == [1700000000, 1700000100, 1700006400]
    assert set(ds.interactions.event.astype(str)) == {"rating"}  # a rating column is mapped
    assert sorted(ds.interactions.rating.tolist()) == [2.0, 4.0, 5.0]


def test_generic_single_file_without_our_columns_says_how_to_fix(tmp_path: Path) -> None:
    _write(tmp_path / "events.csv", "customer,sku\nc1,s1\n")
    with pytest.raises(UsageError) as exc:
        load_dataset(f"generic:{tmp_path / 'events.csv'}")
    msg = str(exc.value)
    assert "lacks 'user_id', 'item_id'" in msg and "its columns: customer, sku" in msg
    assert "generic:FILE.toml" in msg and "TOML" in msg and "Traceback" not in msg


def test_generic_reads_a_saved_dataset_folder_with_the_same_checks(tmp_path: Path) -> None:
    # what `segrec data synth --out shop/` writes loads back as generic:shop/
    from segrec.data import Dataset

    shop, _ = load_dataset("synthetic:users=60,seed=3")
    folder = shop.to_parquet(tmp_path / "shop")
    back, rep = load_dataset(f"generic:{folder}")
    assert back.name == shop.name and rep.rejected == 0
    for table in ("interactions", "texts", "items", "users", "social"):
        ours, theirs = getattr(back, table), getattr(shop, table)
        cols = [c for c in theirs.columns if c != "seq"]
        assert len(ours) == len(theirs) > 0, table
        pd.testing.assert_frame_equal(
            ours[cols].astype(str).reset_index(drop=True),
            theirs[cols].astype(str).reset_index(drop=True),
            check_dtype=False,
        )
    assert back.truth is not None and back.truth.equals(Dataset.from_parquet(folder).truth)
    # a damaged row is quarantined with its row number, field and value; the rest load
    inter = pd.read_parquet(folder / "interactions.parquet")
    inter.loc[4, "timestamp"] = -5
    inter.to_parquet(folder / "interactions.parquet", index=False)
    items = pd.read_parquet(folder / "items.parquet")
    items.loc[2, "attrs"] = "not json"
    items.to_parquet(folder / "items.parquet", index=False)
    q = tmp_path / "bad.jsonl"
    again, rep = load_dataset(f"generic:{folder}", quarantine=q)
    assert len(again.interactions) == len(shop.interactions) - 1
    assert len(again.items) == len(shop.items) - 1
    bad = {r["field"]: r for r in _quarantine(q)}
    assert bad["timestamp"]["line"] == 5 and float(bad["timestamp"]["value"]) == -5
    assert "JSON object" in bad["attrs"]["reason"] and bad["attrs"]["line"] == 3


def test_generic_reads_a_streamed_shop(tmp_path: Path) -> None:
    from segrec.data.synthetic import generate, stream_to_disk
    from segrec.data.synthetic._generate import make_config

    cfg = make_config(None, users=120, seed=4)
    stream_to_disk(tmp_path / "big", config=cfg, chunk_users=50)
    ds, rep = load_dataset(f"generic:{tmp_path / 'big'}")
    whole = generate(config=cfg)
    assert len(ds.interactions) == len(whole.interactions) == rep.tables["interactions"].accepted
    assert rep.rejected == 0 and ds.truth is not None


def test_generic_folder_without_interactions_says_what_to_give(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"without interactions\.parquet; give the TOML mapping"):
        load_dataset(f"generic:{tmp_path / 'empty'}")
    pd.DataFrame({"user": ["u1"], "item_id": ["i1"]}).to_parquet(
        tmp_path / "empty" / "interactions.parquet"
    )
    with pytest.raises(UsageError) as exc:
        load_dataset(f"generic:{tmp_path / 'empty'}")
    msg = str(exc.value)
    assert "interactions.parquet: no column user_id" in msg and "columns are user, item_id" in msg


def test_stray_quote_loses_one_row_and_blank_lines_inside_quotes_survive(tmp_path: Path) -> None:
    head = "business_id,date,review_id,stars,text,type,user_id,cool,useful,funny\n"
    body = (
        'b1,2011-01-26,r1,5,"para one\n\npara two",review,u1,0,0,0\n'
        'b2,2011-01-27,r2,4,"oops,review,u2,0,0,0\n'
        "b3,2011-01-28,r3,3,fine,review,u3,0,0,0\n"
    )
    f = _write(tmp_path / "yelp.csv", head + body)
    ds, rep = load_dataset(f"yelp-csv:{f}")
    assert ds.interactions.user_id.astype(str).tolist() == ["u1", "u3"]
    assert ds.texts.text.tolist()[0] == "para one\n\npara two"
    (bad,) = rep.rejected_rows
    assert bad["line"] == 5 and bad["reason"].startswith("unbalanced quote")


def test_pii_off_and_bad_text_limit_option(tmp_path: Path) -> None:
    rev = _write(tmp_path / "r.json", _review(reviewText="mail ann@example.com") + "\n")
    ds, rep = load_dataset(f"amazon:{rev}?pii=off")
    assert "mail ann@example.com" in ds.texts.text.tolist()
    assert rep.cleaning["pii"] == "off"
    ds, rep = load_dataset(f"amazon:{rev}")
    assert "mail [EMAIL]" in ds.texts.text.tolist() and rep.cleaning["pii"]["email"] == 1
    with pytest.raises(UsageError, match="max_text_chars"):
        load_dataset(f"amazon:{rev}?max_text_chars=lots")
