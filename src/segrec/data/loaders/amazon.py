"""``amazon:PATH``: Amazon review JSON lines (2014 and 2018 schemas), plain or ``.gz``.

``PATH`` is a review file, or a folder holding one review file (``reviews_*.json[.gz]``,
``*_5.json[.gz]`` or any ``*.json``/``*.jsonl`` that is not ``meta_*``) and optionally a
``meta_*`` item file. Options name files explicitly:
``amazon:reviews.json.gz?meta=meta.json.gz`` (a relative meta path is looked up next to the
reviews).

Each review becomes one interaction (``event="review"``, ``rating=overall``, timestamp from
``unixReviewTime`` or else ``reviewTime``) and up to two texts with the same timestamp: kind
``review`` (``reviewText``) and kind ``summary`` (``summary``). ``reviewerName`` (PII),
``helpful``/``vote``, ``style``, ``verified`` and ``image`` are not stored; the report notes how
many reviews carried each. The 2018 dumps repeat one review under every variant of a product:
a review with the same reviewer, time and non-empty text as an earlier one is rejected as
``duplicate review (same reviewer, time and text, another product variant)``.

Item metadata (``title``, ``categories``/``category``, ``price``, ``brand``; other keys go to
``attrs``) may be strict JSON or the Python-literal lines of the 2014 dumps; HTML escapes such
as ``&amp;`` are undone.
"""

from __future__ import annotations

import ast
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec.data._dataset import Dataset
from segrec.data._quarantine import LoadReport
from segrec.data._registry import register_loader
from segrec.data.loaders._common import (
    RowCheck,
    finish_texts,
    interactions_frame,
    or_empty,
    read_jsonl,
)
from segrec.diagnostics import UsageError

__all__ = ["load_amazon"]

RATING_SCALE = (1.0, 5.0)
DUPLICATE_REASON = "duplicate review (same reviewer, time and text, another product variant)"
_UNSTORED = ("reviewerName", "helpful", "vote", "style", "verified", "image")
_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        if text.lstrip().startswith("{'"):  # the 2014 metadata dumps are Python literals
            return ast.literal_eval(text)
        raise


def _is_json(p: Path) -> bool:
    return p.is_file() and p.name.lower().endswith(_SUFFIXES)


def _files(path: Path, options: dict[str, str]) -> tuple[Path, Path | None]:
    folder = path if path.is_dir() else path.parent
    meta = None
    if "meta" in options:
        meta = Path(options["meta"]).expanduser()
        meta = meta if meta.is_absolute() or meta.exists() else folder / meta
        if not meta.is_file():
            raise UsageError(f"amazon: meta={options['meta']}: no such file; check the path")
    if path.is_file():
        return path, meta
    cands = sorted(p for p in folder.iterdir() if _is_json(p) and not p.name.startswith("meta"))
    if "reviews" in options:
        cands = [folder / options["reviews"]]
    if len(cands) != 1:
        found = ", ".join(p.name for p in cands) or "no .json/.json.gz/.jsonl files"
        raise UsageError(
            f"amazon:{path}: expected one review file in the folder, found {found}; "
            "name it in the spec, e.g. amazon:folder/reviews.json.gz"
        )
    if meta is None:
        metas = sorted(p for p in folder.iterdir() if _is_json(p) and p.name.startswith("meta"))
        meta = metas[0] if metas else None
    return cands[0], meta


def _review_time(objs: pd.Series) -> pd.Series:
    """``unixReviewTime``, falling back to ``reviewTime`` ("MM DD, YYYY") when absent."""

    def one(o: dict[str, Any]) -> Any:
        if "unixReviewTime" in o:
            return o["unixReviewTime"]
        rt = o.get("reviewTime")
        if isinstance(rt, str):
            try:
                return int(
                    datetime.strptime(rt.strip(), "%m %d, %Y").replace(tzinfo=UTC).timestamp()
                )
            except ValueError:
                return rt  # rejected below as "not a number"
        return None

    return objs.map(one)


