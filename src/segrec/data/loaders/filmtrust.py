"""``filmtrust:PATH``: FilmTrust ``ratings.txt`` (user item rating) + ``trust.txt`` (directed).

Both files are space-separated without a header. FilmTrust has no timestamps: ratings get
``timestamp=0`` and ``meta["untimed_events"]`` says so, so temporal splits are not meaningful
(use leave-one-out or random protocols). Trust links become ``social`` rows of kind ``trust``
with their stated weight; a user who trusts themself and a trust listed twice are rejected.
"""

from __future__ import annotations

from pathlib import Path

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
    tie_checks,
)

__all__ = ["load_filmtrust"]

RATING_SCALE = (0.5, 4.0)  # half stars; the published file has nothing above 4


@register_loader("filmtrust")
def load_filmtrust(path: Path | None, options: dict[str, str], report: LoadReport) -> Dataset:
    """Load FilmTrust from its folder (or its ``ratings.txt``)."""
    assert path is not None
    folder = path if path.is_dir() else path.parent
    rfile = path if path.is_file() else find_file(folder, "ratings.txt")
    assert rfile is not None
    rows = read_delimited(rfile, "interactions", report, ["user_id", "item_id", "rating"], None)
    chk = RowCheck(rows, report)
    u = chk.ids("user_id")
    i = chk.ids("item_id")
    r = chk.rating("rating", scale=RATING_SCALE)
    good = chk.finish()
    inter = interactions_frame(rows, good, u, i, "rating", rating=r)
    social = None
    tfile = find_file(folder, options.get("trust", "trust.txt"), required=False)
    if tfile is not None:
        rows = read_delimited(tfile, "social", report, ["src", "dst", "weight"], None)
        chk = RowCheck(rows, report)
        s = chk.ids("src")
        d = chk.ids("dst")
        w = chk.number("weight", lo=0.0)
        tie_checks(chk, s, d)
        good = chk.finish()
        social = pd.DataFrame(
            {
                "src": s.to_numpy()[good],
                "dst": d.to_numpy()[good],
                "kind": "trust",
                "weight": w[good],
            }
        )
    else:
        report.notes.append(f"{folder}: no trust.txt; loaded ratings only")
    return Dataset(
        interactions=inter,
        social=or_empty("social", social),
        name="filmtrust",
        meta={"loader": "filmtrust", "source": str(folder), "untimed_events": ["rating"]},
    )
