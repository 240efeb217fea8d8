"""Hypothesis: on files mixing valid and corrupted rows, nothing is lost and nothing bad gets in.

For each generated file we know which lines are valid. After loading: ``read == accepted +
rejected`` per table, the accepted interactions are exactly the valid rows (in file order),
the quarantined lines are exactly the corrupted ones, and every quarantine line is JSON with
source, line, raw and reason.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segrec.data import load_dataset
from segrec.data._pii import scrub_text

LIMIT = 300  # max_text_chars for the Amazon files (the default 100,000 is slow to shrink)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ids = st.integers(1, 40)
_ts = st.integers(800_000_000, 1_600_000_000)

# (text to put in a field, why it is bad) for delimited numeric fields
_BAD_RATING = st.sampled_from(["nan", "inf", "-inf", "abc", "7", "0", ""])
_BAD_TS = st.sampled_from(["-5", "99999999999", "1.5", "soon", "nan"])


def _delimited_row(
    sep: str, n_fields: int, stars: list[float]
) -> st.SearchStrategy[tuple[bytes, Any]]:
    """(line bytes, expected accepted tuple or None) for u.data (4 fields) / FilmTrust (3);
    ``stars``: the valid ratings of that source's scale."""
    valid = st.tuples(_ids, _ids, st.sampled_from(stars), _ts).map(
        lambda t: (
            sep.join([str(t[0]), str(t[1]), f"{t[2]:g}", str(t[3])][:n_fields]).encode(),
            (str(t[0]), str(t[1]), t[2], t[3] if n_fields == 4 else 0),
        )
    )

    def corrupt(args: tuple[int, int, str, str, int]) -> tuple[bytes, None]:
        u, i, bad_r, bad_t, how = args
        fields = [str(u), str(i), "3", "881250949"][:n_fields]
        if how == 0:
            fields[2] = bad_r
        elif how == 1 and n_fields == 4:
            fields[3] = bad_t
        elif how == 2:
            fields = fields[:-1]
        elif how == 3:
            fields = [*fields, "9"]
        elif how == 4:
            fields[0] = ""
        elif how == 5:
            fields[1] = f"{i}\x01"
        else:
            return sep.join(fields).encode() + b"\xff\xfe", None
        return sep.join(fields).encode(), None

    bad = st.tuples(_ids, _ids, _BAD_RATING, _BAD_TS, st.integers(0, 6)).map(corrupt)
    return st.one_of(valid, valid, bad)


def _check_quarantine(q: Path, lines: list[bytes], expected_bad: set[int]) -> None:
    recs = [json.loads(x) for x in q.read_text("utf-8").split("\n") if x] if q.exists() else []
    for r in recs:
        assert {"source", "line", "raw", "reason", "table"} <= set(r)
        assert r["reason"]
    got = {r["line"] for r in recs if r["table"] == "interactions"}
    assert got == expected_bad
    for r in recs:
        if r["table"] != "interactions":
            continue
        try:
            # the raw row as read, PII-scrubbed like the texts
            assert r["raw"] == scrub_text(lines[r["line"] - 1].decode())[:2000]
        except UnicodeDecodeError:
            assert r["reason"].startswith("invalid utf-8 bytes")


def _run_delimited(
    tmp: Path, kind: str, fname: str, rows: list[tuple[bytes, Any]], blank_every: int
) -> None:
    d = tmp / f"{kind}-{abs(hash(tuple(r[0] for r in rows)))}"
    d.mkdir()
    lines: list[bytes] = []
    expected_bad: set[int] = set()
    expected: list[Any] = []
    for k, (line, exp) in enumerate(rows):
        if blank_every and k % blank_every == 1:
            lines.append(b"   ")  # blank lines are not rows
        lines.append(line)
        if exp is None:
            expected_bad.add(len(lines))
        else:
            expected.append(exp)
    (d / fname).write_bytes(b"\n".join(lines) + b"\n")
    q = d / "quarantine.jsonl"
    ds, rep = load_dataset(f"{kind}:{d}", quarantine=q)
    for t in rep.tables.values():
        assert t.read == t.accepted + t.rejected
    t = rep.tables["interactions"]
    assert t.read == len(rows)
    assert t.rejected == len(expected_bad)
    inter = ds.interactions
    got = list(
        zip(
            inter.user_id.astype(str),
            inter.item_id.astype(str),
            inter.rating,
            inter.timestamp,
            strict=True,
        )
    )
    assert got == expected
    _check_quarantine(q, lines, expected_bad)


@SETTINGS
@given(
    rows=st.lists(_delimited_row("\t", 4, [1.0, 2.0, 3.0, 4.0, 5.0]), min_size=1, max_size=25),
    blank_every=st.integers(0, 4),
)
def test_ml100k_udata_properties(tmp_path_factory: Any, rows: list, blank_every: int) -> None:
    _run_delimited(tmp_path_factory.mktemp("ml"), "movielens", "u.data", rows, blank_every)


