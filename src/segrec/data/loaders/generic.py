"""``generic:PATH.toml``: your own CSV / TSV / Parquet / JSON-lines files, mapped by a TOML file.

Each TOML section names one table (``interactions``, ``texts``, ``items``, ``users``,
``social``); ``path`` is relative to the TOML file and its format follows the extension
(``.csv``, ``.tsv``, ``.parquet``, ``.jsonl``/``.ndjson``, optionally ``.gz`` for text formats;
``format = "csv"`` and ``sep = ";"`` override). Every other key maps *our* column to *your*
column::

    [interactions]
    path = "events.csv"          # csv, parquet, jsonl (by extension)
    user_id = "customer"         # column mapping: our name = their column
    item_id = "sku"
    timestamp = "ts"             # unix seconds or ISO-8601 strings
    event = "type"               # optional
    amount = "price_paid"        # optional
    [texts]
    path = "reviews.jsonl"
    user_id = "user"
    text = "body"

Declare the rating scale with ``rating_range = [1, 5]`` in ``[interactions]`` (or the spec
option ``?rating_range=1-5``): ratings off it are quarantined with the reason ``rating above
5`` (or ``below 1``). Without it ratings are only checked to be numbers, and the load report says
so. Ties to oneself and ties listed twice (same ``src``, ``dst`` and kind) are rejected.

Required mappings: interactions ``user_id``, ``item_id``; texts ``user_id``, ``text``; items
``item_id``; users ``user_id``; social ``src``, ``dst``. Optional: interactions ``timestamp``
(without it every row gets 0 and ``meta["untimed_events"]`` says so), ``event``, ``rating``,
``weight``, ``amount``; texts ``item_id``, ``timestamp``, ``kind``; items ``title``,
``categories``, ``price``, ``brand``; social ``kind``, ``weight``. Constants instead of
columns: ``event_value``, ``kind_value``. Extra columns to keep: ``attributes = [...]`` (users:
columns; items: stored as JSON in ``attrs``). Without ``event``/``event_value`` the event is
``rating`` when a rating is mapped, ``purchase`` when an amount is, else ``view``.

A mapping that names a column the file lacks is a :class:`~segrec.diagnostics.UsageError` that
names the file, the TOML key, the missing column and the columns that exist. Parquet rows have
no text lines: their "line" in the quarantine is the 1-based row number.

``generic:FOLDER`` reads a folder written by :meth:`Dataset.to_parquet` (``segrec data synth
--out FOLDER``, or your own export in that layout): ``<table>.parquet`` files whose columns
already have our names, mapped one to one and validated row by row like any other file, plus
the name and metadata in ``meta.json`` and planted segments in ``truth.parquet`` when present.
A shop that ``segrec data synth`` streamed to ``<table>/part-NNNNN.parquet`` files (above
200,000 users) is read back whole with :func:`segrec.data.synthetic.read_streamed`.

``generic:FILE`` (a ``.csv``/``.tsv``/``.parquet``/``.jsonl`` file, not ``.toml``) reads one
file of interactions whose columns already have our names: ``user_id``, ``item_id`` and any of
the optional interaction columns, as if a mapping named each of them. Texts, items, users and
ties need the TOML mapping.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec.data._dataset import Dataset
from segrec.data._quarantine import LoadReport
from segrec.data._registry import register_loader
from segrec.data.loaders._common import (
    RowCheck,
    Rows,
    is_absent,
    or_empty,
    read_bytes,
    read_delimited,
    read_jsonl,
    scrub,
    text_checks,
    tie_checks,
    to_seconds,
)
from segrec.diagnostics import UsageError

__all__ = ["load_generic"]

#: the columns each table of a generic dataset must have (the Spark engine reads the same)
REQUIRED_COLUMNS = {
    "interactions": ("user_id", "item_id"),
    "texts": ("user_id", "text"),
    "items": ("item_id",),
    "users": ("user_id",),
    "social": ("src", "dst"),
}
_OPTIONAL = {
    "interactions": ("timestamp", "event", "rating", "weight", "amount"),
    "texts": ("item_id", "timestamp", "kind"),
    "items": ("title", "categories", "price", "brand", "attrs"),
    "users": (),
    "social": ("kind", "weight"),
}
_SETTINGS = {"path", "format", "sep", "event_value", "kind_value", "attributes", "rating_range"}


def _fmt(path: Path, conf: dict[str, Any]) -> str:
    if "format" in conf:
        return str(conf["format"]).lower()
    name = path.name.lower().removesuffix(".gz")
    for ext, fmt in (
        (".csv", "csv"),
        (".tsv", "tsv"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
    ):
        if name.endswith(ext):
            return fmt
    raise UsageError(
        f"{path}: unknown file type; use .csv, .tsv, .parquet or .jsonl, or set format = ..."
    )


def _mapping(toml: Path, table: str, conf: dict[str, Any]) -> dict[str, str]:
    allowed = set(REQUIRED_COLUMNS[table]) | set(_OPTIONAL[table]) | _SETTINGS
    unknown = sorted(set(conf) - allowed)
    if unknown:
        raise UsageError(
            f"{toml}: [{table}] has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    if "path" not in conf:
        raise UsageError(f'{toml}: [{table}] needs path = "<file>"')
    missing = [k for k in REQUIRED_COLUMNS[table] if k not in conf]
    if missing:
        raise UsageError(
            f'{toml}: [{table}] needs the column mapping(s) {", ".join(missing)} = "<column>"'
        )
    mapping = {k: str(v) for k, v in conf.items() if k not in _SETTINGS}
    for a in conf.get("attributes", []):
        mapping[f"attr:{a}"] = str(a)
    return mapping


def _check_columns(
    toml: Path, table: str, file: Path, mapping: dict[str, str], have: list[str]
) -> None:
    for ours, theirs in mapping.items():
        if theirs not in have:
            key = "attributes" if ours.startswith("attr:") else ours
            raise UsageError(
                f"{toml}: [{table}] {key} = \"{theirs}\": {file.name} has no column '{theirs}'; "
                f"its columns are {', '.join(have) or '(none)'}"
            )


def _read(toml: Path, table: str, conf: dict[str, Any], report: LoadReport) -> tuple[Rows, bool]:
    """Rows with our column names; the flag says values keep JSON/Parquet types."""
    mapping = _mapping(toml, table, conf)
    file = (toml.parent / str(conf["path"])).expanduser()
    if not file.is_file():
        raise UsageError(
            f'{toml}: [{table}] path = "{conf["path"]}": {file} does not exist; check the path'
        )
    fmt = _fmt(file, conf)
    ours, theirs = list(mapping), list(mapping.values())
    if fmt in ("csv", "tsv"):
        sep = str(conf.get("sep", "," if fmt == "csv" else "\t"))
        _check_columns(toml, table, file, mapping, _header(file, fmt, sep))
        return read_delimited(file, table, report, ours, sep, header=theirs, quoted=True), False
    if fmt == "jsonl":
        rows = read_jsonl(file, table, report, json.loads)
        have = sorted({k for o in rows.frame["obj"] for k in o}) if len(rows) else []
        _check_columns(toml, table, file, mapping, have)
        frame = pd.DataFrame(
            {o: rows.frame["obj"].map(lambda d, t=t: d.get(t)) for o, t in mapping.items()},
            dtype=object,
        )
        return Rows(table, rows.source, frame, rows.lines, rows.raw), True
    if fmt == "parquet":
        df = pd.read_parquet(file)
        _check_columns(toml, table, file, mapping, [str(c) for c in df.columns])
        frame = pd.DataFrame(
            {o: df[t].astype(object).where(df[t].notna(), None) for o, t in mapping.items()}
        )
        raw = [json.dumps(r, default=str) for r in df[theirs].to_dict("records")]
        return Rows(table, file.name, frame, np.arange(1, len(df) + 1), raw), True
    raise UsageError(f'{toml}: [{table}] format = "{fmt}"; use csv, tsv, parquet or jsonl')


def _timestamps(chk: RowCheck, values: pd.Series) -> np.ndarray:
    """Unix seconds (numbers) or ISO-8601 strings -> int seconds; bad ones rejected."""
    num = pd.to_numeric(
        values.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce"
    )
    x = num.to_numpy(dtype=float, copy=True)
    text = values.map(lambda v: isinstance(v, str) and v.strip() != "").to_numpy(bool) & np.isnan(x)
    if text.any():
        iso = pd.to_datetime(values[text].str.strip(), errors="coerce", utc=True, format="ISO8601")
        x[text] = to_seconds(iso)
    absent = values.map(is_absent).to_numpy(bool)
    chk.fail(absent, "timestamp", "timestamp is missing", values)
    chk.fail(
        ~absent & ~np.isfinite(x), "timestamp", "timestamp is not unix seconds or ISO-8601", values
    )
    chk.time_range("timestamp", x)
    return np.floor(np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)).astype(np.int64)


def _json_objects(chk: RowCheck, values: pd.Series) -> np.ndarray:
    """A column of JSON objects as text (absent -> None); anything else is rejected."""

    def parse(v: Any) -> str | bool | None:
        if is_absent(v) or str(v).strip() == "":
            return None
        try:
            return str(v) if isinstance(json.loads(str(v)), dict) else False
        except ValueError:
            return False

    out = values.map(parse).to_numpy(dtype=object, copy=True)
    bad = np.array([v is False for v in out], dtype=bool)
    chk.fail(bad, "attrs", 'attrs is not a JSON object such as {"colour": "red"}', values)
    out[bad] = None
    return out


def _rating_range(
    toml: Path, table: str, conf: dict[str, Any], options: dict[str, str]
) -> tuple[float, float] | None:
    """The declared rating scale: ``rating_range = [lo, hi]`` in the mapping, else the spec
    option ``rating_range=lo-hi``; None when neither is given."""
    if "rating_range" in conf and table != "interactions":
        raise UsageError(
            f"{toml}: [{table}] rating_range: ratings live in [interactions]; move it there"
        )
    raw: Any = conf.get("rating_range", options.get("rating_range"))
    if raw is None or table != "interactions":
        return None
    where = (
        f"{toml}: [interactions] rating_range = {raw!r}"
        if "rating_range" in conf
        else f"option rating_range={raw}"
    )
    parts: Any = raw
    if isinstance(raw, str):
        parts = [p for p in re.split(r"\s*(?:\.\.|,|:|(?<=\d)-)\s*", raw.strip()) if p]
    try:
        lo, hi = (float(v) for v in parts)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise UsageError(
            f"{where}: expected the lowest and highest rating, lowest first, "
            "e.g. rating_range = [1, 5] in the TOML file or ?rating_range=1-5 in the spec"
        )
    return lo, hi


def _opt_number(chk: RowCheck, f: pd.DataFrame, col: str, typed: bool, **kw: Any) -> np.ndarray:
    if col not in f:
        return np.full(len(f), np.nan)
    return chk.number(col, required=False, json_typed=typed, **kw)


def _table(
    toml: Path,
    table: str,
    conf: dict[str, Any],
    report: LoadReport,
    options: dict[str, str],
    meta: dict[str, Any],
) -> pd.DataFrame:
    rows, typed = _read(toml, table, conf, report)
    f, chk = rows.frame, RowCheck(rows, report)
    out: dict[str, Any] = {}
    for col in ("user_id", "item_id", "src", "dst"):
        if col in f and not (table == "texts" and col == "item_id"):
            out[col] = chk.ids(col)
    if table == "texts" and "item_id" in f:
        out["item_id"] = f["item_id"].map(
            lambda v: None if is_absent(v) or str(v).strip() == "" else str(v).strip()
        )
    if "timestamp" in f:
        out["timestamp"] = _timestamps(chk, f["timestamp"])
    elif table == "interactions":
        out["timestamp"] = np.zeros(len(f), np.int64)
        meta.setdefault("untimed_events", ["all"])
    scale = _rating_range(toml, table, conf, options)
    if table == "interactions":
        out["rating"] = (
            chk.rating("rating", scale=scale, json_typed=typed, required=False)
            if "rating" in f
            else np.full(len(f), np.nan)
        )
        if "rating" in f and scale is None:
            report.notes.append(
                f"{rows.source}: ratings not checked against a scale; declare it with "
                "rating_range = [1, 5] in [interactions] (or ?rating_range=1-5)"
            )
        out["weight"] = _opt_number(chk, f, "weight", typed, lo=0)
        if "weight" not in f:
            out["weight"] = np.ones(len(f))
        out["amount"] = _opt_number(chk, f, "amount", typed)
        default = conf.get("event_value") or (
            "rating" if "rating" in f else "purchase" if "amount" in f else "view"
        )
        out["event"] = (
            f["event"].map(lambda v: str(v).strip() or default if v is not None else default)
            if "event" in f
            else default
        )
        out["seq"] = rows.lines
    if table == "items":
        for col in ("title", "categories", "brand"):
            out[col] = f[col].map(lambda v: None if is_absent(v) else str(v)) if col in f else None
        out["price"] = _opt_number(chk, f, "price", typed, lo=0)
        attrs = [str(c) for c in f.columns if str(c).startswith("attr:")]
        out["attrs"] = (
            [json.dumps({c[5:]: r[c] for c in attrs}, default=str) for _, r in f.iterrows()]
            if attrs
            else _json_objects(chk, f["attrs"])
            if "attrs" in f
            else None
        )
    if table == "users":
        for c in map(str, f.columns):
            if c.startswith("attr:"):
                out[c[5:]] = f[c].to_numpy()
    if table == "social":
        out["kind"] = f["kind"].map(str) if "kind" in f else conf.get("kind_value", "friend")
        out["weight"] = _opt_number(chk, f, "weight", typed) if "weight" in f else 1.0
        tie_checks(chk, out["src"], out["dst"], out["kind"])
    if table == "texts":
        out["text"] = text_checks(chk, f["text"], options)
        out["kind"] = f["kind"].map(str) if "kind" in f else conf.get("kind_value", "review")
        if "timestamp" not in out:
            out["timestamp"] = np.full(len(f), None, dtype=object)
    good = chk.finish()
    res = pd.DataFrame(
        {
            k: (np.asarray(v, dtype=object)[good] if not np.isscalar(v) and v is not None else v)
            for k, v in out.items()
        },
        index=range(len(good)),
    )
    if table == "texts":
        res["timestamp"] = res["timestamp"].astype("Int64")
        res = scrub(res, report, options)
    return res


@register_loader("generic")
def load_generic(path: Path | None, options: dict[str, str], report: LoadReport) -> Dataset:
    """Load tables described by a TOML mapping file (see the module docstring)."""
    assert path is not None
    if path.is_dir():
        if (path / "interactions.parquet").is_file():
            return _load_folder(path, options, report)
        if (path / "interactions").is_dir() and (path / "meta.json").is_file():
            return _load_streamed(path, report)
        raise UsageError(
            f"generic:{path}: a folder without interactions.parquet; give the TOML mapping file, "
            f"e.g. generic:{path}/segrec.toml, or a folder written by segrec data synth --out"
        )
    if not path.name.lower().endswith(".toml") and _data_format(path) is not None:
        return _load_file(path, options, report)
    try:
        conf = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"generic:{path}: not valid TOML ({exc}); fix the file") from None
    unknown = sorted(set(conf) - set(REQUIRED_COLUMNS))
    if unknown:
        raise UsageError(
            f"{path}: unknown section(s) [{'], ['.join(unknown)}]; use {', '.join(REQUIRED_COLUMNS)}"
        )
    if "interactions" not in conf:
        raise UsageError(f"{path}: needs an [interactions] section with path, user_id and item_id")
    meta: dict[str, Any] = {"loader": "generic", "source": str(path)}
    tables = {t: _table(path, t, c, report, options, meta) for t, c in conf.items()}
    return _dataset(tables, path.stem, meta)


def _data_format(path: Path) -> str | None:
    try:
        return _fmt(path, {})
    except UsageError:
        return None


def _header(file: Path, fmt: str, sep: str) -> list[str]:
    """The column names of ``file`` (the first JSON object's keys for JSON lines)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [str(c) for c in pq.read_schema(file).names]
    first = read_bytes(file).split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    if fmt == "jsonl":
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            return []
        return [str(k) for k in obj] if isinstance(obj, dict) else []
    return [h.strip() for h in next(csv.reader(io.StringIO(first), delimiter=sep), [])]


def _load_file(file: Path, options: dict[str, str], report: LoadReport) -> Dataset:
    """``generic:events.csv``: one file of interactions whose columns already have our names
    (``user_id``, ``item_id``; any of ``timestamp``, ``event``, ``rating``, ``weight``,
    ``amount``), read as if a TOML mapping named each of them."""
    fmt = _data_format(file)
    assert fmt is not None
    sep = options.get("sep", "," if fmt == "csv" else "\t")
    if not file.is_file():
        raise UsageError(f"generic:{file}: does not exist; check the path")
    have = _header(file, fmt, sep)
    missing = [c for c in REQUIRED_COLUMNS["interactions"] if c not in have]
    if missing:
        raise UsageError(
            f"generic:{file}: a single file is read as interactions with columns named "
            f"user_id and item_id (optional: {', '.join(_OPTIONAL['interactions'])}); it lacks "
            f"{', '.join(repr(m) for m in missing)} (its columns: {', '.join(have) or '(none)'})."
            f" Rename the columns, or map them in a TOML file and pass generic:FILE.toml"
        )
    cols = [c for c in (*REQUIRED_COLUMNS["interactions"], *_OPTIONAL["interactions"]) if c in have]
    conf: dict[str, Any] = {"path": file.name, "format": fmt, "sep": sep, **{c: c for c in cols}}
    meta: dict[str, Any] = {"loader": "generic", "source": str(file)}
    tables = {"interactions": _table(file, "interactions", conf, report, options, meta)}
    return _dataset(tables, file.name.split(".")[0], meta)


def _dataset(
    tables: dict[str, pd.DataFrame], name: str, meta: dict[str, Any], truth: Any = None
) -> Dataset:
    return Dataset(
        interactions=tables["interactions"],
        texts=or_empty("texts", tables.get("texts")),
        items=or_empty("items", tables.get("items")),
        users=or_empty("users", tables.get("users")),
        social=or_empty("social", tables.get("social")),
        truth=truth,
        name=name,
        meta=meta,
    )


def _load_folder(folder: Path, options: dict[str, str], report: LoadReport) -> Dataset:
    """A :meth:`Dataset.to_parquet` folder through the same row checks as a mapped file."""
    import pyarrow.parquet as pq

    info: dict[str, Any] = {}
    if (folder / "meta.json").is_file():
        try:
            info = json.loads((folder / "meta.json").read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"{folder / 'meta.json'}: not valid JSON ({exc}); fix or remove it"
            ) from None
    meta: dict[str, Any] = {
        **(info.get("meta") or {}),
        "loader": "generic",
        "source": str(folder),
    }
    tables: dict[str, pd.DataFrame] = {}
    for table in REQUIRED_COLUMNS:
        file = folder / f"{table}.parquet"
        if not file.is_file():
            continue
        have = [str(c) for c in pq.read_schema(file).names]
        missing = [c for c in REQUIRED_COLUMNS[table] if c not in have]
        if missing:
            raise UsageError(
                f"{file}: no column {', '.join(missing)}; a {table} table needs "
                f"{', '.join(REQUIRED_COLUMNS[table])} (its columns are {', '.join(have) or '(none)'})"
            )
        known = (*REQUIRED_COLUMNS[table], *_OPTIONAL[table])
        conf: dict[str, Any] = {"path": file.name, **{c: c for c in known if c in have}}
        if table == "users":
            conf["attributes"] = [c for c in have if c != "user_id"]
        scale = meta.get("rating_scale")
        if table == "interactions" and scale is not None and "rating_range" not in options:
            conf["rating_range"] = list(scale)  # the writer declared it (segrec data synth)
        tables[table] = _table(file, table, conf, report, options, meta)  # no TOML: file named
    truth = None
    if (folder / "truth.parquet").is_file():
        tf = pd.read_parquet(folder / "truth.parquet")
        if {"user_id", "truth"} <= set(tf.columns):
            truth = pd.Series(tf["truth"].to_numpy(), index=tf["user_id"].astype(str))
    return _dataset(tables, str(info.get("name") or folder.name), meta, truth)


def _load_streamed(folder: Path, report: LoadReport) -> Dataset:
    """A shop streamed to part files by ``segrec data synth`` (above 200,000 users): the
    generator's own output, read back whole; every row counts as read and accepted."""
    from segrec.data.synthetic import read_streamed

    ds = read_streamed(folder)
    for table, n in ds.counts().items():
        if table in REQUIRED_COLUMNS:
            report.accept(table, n)
    report.notes.append(f"read a streamed synthetic shop: {ds.summary()}")
    return ds
