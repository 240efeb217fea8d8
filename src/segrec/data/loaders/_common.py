"""Shared reading and row validation for the loaders.

Every loader follows one pattern: read the file into :class:`Rows` (fields as strings or parsed
JSON values, each row with its 1-based line number and raw text), validate whole columns at once
with a :class:`RowCheck` (masks, not per-row Python), and call :meth:`RowCheck.finish`, which
writes each bad row to the quarantine with its line, field, value and reason and counts the
good ones as accepted. So ``read == accepted + rejected`` holds per table by construction.

Decisions that apply to every loader:

* **Invalid bytes** (a line that is not valid UTF-8, or the file's stated encoding) reject the
  whole row with the reason ``invalid utf-8 bytes at offset N``; nothing is silently replaced.
* **Blank lines** (empty or whitespace only) are not rows and are not counted.
* **Control characters** (C0/C1 except tab and newline, plus DEL) are stripped from texts and
  counted in ``report.cleaning["control_chars_removed"]``.
* **Empty texts** and texts longer than :data:`MAX_TEXT_CHARS` characters (spec option
  ``max_text_chars``) are rejected from the ``texts`` table (the interaction they came with is
  kept).
* **Timestamps** must be whole seconds between 1970-01-01 and one day after now (UTC).
* **Ratings** must lie on the source's declared scale (MovieLens 100k 1-5, ml-latest 0.5-5,
  Amazon 1-5, FilmTrust 0.5-4, Yelp 1-5, ``rating_range`` in a generic mapping); others are
  rejected with the reason ``rating below LO`` or ``rating above HI`` (the field's own name
  where it has one, e.g. ``stars above 5``).
* **Ties** (the ``social`` table): a user tied to themself and a tie listed twice (same
  ``src``, ``dst`` and kind; the first is kept) are rejected. A friendship listed from both
  ends (``a b`` and ``b a``) is not a duplicate: that is how undirected ties are written.
"""

from __future__ import annotations

import re
import time
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from segrec.data._dataset import empty_table
from segrec.data._pii import scrub_pii
from segrec.data._quarantine import LoadReport
from segrec.data.loaders._read import Rows, find_file, read_bytes, read_delimited, read_jsonl
from segrec.diagnostics import UsageError

__all__ = [
    "MAX_TEXT_CHARS",
    "RowCheck",
    "Rows",
    "clean_texts",
    "find_file",
    "finish_texts",
    "is_absent",
    "or_empty",
    "read_bytes",
    "read_delimited",
    "read_jsonl",
    "scrub",
    "text_checks",
    "text_limit",
    "tie_checks",
    "to_seconds",
    "ts_max",
]

MAX_TEXT_CHARS = 100_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def ts_max() -> int:
    """Latest acceptable timestamp: one day after now (clock skew, time zones)."""
    return int(time.time()) + 86_400


def is_absent(v: Any) -> bool:
    """None, NaN (how pandas may hold a missing JSON key) or an empty string."""
    return v is None or v == "" or (isinstance(v, float) and v != v)


def _all_str(s: pd.Series) -> bool:
    # infer_dtype calls [str, NaN] "string" even with skipna=False, hence the isna check
    return len(s) > 0 and pd.api.types.infer_dtype(s) == "string" and not s.isna().any()


