"""``lastfm-hetrec:PATH``: the HetRec 2011 Last.fm 2K folder.

* ``user_artists.dat`` (userID, artistID, weight): interactions ``event="play"`` with
  ``weight`` = listening count. The file has no time: these rows get ``timestamp=0`` (listed in
  ``meta["untimed_events"]``), so a temporal split keeps them all in training.
* ``user_taggedartists-timestamps.dat`` (ms timestamps) when present, else
  ``user_taggedartists.dat`` (day, month, year; UTC midnight): interactions ``event="tag"`` plus
  one text of kind ``tag`` per assignment (the tag's value from ``tags.dat``, Latin-1). Dates
  before Last.fm existed (2002) are rejected as impossible (the 2K file has five, from 1956-1979).
* ``artists.dat`` (UTF-8): items (name as title; url and picture in ``attrs``).
* ``user_friends.dat``: ``social`` rows of kind ``friend`` as given (both directions are listed,
  so 25,434 rows are 12,717 undirected pairs; :func:`undirected_pairs` counts them). A user
  listed as their own friend and a row repeated exactly are rejected.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from segrec.data._dataset import Dataset
from segrec.data._quarantine import LoadReport
from segrec.data._registry import register_loader
from segrec.data.loaders._common import (
    RowCheck,
    find_file,
    interactions_frame,
    or_empty,
    read_delimited,
    scrub,
    text_checks,
    tie_checks,
    to_seconds,
)

__all__ = ["load_lastfm", "undirected_pairs"]

LASTFM_START = 1_009_843_200  # 2002-01-01 UTC; Last.fm was founded in 2002


def undirected_pairs(social: pd.DataFrame) -> int:
    """Number of distinct unordered {src, dst} pairs (self-loops excluded)."""
    if not len(social):
        return 0
    a = social["src"].astype(str).to_numpy()
    b = social["dst"].astype(str).to_numpy()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    return int(pd.MultiIndex.from_arrays([lo[keep], hi[keep]]).nunique())


def _plays(folder: Path, report: LoadReport) -> pd.DataFrame:
    rows = read_delimited(
        find_file(folder, "user_artists.dat"),  # type: ignore[arg-type]
        "interactions",
        report,
        ["user_id", "item_id", "weight"],
        header=["userID", "artistID", "weight"],
    )
    chk = RowCheck(rows, report)
    u, i = chk.ids("user_id"), chk.ids("item_id")
    w = chk.number("weight", lo=0, integer=True)
    good = chk.finish()
    return interactions_frame(rows, good, u, i, "play", weight=w)


def _tag_names(folder: Path, report: LoadReport) -> dict[str, str]:
    rows = read_delimited(
        find_file(folder, "tags.dat"),  # type: ignore[arg-type]
        "tag_names",
        report,
        ["tag_id", "value"],
        header=["tagID", "tagValue"],
        encoding="latin-1",
    )
    chk = RowCheck(rows, report)
    ids = chk.ids("tag_id")
    good = chk.finish()
    return dict(zip(ids.to_numpy()[good], rows.frame["value"].to_numpy()[good], strict=True))


def _tag_events(
    folder: Path, options: dict[str, str], report: LoadReport
) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = _tag_names(folder, report)
    ts_file = folder / "user_taggedartists-timestamps.dat"
    if ts_file.is_file():
        cols = ["user_id", "item_id", "tag_id", "timestamp"]
        rows = read_delimited(
            ts_file,
            "interactions",
            report,
            cols,
            header=["userID", "artistID", "tagID", "timestamp"],
        )
    else:
        cols = ["user_id", "item_id", "tag_id", "day", "month", "year"]
        rows = read_delimited(
            find_file(folder, "user_taggedartists.dat"),  # type: ignore[arg-type]
            "interactions",
            report,
            cols,
            header=["userID", "artistID", "tagID", "day", "month", "year"],
        )
    chk = RowCheck(rows, report)
    u, i, tag = chk.ids("user_id"), chk.ids("item_id"), chk.ids("tag_id")
    if "timestamp" in rows.frame:
        ms = chk.number("timestamp", integer=True)
        secs = np.floor_divide(np.nan_to_num(ms), 1000)
    else:
        d = chk.number("day", lo=1, hi=31, integer=True)
        m = chk.number("month", lo=1, hi=12, integer=True)
        y = chk.number("year", lo=1900, hi=2100, integer=True)
        dates = pd.to_datetime(
            pd.DataFrame(
                {
                    "year": np.nan_to_num(y, nan=2000),
                    "month": np.nan_to_num(m, nan=1),
                    "day": np.nan_to_num(d, nan=1),
                }
            ).astype(int),
            errors="coerce",
            utc=True,
        )
        chk.fail(
            dates.isna().to_numpy(),
            "day",
            "impossible date (no such day in that month)",
            rows.frame["day"] + "/" + rows.frame["month"] + "/" + rows.frame["year"],
        )
        secs = to_seconds(dates)
    chk.time_range("timestamp", secs, LASTFM_START, "2002-01-01 (before Last.fm existed)")
    chk.fail(~tag.isin(names.keys()).to_numpy(), "tag_id", "tagID not in tags.dat", tag)
    text = text_checks(chk, tag.map(names), options)
    good = chk.finish()
    # seq offset: tag rows come after the play rows (a second file)
    inter = interactions_frame(rows, good, u, i, "tag", timestamp=secs, seq_offset=10**9)
    ts = inter["timestamp"].to_numpy()
    texts = pd.DataFrame(
        {
            "user_id": inter["user_id"],
            "item_id": inter["item_id"],
            "timestamp": ts,
            "text": text.to_numpy()[good],
            "kind": "tag",
        }
    )
    return inter, scrub(texts, report, options)


def _artists(folder: Path, report: LoadReport) -> pd.DataFrame | None:
    path = find_file(folder, "artists.dat", required=False)
    if path is None:
        return None
    rows = read_delimited(
        path,
        "items",
        report,
        ["item_id", "name", "url", "picture"],
        header=["id", "name", "url", "pictureURL"],
    )
    chk = RowCheck(rows, report)
    ids = chk.ids("item_id")
    good = chk.finish()
    f = rows.frame.iloc[good]
    return pd.DataFrame(
        {
            "item_id": ids.to_numpy()[good],
            "title": f["name"].str.strip().to_numpy(),
            "categories": "",
            "price": np.nan,
            "brand": None,
            "attrs": [
                json.dumps({"url": a, "picture_url": b})
                for a, b in zip(f["url"], f["picture"], strict=True)
            ],
        }
    )


def _friends(folder: Path, report: LoadReport) -> pd.DataFrame | None:
    path = find_file(folder, "user_friends.dat", required=False)
    if path is None:
        return None
    rows = read_delimited(path, "social", report, ["src", "dst"], header=["userID", "friendID"])
    chk = RowCheck(rows, report)
    s, d = chk.ids("src"), chk.ids("dst")
    tie_checks(chk, s, d)
    good = chk.finish()
    return pd.DataFrame(
        {"src": s.to_numpy()[good], "dst": d.to_numpy()[good], "kind": "friend", "weight": 1.0}
    )


@register_loader("lastfm-hetrec")
def load_lastfm(path: Path | None, options: dict[str, str], report: LoadReport) -> Dataset:
    """Load the HetRec 2011 Last.fm folder (plays, tags as texts, artists, friendships)."""
    assert path is not None
    folder = path if path.is_dir() else path.parent
    plays = _plays(folder, report)
    tag_inter, texts = _tag_events(folder, options, report)
    social = _friends(folder, report)
    if social is not None:
        report.cleaning["social_undirected_pairs"] = undirected_pairs(social)
    items = _artists(folder, report)
    if items is not None:
        known = set(items["item_id"])
        unknown = {i for i in tag_inter["item_id"].unique() if i not in known}
        if unknown:
            report.notes.append(
                f"{len(unknown):,} tagged artists are not in artists.dat (kept, without a name)"
            )
    return Dataset(
        interactions=pd.concat([plays, tag_inter], ignore_index=True),
        texts=texts,
        items=or_empty("items", items),
        social=or_empty("social", social),
        name="lastfm-hetrec",
        meta={"loader": "lastfm-hetrec", "source": str(folder), "untimed_events": ["play"]},
    )
