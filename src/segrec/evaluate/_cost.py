"""What each evaluated method cost: seconds per phase and the process's peak memory.

``results.json`` keeps one ``cost`` entry per method (``methods.<name>.cost``), and the report
shows it in a column, so a user sees what each row cost before running it again at a larger
size. Memory is the resident set size of the whole process, sampled every 0.1 s by a thread
(reading ``/proc/self/statm``; a spike shorter than that can be missed): ``peak_mb`` is the
highest while the method ran, ``extra_mb`` that peak above the size when it started. Where
``/proc`` is absent (not Linux) both are None.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["CostMeter", "rss_mb"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_INTERVAL = 0.1


def rss_mb() -> float | None:
    """Resident set size of this process in MB (None where ``/proc`` is not available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 1e6
    except (OSError, ValueError, IndexError):
        return None


class CostMeter:
    """Seconds per phase and peak memory of one method.

    >>> m = CostMeter()
    >>> with m.running():
    ...     with m.phase("fit"):
    ...         pass
    >>> sorted(m.as_dict())[:2]
    ['extra_mb', 'fit_seconds']
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start_mb: float | None = None
        self.peak_mb: float | None = None
        self.total = 0.0
        self._stop = threading.Event()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the time spent in the body to phase ``name``."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t

    @contextmanager
    def running(self) -> Iterator[CostMeter]:
        """Measure the whole method: wall time and (sampled) peak memory."""
        self.start_mb = self.peak_mb = rss_mb()
        t = time.perf_counter()
        sampler = None
        if self.start_mb is not None:
            self._stop.clear()
            sampler = threading.Thread(target=self._sample, name="segrec-cost", daemon=True)
            sampler.start()
        try:
            yield self
        finally:
            self.total += time.perf_counter() - t
            if sampler is not None:
                self._stop.set()
                sampler.join(timeout=1.0)
                self._note(rss_mb())

    def _note(self, mb: float | None) -> None:
        if mb is not None and (self.peak_mb is None or mb > self.peak_mb):
            self.peak_mb = mb

    def _sample(self) -> None:
        while not self._stop.wait(_INTERVAL):
            self._note(rss_mb())

    def as_dict(self) -> dict[str, Any]:
        """The ``cost`` entry of results.json: ``<phase>_seconds``, ``seconds`` (all phases
        and what lies between them), ``peak_mb`` and ``extra_mb``."""
        out: dict[str, Any] = {f"{k}_seconds": round(v, 2) for k, v in self.seconds.items()}
        out["seconds"] = round(self.total, 2)
        out["peak_mb"] = None if self.peak_mb is None else round(self.peak_mb, 1)
        out["extra_mb"] = (
            None
            if self.peak_mb is None or self.start_mb is None
            else round(max(self.peak_mb - self.start_mb, 0.0), 1)
        )
        return out