class RowCheck:
    """Vectorised validation of :class:`Rows`; the first failing check names a row's reason."""

    def __init__(self, rows: Rows, report: LoadReport) -> None:
        self.rows = rows
        self.report = report
        n = len(rows)
        self.bad = np.zeros(n, dtype=bool)
        self._why: dict[int, tuple[str, str, Any]] = {}

    def fail(
        self, mask: np.ndarray, field: str | np.ndarray, reason: str, values: Any = None
    ) -> None:
        """Mark rows in ``mask`` bad (rows already bad keep their first reason). ``field`` is
        one name, or one per row where rows come from different source fields."""
        new = np.flatnonzero(np.asarray(mask, dtype=bool) & ~self.bad)
        vals = None if values is None else np.asarray(values, dtype=object)
        for k in new:
            name = field if isinstance(field, str) else str(field[k])
            self._why[int(k)] = (name, reason, None if vals is None else vals[k])
        self.bad[new] = True

    def ids(self, col: str, values: pd.Series | None = None) -> pd.Series:
        """Non-empty string ids (whitespace stripped); ints and strings accepted."""
        s = self.rows.frame[col] if values is None else values
        if _all_str(s):  # delimited files: a vectorised path
            out = s.str.strip()
            self.fail((out == "").to_numpy(bool), col, f"{col} is missing or empty", s)
            ctrl = out.str.contains(_CONTROL.pattern, regex=True).to_numpy(bool)
            self.fail(ctrl, col, f"{col} contains control characters", s)
            return out
        ok_type = s.map(
            lambda v: (
                is_absent(v)
                or isinstance(v, str)
                or (isinstance(v, int) and not isinstance(v, bool))
            )
        )
        out = s.map(lambda v: str(v).strip() if isinstance(v, (str, int)) else "")
        self.fail(~ok_type.to_numpy(bool), col, f"{col} is not a string or integer", s)
        self.fail((out == "").to_numpy(), col, f"{col} is missing or empty", s)
        ctrl = out.str.contains(_CONTROL.pattern, regex=True).to_numpy(bool)
        self.fail(ctrl, col, f"{col} contains control characters", s)
        return out

    def number(
        self,
        col: str,
        values: pd.Series | None = None,
        *,
        lo: float | None = None,
        hi: float | None = None,
        integer: bool = False,
        json_typed: bool = False,
        required: bool = True,
    ) -> np.ndarray:
        """Finite numbers in ``[lo, hi]``; with ``json_typed`` strings and booleans are wrong types."""
        s = self.rows.frame[col] if values is None else values
        if json_typed:
            wrong = s.map(
                lambda v: (
                    not is_absent(v) and (isinstance(v, bool) or not isinstance(v, (int, float)))
                )
            )
            self.fail(wrong.to_numpy(bool), col, f"{col} is not a number", s)
            s = s.where(~wrong, None)
            absent = s.map(is_absent).to_numpy(bool)
        elif _all_str(s):
            s = s.str.strip()
            absent = (s == "").to_numpy(bool)
        else:
            s = s.map(lambda v: v.strip() if isinstance(v, str) else v)
            absent = s.map(is_absent).to_numpy(bool)
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        if required:
            self.fail(absent, col, f"{col} is missing", s)
        self.fail(np.isnan(x) & ~absent, col, f"{col} is not a number", s)
        self.fail(np.isinf(x), col, f"{col} is not a finite number", s)
        fin = np.isfinite(x)
        if integer:
            self.fail(fin & (np.floor(x) != x), col, f"{col} is not a whole number", s)
        if lo is not None:
            self.fail(fin & (x < lo), col, f"{col} below {lo:g}", s)
        if hi is not None:
            self.fail(fin & (x > hi), col, f"{col} above {hi:g}", s)
        return x

    def rating(
        self,
        col: str,
        values: pd.Series | None = None,
        *,
        scale: tuple[float, float] | None,
        json_typed: bool = False,
        required: bool = True,
    ) -> np.ndarray:
        """Ratings on the declared ``scale`` (lo, hi); None accepts any finite number."""
        lo, hi = scale if scale is not None else (None, None)
        return self.number(col, values, lo=lo, hi=hi, json_typed=json_typed, required=required)

    def timestamp(self, col: str, values: Any = None, *, json_typed: bool = False) -> np.ndarray:
        """Unix seconds in ``[1970-01-01, now + 1 day]``."""
        x = self.number(col, values, integer=True, json_typed=json_typed)
        self.time_range(col, x)
        return np.where(np.isfinite(x), x, 0).astype(np.int64)

    def time_range(self, col: str, x: np.ndarray, lo: int = 0, lo_name: str = "1970-01-01") -> None:
        fin = np.isfinite(x)
        self.fail(fin & (x < lo), col, f"impossible timestamp: before {lo_name}", x)
        self.fail(fin & (x > ts_max()), col, "impossible timestamp: in the future", x)

    def finish(self) -> np.ndarray:
        """Quarantine the bad rows, accept the rest; returns the positions of the good rows."""
        r = self.rows
        for k in np.flatnonzero(self.bad):
            field, reason, value = self._why[int(k)]
            self.report.reject(r.table, r.source, int(r.lines[k]), r.raw[k], reason, field, value)
        good = np.flatnonzero(~self.bad)
        self.report.accept(r.table, len(good))
        return good


def tie_checks(
    chk: RowCheck, src: pd.Series, dst: pd.Series, kind: pd.Series | str | None = None
) -> None:
    """Reject self-loops (``src == dst``) and ties listed again with the same ``src``,
    ``dst`` and ``kind`` (the first listing is kept), among rows not already rejected."""
    s = src.astype(str).to_numpy()
    d = dst.astype(str).to_numpy()
    chk.fail((s == d) & ~chk.bad, "dst", "self-loop: a user tied to themself", d)
    k = (
        np.full(len(s), "" if kind is None else kind, dtype=object)
        if kind is None or isinstance(kind, str)
        else kind.astype(str).to_numpy()
    )
    key = pd.Series(list(zip(s, d, k, strict=True)), dtype=object)
    ok = ~chk.bad
    dup = np.zeros(len(s), dtype=bool)
    dup[ok] = key[ok].duplicated().to_numpy()
    chk.fail(dup, "dst", "duplicate tie: same src, dst and kind as an earlier row", d)