def _reviews(
    path: Path, options: dict[str, str], report: LoadReport
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = read_jsonl(path, "interactions", report, _parse)
    objs = rows.frame["obj"]
    get = lambda key: objs.map(lambda o: o.get(key))  # noqa: E731
    chk = RowCheck(rows, report)
    u = chk.ids("reviewerID", get("reviewerID"))
    i = chk.ids("asin", get("asin"))
    r = chk.rating("overall", get("overall"), scale=RATING_SCALE, json_typed=True)
    ts = chk.timestamp("unixReviewTime", _review_time(objs), json_typed=True)
    text = get("reviewText")
    # Variant duplicates: same reviewer, time and (non-empty) text as an earlier valid review.
    key = pd.Series(
        [
            (a, t, x if isinstance(x, str) and x.strip() else f"\0{b}")
            for a, b, t, x in zip(u, i, ts, text, strict=True)
        ],
        dtype=object,
    )
    dup = np.zeros(len(rows), dtype=bool)
    ok = ~chk.bad
    dup[ok] = key[ok].duplicated().to_numpy()
    chk.fail(dup, "reviewText", DUPLICATE_REASON)
    good = chk.finish()
    for k in _UNSTORED:
        n = int(objs.iloc[good].map(lambda o, k=k: k in o).sum()) if len(good) else 0
        if n:
            report.notes.append(f"{path.name}: '{k}' present in {n:,} reviews, not stored")
    inter = interactions_frame(rows, good, u, i, "review", timestamp=ts, rating=r)
    parts = []
    fields = {"review": "reviewText", "summary": "summary"}
    for kind, col in fields.items():
        parts.append(
            pd.DataFrame(
                {
                    "user_id": inter["user_id"],
                    "item_id": inter["item_id"],
                    "timestamp": inter["timestamp"],
                    "text": get(col).to_numpy()[good],
                    "kind": kind,
                    "_pos": good,
                }
            )
        )
    t = pd.concat(parts, ignore_index=True).sort_values(["_pos", "kind"], kind="stable")
    texts = finish_texts(
        t.drop(columns="_pos"),
        rows,
        t["_pos"].to_numpy(),
        report,
        options,
        field=t["kind"].map(fields).to_numpy(),
    )
    return inter, texts


def _unescape(v: Any) -> Any:
    if isinstance(v, str):
        return html.unescape(v)
    if isinstance(v, list):
        return [_unescape(x) for x in v]
    if isinstance(v, dict):
        return {k: _unescape(x) for k, x in v.items()}
    return v


def _categories(o: dict[str, Any]) -> str:
    cats = o.get("categories", o.get("category"))
    if isinstance(cats, list) and cats and isinstance(cats[0], list):
        cats = max(cats, key=len)  # 2014: several paths; keep the most specific
    if not isinstance(cats, list):
        return ""
    return "|".join(html.unescape(str(c)).strip() for c in cats if str(c).strip())


def _price(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        s = v.strip().lstrip("$").replace(",", "")
        try:
            return float(s)
        except ValueError:
            return np.nan
    return np.nan


def _meta(path: Path, report: LoadReport) -> pd.DataFrame:
    rows = read_jsonl(path, "items", report, _parse)
    objs = rows.frame["obj"]
    chk = RowCheck(rows, report)
    ids = chk.ids("asin", objs.map(lambda o: o.get("asin")))
    price = objs.map(lambda o: _price(o.get("price"))).to_numpy(float)
    chk.fail(np.isinf(price) | (price < 0), "price", "price is negative or infinite", price)
    dup = (~chk.bad) & ids.duplicated().to_numpy()
    chk.fail(dup, "asin", "duplicate item (asin listed twice)")
    good = chk.finish()
    o = objs.iloc[good]
    skip = {"asin", "title", "categories", "category", "price", "brand"}
    return pd.DataFrame(
        {
            "item_id": ids.to_numpy()[good],
            "title": o.map(
                lambda d: (
                    html.unescape(d["title"]).strip() if isinstance(d.get("title"), str) else None
                )
            ).to_numpy(),
            "categories": o.map(_categories).to_numpy(),
            "price": price[good],
            "brand": o.map(
                lambda d: html.unescape(str(d["brand"])).strip() if d.get("brand") else None
            ).to_numpy(),
            "attrs": o.map(
                lambda d: json.dumps(
                    {k: _unescape(v) for k, v in d.items() if k not in skip}, default=str
                )
            ).to_numpy(),
        }
    )


@register_loader("amazon")
def load_amazon(path: Path | None, options: dict[str, str], report: LoadReport) -> Dataset:
    """Load Amazon reviews (2014 or 2018 schema) and optional item metadata."""
    assert path is not None
    reviews, meta = _files(path, options)
    inter, texts = _reviews(reviews, options, report)
    items = _meta(meta, report) if meta is not None else None
    name = reviews.name.split(".")[0]
    return Dataset(
        interactions=inter,
        texts=texts,
        items=or_empty("items", items),
        name=name,
        meta={
            "loader": "amazon",
            "source": str(reviews),
            "meta_source": str(meta) if meta else None,
        },
    )
