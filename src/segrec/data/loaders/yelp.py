"""``yelp-csv:PATH``: the widely used 10k-review Yelp sample (``yelp.csv``).

Columns ``business_id,date,review_id,stars,text,type,user_id,cool,useful,funny`` (any order;
RFC-4180 quoting, review texts may span lines). Each row becomes an interaction
(``event="review"``, ``rating=stars`` in 1-5, timestamp = the date at UTC midnight) and a text
of kind ``review``. Rows whose ``type`` is not ``review`` are rejected. The vote columns
(``cool``, ``useful``, ``funny``) are validated as counts but not stored; a note says so.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from segrec.data._dataset import Dataset
from segrec.data._quarantine import LoadReport
from segrec.data._registry import register_loader
from segrec.data.loaders._common import (
    RowCheck,
    finish_texts,
    interactions_frame,
    read_delimited,
    to_seconds,
)
from segrec.diagnostics import UsageError

__all__ = ["YELP_COLUMNS", "load_yelp_csv"]

RATING_SCALE = (1.0, 5.0)
YELP_COLUMNS = [
    "business_id",
    "date",
    "review_id",
    "stars",
    "text",
    "type",
    "user_id",
    "cool",
    "useful",
    "funny",
]


@register_loader("yelp-csv")
def load_yelp_csv(path: Path | None, options: dict[str, str], report: LoadReport) -> Dataset:
    """Load the Yelp 10k-review CSV (a file, or a folder holding exactly one ``*.csv``)."""
    assert path is not None
    if path.is_dir():
        cands = sorted(path.glob("*.csv"))
        if len(cands) != 1:
            raise UsageError(
                f"yelp-csv:{path}: expected one .csv file in the folder, found {len(cands)}; "
                "name the file in the spec"
            )
        path = cands[0]
    rows = read_delimited(
        path, "interactions", report, YELP_COLUMNS, ",", header=YELP_COLUMNS, quoted=True
    )
    chk = RowCheck(rows, report)
    f = rows.frame
    u, i = chk.ids("user_id"), chk.ids("business_id")
    chk.ids("review_id")
    stars = chk.rating("stars", scale=RATING_SCALE)
    chk.fail(
        (f["type"].str.strip() != "review").to_numpy(), "type", "type is not 'review'", f["type"]
    )
    dates = pd.to_datetime(f["date"].str.strip(), format="%Y-%m-%d", errors="coerce", utc=True)
    chk.fail(dates.isna().to_numpy(), "date", "date is not YYYY-MM-DD", f["date"])
    secs = to_seconds(dates)
    chk.time_range("date", secs)
    for col in ("cool", "useful", "funny"):
        chk.number(col, lo=0, integer=True)
    dup = (~chk.bad) & f["review_id"].str.strip().duplicated().to_numpy()
    chk.fail(dup, "review_id", "duplicate review_id")
    good = chk.finish()
    inter = interactions_frame(rows, good, u, i, "review", timestamp=secs, rating=stars)
    ts = inter["timestamp"].to_numpy()
    report.notes.append(f"{path.name}: vote columns cool/useful/funny not stored")
    # Texts are checked apart: an empty text loses the text, not the rating.
    frame = pd.DataFrame(
        {
            "user_id": inter["user_id"],
            "item_id": inter["item_id"],
            "timestamp": ts,
            "text": f["text"].to_numpy()[good],
            "kind": "review",
        }
    )
    texts = finish_texts(frame, rows, good, report, options)
    return Dataset(
        interactions=inter,
        texts=texts,
        name="yelp",
        meta={"loader": "yelp-csv", "source": str(path)},
    )