@SETTINGS
@given(
    rows=st.lists(_delimited_row(" ", 3, [0.5, 1.0, 2.5, 3.5, 4.0]), min_size=1, max_size=25),
    blank_every=st.integers(0, 4),
)
def test_filmtrust_properties(tmp_path_factory: Any, rows: list, blank_every: int) -> None:
    _run_delimited(tmp_path_factory.mktemp("ft"), "filmtrust", "ratings.txt", rows, blank_every)


# -- Amazon JSON lines ----------------------------------------------------------------------
_TEXTS = st.one_of(
    st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != ""),
    st.just(""),
    st.just("   \x00\x07 "),  # only control characters and space: empty after cleaning
    st.just("a\x00b\x1fc"),
    st.just("x" * (LIMIT + 5)),
)


@st.composite
def _amazon_rows(draw: st.DrawFn) -> list[tuple[str | bytes, str]]:
    """(line, status) with status valid / bad / dup."""
    n = draw(st.integers(1, 20))
    out: list[tuple[str | bytes, str]] = []
    first_valid: dict[str, Any] | None = None
    for k in range(n):
        rec = {
            "reviewerID": f"U{draw(_ids)}",
            "asin": f"B{draw(_ids)}",
            "overall": float(draw(st.integers(1, 5))),
            "unixReviewTime": draw(_ts),
            "reviewText": f"review {k} " + draw(_TEXTS),
            "summary": draw(_TEXTS),
            "helpful": [0, 1],
        }
        how = draw(st.integers(0, 11))
        if how <= 4:
            out.append((json.dumps(rec), "valid"))
            first_valid = first_valid or rec
            continue
        if how == 5 and first_valid is not None:
            dup = dict(first_valid, asin="VARIANT")
            out.append((json.dumps(dup), "dup"))
            continue
        if how == 6:
            line: str | bytes = json.dumps(rec)[:-3]
        elif how == 7:
            del rec[draw(st.sampled_from(["reviewerID", "asin", "overall", "unixReviewTime"]))]
            line = json.dumps(rec)
        elif how == 8:
            key = draw(st.sampled_from(["overall", "unixReviewTime", "asin"]))
            wrong = [True, [1], {"a": 1}, None] + (["5"] if key != "asin" else [5.5])
            rec[key] = draw(st.sampled_from(wrong))
            line = json.dumps(rec)
        elif how == 9:
            rec["overall"] = draw(st.sampled_from([float("nan"), float("inf"), 0.0, 6.0]))
            line = json.dumps(rec)  # NaN/Infinity literals: Python's json reads them
        elif how == 10:
            rec["unixReviewTime"] = draw(st.sampled_from([-1, 10**11, 1.5]))
            line = json.dumps(rec)
        else:
            line = json.dumps(rec, ensure_ascii=False).encode() + b"\xc3\x28"
        out.append((line, "bad"))
    return out


@SETTINGS
@given(rows=_amazon_rows(), gz=st.booleans())
def test_amazon_jsonl_properties(tmp_path_factory: Any, rows: list, gz: bool) -> None:
    d = tmp_path_factory.mktemp("amz")
    lines = [r if isinstance(r, bytes) else r.encode() for r, _ in rows]
    data = b"\n".join(lines) + b"\n"
    f = d / ("reviews.json.gz" if gz else "reviews.json")
    if gz:
        with gzip.open(f, "wb") as fh:
            fh.write(data)
    else:
        f.write_bytes(data)
    q = d / "q.jsonl"
    ds, rep = load_dataset(f"amazon:{f}?max_text_chars={LIMIT}", quarantine=q)
    for t in rep.tables.values():
        assert t.read == t.accepted + t.rejected
    valid = [json.loads(r) for r, s in rows if s == "valid"]
    bad_lines = {k + 1 for k, (_, s) in enumerate(rows) if s != "valid"}
    inter = ds.interactions
    assert rep.tables["interactions"].read == len(rows)
    got = list(
        zip(
            inter.user_id.astype(str),
            inter.item_id.astype(str),
            inter.rating,
            inter.timestamp,
            strict=True,
        )
    )
    assert got == [(v["reviewerID"], v["asin"], v["overall"], v["unixReviewTime"]) for v in valid]
    _check_quarantine(q, lines, bad_lines)
    # texts: two per accepted review; empty-after-cleaning and huge ones rejected
    texts = rep.tables.get("texts")
    n_texts = 2 * len(valid)
    assert (texts.read if texts else 0) == n_texts

    def ok(t: str) -> bool:
        cleaned = "".join(c for c in t if c in "\t\n" or not (ord(c) < 32 or 127 <= ord(c) <= 159))
        return cleaned.strip() != "" and len(cleaned.strip()) <= LIMIT

    expected_texts = sum(ok(v["reviewText"]) + ok(v["summary"]) for v in valid)
    assert len(ds.texts) == expected_texts
    assert not ds.texts.text.str.contains("[\x00-\x08\x0b-\x1f]", regex=True).any()
