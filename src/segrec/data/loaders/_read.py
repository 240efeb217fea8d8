"""Reading source files into :class:`Rows`: bytes, lines, delimited fields, JSON lines.

Invalid bytes reject the row they are on (``invalid utf-8 bytes at offset N``); blank lines
are not rows; RFC-4180 quoted fields may span lines, and a quote never closed loses only the
line that opened it.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec.data._quarantine import LoadReport
from segrec.diagnostics import UsageError

__all__ = ["Rows", "find_file", "read_bytes", "read_delimited", "read_jsonl"]


@dataclass
class Rows:
    """Rows of one source file: a frame of raw field values plus line numbers and raw text."""

    table: str
    source: str
    frame: pd.DataFrame
    lines: np.ndarray
    raw: list[str]

    def __len__(self) -> int:
        return len(self.frame)


def read_bytes(path: Path) -> bytes:
    """The file's bytes (``.gz`` decompressed); a missing file is a :class:`UsageError`."""
    if not path.is_file():
        raise UsageError(
            f"{path}: no such file; check the path (or the folder it was looked for in)"
        )
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def find_file(folder: Path, *names: str, required: bool = True) -> Path | None:
    """The first of ``names`` that exists in ``folder`` (or ``None`` when not required)."""
    for n in names:
        if (folder / n).is_file():
            return folder / n
    if required:
        raise UsageError(
            f"{folder}: none of {', '.join(names)} found; point the spec at the dataset folder"
        )
    return None


def _lines(
    data: bytes, encoding: str, keep_blank: bool = False
) -> Iterable[tuple[int, str | None, bytes, int]]:
    """(line number, decoded text or None, raw bytes, bad byte offset) for non-blank lines."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    for i, b in enumerate(parts, start=1):
        if b.endswith(b"\r"):
            b = b[:-1]
        if not keep_blank and not b.strip():
            continue
        try:
            yield i, b.decode(encoding), b, -1
        except UnicodeDecodeError as exc:
            yield i, None, b, exc.start


def _bad_bytes(
    report: LoadReport, table: str, source: str, line: int, raw: bytes, off: int, enc: str
) -> None:
    report.reject(table, source, line, raw, f"invalid {enc} bytes at offset {off}", "raw")


def read_delimited(
    path: Path,
    table: str,
    report: LoadReport,
    columns: list[str],
    sep: str | None = "\t",
    *,
    header: list[str] | None = None,
    encoding: str = "utf-8",
    quoted: bool = False,
) -> Rows:
    """Split a delimited file into rows of ``len(columns)`` string fields.

    ``sep=None`` splits on runs of whitespace. ``header`` lists the file's column names for
    ``columns`` (in that order) when the file has a header row; the header may order them
    differently and may hold extra columns. ``quoted`` parses RFC-4180 quoting, where a quoted
    field may span lines (the row's line number is the line it starts on).
    """
    source = path.name
    data = read_bytes(path)
    recs: list[tuple[int, str]] = []
    decoded: list[tuple[int, str]] = []
    for i, text, raw, off in _lines(data, encoding, keep_blank=quoted):
        if text is None:
            _bad_bytes(report, table, source, i, raw, off, encoding)
        else:
            decoded.append((i, text))
    recs = _join_quoted(decoded, table, source, report) if quoted else decoded
    take: list[int] = list(range(len(columns)))
    n_fields = len(columns)
    if header is not None:
        if not recs:
            raise UsageError(f"{path}: the file is empty; expected a header row {','.join(header)}")
        _, head = recs.pop(0)
        names = [h.strip().strip('"') for h in _split(head, sep, quoted)]
        missing = [h for h in header if h not in names]
        if missing:
            raise UsageError(
                f"{path}: header lacks column(s) {', '.join(missing)}; found {', '.join(names)}"
            )
        take = [names.index(h) for h in header]
        n_fields = len(names)
    good: list[list[str]] = []
    lines: list[int] = []
    raws: list[str] = []
    for i, text in recs:
        try:
            fields = _split(text, sep, quoted)
        except csv.Error as exc:
            report.reject(table, source, i, text, f"unparseable row: {exc}")
            continue
        if len(fields) != n_fields:
            report.reject(
                table, source, i, text, f"expected {n_fields} fields, found {len(fields)}"
            )
            continue
        good.append([fields[k] for k in take])
        lines.append(i)
        raws.append(text)
    frame = (
        pd.DataFrame(good, columns=columns, dtype=object)
        if good
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )
    return Rows(table, source, frame, np.asarray(lines, dtype=np.int64), raws)


_MAX_SPAN = 200  # physical lines one quoted CSV row may span


def _join_quoted(
    lines: list[tuple[int, str]], table: str, source: str, report: LoadReport
) -> list[tuple[int, str]]:
    """Join lines into RFC-4180 rows (a quoted field may hold newlines); drop blank lines.

    A quote left open for :data:`_MAX_SPAN` lines or until the end of the file rejects only the
    line that opened it; reading resumes on the next line, so one stray quote loses one row.
    """
    recs: list[tuple[int, str]] = []
    k, n = 0, len(lines)
    while k < n:
        i, text = lines[k]
        k += 1
        if not text.strip():
            continue
        if text.count('"') % 2 == 0:
            recs.append((i, text))
            continue
        parts, j, closed = [text], k, False
        while j < n and j - k < _MAX_SPAN:
            parts.append(lines[j][1])
            j += 1
            if lines[j - 1][1].count('"') % 2:
                closed = True
                break
        if closed:
            recs.append((i, "\n".join(parts)))
            k = j
        else:
            report.reject(table, source, i, text, "unbalanced quote (opened and never closed)")
    return recs


def _split(text: str, sep: str | None, quoted: bool) -> list[str]:
    if sep is None:
        return text.split()
    if quoted and '"' in text:
        return next(csv.reader([text], delimiter=sep, strict=True))
    return text.split(sep)


def read_jsonl(path: Path, table: str, report: LoadReport, parse: Callable[[str], Any]) -> Rows:
    """JSON lines -> rows whose ``frame`` has one column ``obj`` (the parsed dicts)."""
    source = path.name
    objs: list[Any] = []
    lines: list[int] = []
    raws: list[str] = []
    for i, text, raw, off in _lines(read_bytes(path), "utf-8"):
        if text is None:
            _bad_bytes(report, table, source, i, raw, off, "utf-8")
            continue
        try:
            obj = parse(text)
        except (ValueError, SyntaxError, RecursionError, MemoryError) as exc:
            report.reject(table, source, i, text, f"broken JSON: {str(exc)[:80]}")
            continue
        if not isinstance(obj, dict):
            report.reject(
                table, source, i, text, f"expected a JSON object, got {type(obj).__name__}"
            )
            continue
        objs.append(obj)
        lines.append(i)
        raws.append(text)
    return Rows(
        table, source, pd.DataFrame({"obj": objs}, dtype=object), np.asarray(lines, np.int64), raws
    )
