"""One progress helper for every long loop.

The library never installs handlers or draws bars by itself; the CLI turns bars on with
:func:`enable_progress_bars`. Without bars, progress is logged at INFO every few seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["Progress", "Stopwatch", "enable_progress_bars", "progress", "stage"]

_log = logging.getLogger("segrec.progress")
_bars_enabled = False
_stage: ContextVar[str | None] = ContextVar("segrec_stage", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Name the part of a long job the bars inside belong to: under ``stage("training
    period")`` an embedding bar reads "training period · embedding (onnx-int8)", so the same
    step run for several periods can be told apart."""
    token = _stage.set(name)
    try:
        yield
    finally:
        _stage.reset(token)


def enable_progress_bars(enabled: bool = True) -> None:
    """Draw rich progress bars (counts and rate) instead of periodic log lines."""
    global _bars_enabled
    _bars_enabled = enabled


@dataclass
class Progress:
    label: str
    total: int | None
    unit: str = "items"
    done: int = 0
    _start: float = field(default_factory=time.perf_counter)
    _last_log: float = field(default_factory=time.perf_counter)
    _bar: object | None = None
    _task: object | None = None

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n)  # type: ignore[attr-defined]
            return
        now = time.perf_counter()
        if now - self._last_log >= 5.0:
            self._last_log = now
            _log.info("%s: %s", self.label, self.summary())

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        tot = f"/{self.total}" if self.total is not None else ""
        return (
            f"{self.done}{tot} {self.unit} in {self.elapsed:.1f}s ({self.rate:.1f} {self.unit}/s)"
        )


@contextmanager
def progress(label: str, total: int | None = None, unit: str = "items") -> Iterator[Progress]:
    """Track a long loop: ``with progress("embedding", n, "texts") as p: ... p.update(k)``."""
    current = _stage.get()
    label = f"{current} · {label}" if current else label
    p = Progress(label, total, unit)
    if _bars_enabled:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichProgress

        bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            transient=False,
        )
        task = bar.add_task(label, total=total, rate="")
        p._bar, p._task = bar, task
        with bar:
            orig = p.update

            def update(n: int = 1) -> None:
                orig(n)
                bar.update(task, rate=f"{p.rate:,.0f} {unit}/s")

            p.update = update  # type: ignore[method-assign]
            yield p
    else:
        yield p
    _log.info("%s done: %s", label, p.summary())


class Stopwatch:
    """Wall-clock timer: ``with Stopwatch() as sw: ...; sw.elapsed``."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.stop: float | None = None

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop = time.perf_counter()

    @property
    def elapsed(self) -> float:
        end = self.stop if self.stop is not None else time.perf_counter()
        return end - self.start
