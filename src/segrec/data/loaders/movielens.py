"""``movielens:PATH``: MovieLens ml-100k and ml-latest(-small).

The variant is detected from the folder (or the file the spec names): ``u.data`` means ml-100k
(tab-separated ratings, ``u.item`` Latin-1 with 19 genre flags, ``u.user`` demographics);
``ratings.csv`` means ml-latest(-small) (RFC-4180 CSV with CRLF endings, ``movies.csv`` genres,
``tags.csv`` user-written tags stored as texts of kind ``tag``). Ratings become interactions
with ``event="rating"`` and ``weight=1``.
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
)
from segrec.diagnostics import UsageError

__all__ = ["load_movielens"]

_GENRES_100K = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]
RATING_SCALES = {"ml-100k": (1.0, 5.0), "ml-latest": (0.5, 5.0)}  # whole / half stars


def _ratings(rows, report: LoadReport, variant: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    chk = RowCheck(rows, report)
    u = chk.ids("user_id")
    i = chk.ids("item_id")
    r = chk.rating("rating", scale=RATING_SCALES[variant])
    ts = chk.timestamp("timestamp")
    good = chk.finish()
    return interactions_frame(rows, good, u, i, "rating", timestamp=ts, rating=r)


def _load_100k(folder: Path, report: LoadReport) -> Dataset:
    rows = read_delimited(
        folder / "u.data", "interactions", report, ["user_id", "item_id", "rating", "timestamp"]
    )
    inter = _ratings(rows, report, "ml-100k")
    items = None
    if (folder / "u.item").is_file():
        genres = _GENRES_100K
        if (folder / "u.genre").is_file():
            g = [ln.split("|")[0] for ln in (folder / "u.genre").read_text("latin-1").splitlines()]
            genres = [x for x in g if x] or genres
        cols = ["item_id", "title", "release_date", "video_release_date", "imdb_url", *genres]
        rows = read_delimited(folder / "u.item", "items", report, cols, "|", encoding="latin-1")
        chk = RowCheck(rows, report)
        ids = chk.ids("item_id")
        flags = rows.frame[list(genres)]
        bad_flag = ~flags.isin(["0", "1"]).all(axis=1).to_numpy()
        chk.fail(bad_flag, "genres", "genre flags must be 0 or 1")
        good = chk.finish()
        f = rows.frame.iloc[good]
        fl = flags.iloc[good].to_numpy() == "1"
        items = pd.DataFrame(
            {
                "item_id": ids.to_numpy()[good],
                "title": f["title"].str.strip().to_numpy(),
                "categories": ["|".join(np.asarray(genres)[row]) for row in fl],
                "price": np.nan,
                "brand": None,
                "attrs": [
                    json.dumps({"release_date": a, "video_release_date": b, "imdb_url": c})
                    for a, b, c in zip(
                        f["release_date"], f["video_release_date"], f["imdb_url"], strict=True
                    )
                ],
            }
        )
    users = None
    if (folder / "u.user").is_file():
        rows = read_delimited(
            folder / "u.user",
            "users",
            report,
            ["user_id", "age", "gender", "occupation", "zip"],
            "|",
        )
        chk = RowCheck(rows, report)
        ids = chk.ids("user_id")
        age = chk.number("age", lo=0, hi=120, integer=True)
        good = chk.finish()
        f = rows.frame.iloc[good]
        users = pd.DataFrame(
            {
                "user_id": ids.to_numpy()[good],
                "age": age[good],
                "gender": f["gender"].str.strip().to_numpy(),
                "occupation": f["occupation"].str.strip().to_numpy(),
                "zip": f["zip"].str.strip().to_numpy(),
            }
        )
    return Dataset(
        interactions=inter,
        items=or_empty("items", items),
        users=or_empty("users", users),
        name="ml-100k",
        meta={"loader": "movielens", "variant": "ml-100k", "source": str(folder)},
    )


def _load_latest(folder: Path, options: dict[str, str], report: LoadReport) -> Dataset:
    csv_opts = {"sep": ",", "quoted": True}
    rows = read_delimited(
        folder / "ratings.csv",
        "interactions",
        report,
        ["user_id", "item_id", "rating", "timestamp"],
        header=["userId", "movieId", "rating", "timestamp"],
        **csv_opts,  # type: ignore[arg-type]
    )
    inter = _ratings(rows, report, "ml-latest")
    texts = None
    if (folder / "tags.csv").is_file():
        rows = read_delimited(
            folder / "tags.csv",
            "texts",
            report,
            ["user_id", "item_id", "text", "timestamp"],
            header=["userId", "movieId", "tag", "timestamp"],
            **csv_opts,  # type: ignore[arg-type]
        )
        chk = RowCheck(rows, report)
        u = chk.ids("user_id")
        i = chk.ids("item_id")
        ts = chk.timestamp("timestamp")
        text = text_checks(chk, rows.frame["text"], options)
        good = chk.finish()
        frame = pd.DataFrame(
            {
                "user_id": u.to_numpy()[good],
                "item_id": i.to_numpy()[good],
                "timestamp": ts[good],
                "text": text.to_numpy()[good],
                "kind": "tag",
            }
        )
        texts = scrub(frame, report, options)
    items = None
    if (folder / "movies.csv").is_file():
        rows = read_delimited(
            folder / "movies.csv",
            "items",
            report,
            ["item_id", "title", "genres"],
            header=["movieId", "title", "genres"],
            **csv_opts,  # type: ignore[arg-type]
        )
        chk = RowCheck(rows, report)
        ids = chk.ids("item_id")
        good = chk.finish()
        f = rows.frame.iloc[good]
        genres = f["genres"].str.strip().replace("(no genres listed)", "")
        items = pd.DataFrame(
            {
                "item_id": ids.to_numpy()[good],
                "title": f["title"].str.strip().to_numpy(),
                "categories": genres.to_numpy(),
                "price": np.nan,
                "brand": None,
                "attrs": None,
            }
        )
    return Dataset(
        interactions=inter,
        texts=or_empty("texts", texts),
        items=or_empty("items", items),
        name=folder.name,
        meta={"loader": "movielens", "variant": "ml-latest", "source": str(folder)},
    )


@register_loader("movielens")
def load_movielens(path: Path | None, options: dict[str, str], report: LoadReport) -> Dataset:
    """Load ml-100k or ml-latest(-small) from its folder (or from one of its files)."""
    assert path is not None
    folder = path if path.is_dir() else path.parent
    if find_file(folder, "u.data", required=False):
        return _load_100k(folder, report)
    if find_file(folder, "ratings.csv", required=False):
        return _load_latest(folder, options, report)
    if (folder / "ratings.dat").is_file():
        raise UsageError(
            f"{folder}: ml-1m/ml-10m '::' files are not supported; use ml-100k or ml-latest(-small)"
        )
    raise UsageError(
        f"movielens:{path}: found neither u.data (ml-100k) nor ratings.csv (ml-latest); "
        "point the spec at the folder holding one of them"
    )