def interactions_frame(
    rows: Rows,
    good: np.ndarray,
    user: pd.Series,
    item: pd.Series,
    event: str,
    *,
    timestamp: np.ndarray | None = None,
    rating: np.ndarray | float = np.nan,
    weight: np.ndarray | float = 1.0,
    seq_offset: int = 0,
) -> pd.DataFrame:
    """The accepted rows ``good`` of a checked file as an interactions table.

    Column arguments are full-length (one value per row read) or scalars; ``timestamp=None``
    means the source has no time (0, see ``meta["untimed_events"]``); ``seq`` is the source
    line number plus ``seq_offset`` (a second file of the same dataset comes after the first).
    """

    def pick(v: np.ndarray | float) -> np.ndarray | float:
        return np.asarray(v)[good] if isinstance(v, np.ndarray | pd.Series) else v

    return pd.DataFrame(
        {
            "user_id": user.to_numpy()[good],
            "item_id": item.to_numpy()[good],
            "timestamp": (
                np.zeros(len(good), np.int64)
                if timestamp is None
                else np.asarray(timestamp)[good].astype(np.int64)
            ),
            "event": event,
            "rating": pick(rating),
            "weight": pick(weight),
            "amount": np.nan,
            "seq": np.asarray(rows.lines, dtype=np.int64)[good] + seq_offset,
        }
    )


def or_empty(table: str, df: pd.DataFrame | None) -> pd.DataFrame:
    """``df``, or an empty frame of ``table``'s columns when the file was absent."""
    return empty_table(table) if df is None else df


def to_seconds(dates: pd.Series) -> np.ndarray:
    """tz-aware datetimes -> float unix seconds (NaN for NaT), whatever the time resolution."""
    d = pd.to_datetime(dates, utc=True)
    secs = (d - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return np.floor(secs.to_numpy(dtype=float, na_value=np.nan))


def clean_texts(texts: pd.Series) -> tuple[pd.Series, int]:
    """NFC-normalise, strip control characters and surrounding space; returns (texts, removed)."""
    s = texts.astype(object).map(lambda v: v if isinstance(v, str) else "")
    n_ctrl = int(s.str.count(_CONTROL.pattern).sum()) if len(s) else 0
    if n_ctrl:
        s = s.str.replace(_CONTROL.pattern, "", regex=True)
    s = s.map(lambda v: unicodedata.normalize("NFC", v).strip())
    return s, n_ctrl


def text_limit(options: dict[str, str]) -> int:
    """The longest text kept: spec option ``max_text_chars`` or :data:`MAX_TEXT_CHARS`."""
    raw = options.get("max_text_chars", str(MAX_TEXT_CHARS))
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if limit < 1:
        raise UsageError(f"option max_text_chars={raw!r}: expected a positive integer, e.g. 100000")
    return limit


def text_checks(
    chk: RowCheck, raw_text: pd.Series, options: dict[str, str], field: str | np.ndarray = "text"
) -> pd.Series:
    """Reject non-string, empty and too long texts in ``chk``; returns the cleaned texts.
    ``field``: the source field named in the quarantine (one, or one per row)."""
    wrong = raw_text.map(lambda v: v is not None and not isinstance(v, str)).to_numpy(bool)
    chk.fail(wrong, field, "text is not a string", raw_text)
    text, n_ctrl = clean_texts(raw_text)
    chk.fail((text == "").to_numpy(), field, "empty text")
    lens = text.str.len().to_numpy()
    limit = text_limit(options)
    chk.fail(lens > limit, field, f"text longer than {limit:,} characters", lens)
    rep = chk.report.cleaning
    rep["control_chars_removed"] = rep.get("control_chars_removed", 0) + n_ctrl
    return text


def scrub(texts: pd.DataFrame, report: LoadReport, options: dict[str, str]) -> pd.DataFrame:
    """PII-scrub ``texts["text"]`` unless ``options["pii"]`` is off; counts into the report."""
    if options.get("pii", "on").lower() in ("off", "false", "0", "no"):
        report.cleaning["pii"] = "off"
        return texts
    scrubbed, counts = scrub_pii(texts["text"])
    texts = texts.assign(text=scrubbed.to_numpy())
    pii = report.cleaning.setdefault("pii", dict.fromkeys(counts, 0))
    for k, v in counts.items():
        pii[k] = pii.get(k, 0) + v
    return texts


def finish_texts(
    frame: pd.DataFrame,
    rows: Rows,
    positions: np.ndarray,
    report: LoadReport,
    options: dict[str, str],
    field: str | np.ndarray = "text",
) -> pd.DataFrame:
    """Validate, clean and PII-scrub text rows derived from ``rows`` (table ``texts``).

    ``positions`` maps each text to the source row it came from (for line numbers and raw);
    ``field`` names the source field of each text in the quarantine (see :func:`text_checks`).
    """
    if not len(frame):
        return empty_table("texts")
    tr = Rows(
        "texts",
        rows.source,
        frame.reset_index(drop=True),
        rows.lines[positions],
        [rows.raw[p] for p in positions],
    )
    chk = RowCheck(tr, report)
    text = text_checks(chk, tr.frame["text"], options, field)
    good = chk.finish()
    out = tr.frame.iloc[good].assign(text=text.iloc[good].to_numpy())
    return scrub(out.reset_index(drop=True), report, options)
