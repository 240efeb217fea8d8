"""Accounting for every row read: accepted, or rejected into a quarantine file with a reason.

Loaders call :meth:`LoadReport.accept` / :meth:`LoadReport.reject` per row (or in bulk); the
invariant ``read == accepted + rejected`` holds per table and is checked by
:meth:`LoadReport.check`. Rejected rows are written as JSON lines::

    {"table": "interactions", "source": "u.data", "line": 17, "field": "rating",
     "value": "nan", "reason": "rating is not a finite number", "raw": "196\\t242\\tnan\\t..."}

A rejected row is still somebody's data: ``raw`` and ``value`` are PII-scrubbed like the texts
(emails, phone numbers, URLs and card numbers replaced, see :mod:`segrec.data._pii`) whatever
the loader's ``pii`` option, and the file is created readable by its owner only (mode 0600).
When a quarantine path is given the file is always written, empty when nothing was rejected,
so a script can rely on it.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from segrec.data._pii import scrub_text

__all__ = ["LoadReport", "TableCounts"]

_RAW_LIMIT = 2000  # characters of a raw row kept in the quarantine file


@dataclass
class TableCounts:
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "reasons": dict(self.reasons.most_common()),
        }


class LoadReport:
    """Per-table counts of rows read/accepted/rejected, plus the quarantine file."""

    def __init__(self, quarantine: str | Path | None = None) -> None:
        self.tables: dict[str, TableCounts] = {}
        self.quarantine_path = Path(quarantine) if quarantine is not None else None
        self._fh: IO[str] | None = None
        self._held: list[dict[str, Any]] = []  # kept in memory when no file was given
        self.cleaning: dict[str, Any] = {}
        self.notes: list[str] = []

    def _t(self, table: str) -> TableCounts:
        return self.tables.setdefault(table, TableCounts())

    def accept(self, table: str, n: int = 1) -> None:
        t = self._t(table)
        t.read += n
        t.accepted += n

    def reject(
        self,
        table: str,
        source: str | Path,
        line: int | None,
        raw: Any,
        reason: str,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        t = self._t(table)
        t.read += 1
        t.rejected += 1
        t.reasons[reason] += 1
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="backslashreplace")
        elif not isinstance(raw, str):
            raw = json.dumps(raw, default=str, ensure_ascii=False)
        rec = {
            "table": table,
            "source": str(source),
            "line": line,
            "field": field,
            # scrubbed before the cut, so no half address survives at the end
            "value": None if value is None else scrub_text(str(value))[:200],
            "reason": reason,
            "raw": scrub_text(raw)[:_RAW_LIMIT],
        }
        if self.quarantine_path is None:
            self._held.append(rec)
            return
        # one record per line, whatever the text
        self._file().write(json.dumps(rec, ensure_ascii=True) + "\n")

    def _file(self) -> IO[str]:
        """The quarantine file, opened (truncated) once, readable by the owner only."""
        if self._fh is None:
            assert self.quarantine_path is not None
            path = self.quarantine_path
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
            self._fh = os.fdopen(fd, "w", encoding="utf-8")
        return self._fh

    def unaccept(self, table: str, n: int) -> None:
        """Move ``n`` already-accepted rows to rejected after a later check (no raw kept)."""
        t = self._t(table)
        t.accepted -= n
        t.rejected += n

    @property
    def rejected_rows(self) -> list[dict[str, Any]]:
        """Quarantined rows kept in memory (when no quarantine file was given)."""
        return list(self._held)

    def close(self, complete: bool = True) -> None:
        """Finish the quarantine file: after a ``complete`` load it exists even when empty;
        after a load that failed, only if rows were already rejected into it."""
        if complete and self.quarantine_path is not None:
            self._file()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    # -- totals -----------------------------------------------------------------------------
    @property
    def read(self) -> int:
        return sum(t.read for t in self.tables.values())

    @property
    def accepted(self) -> int:
        return sum(t.accepted for t in self.tables.values())

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.tables.values())

    def check(self) -> None:
        for name, t in self.tables.items():
            if t.read != t.accepted + t.rejected:  # pragma: no cover - a loader bug
                raise AssertionError(
                    f"{name}: read {t.read} != accepted {t.accepted} + rejected {t.rejected}"
                )

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "tables": {n: t.as_dict() for n, t in self.tables.items()},
            "quarantine": str(self.quarantine_path) if self.quarantine_path else None,
            "cleaning": self.cleaning,
            "notes": self.notes,
        }
