"""One progress helper for every long loop.

The library never installs handlers or draws bars by itself; the CLI turns bars on with
:func:`enable_progress_bars` on a terminal, and :func:`enable_progress_lines` when its output
goes to a file or a pipe. Without either, progress is logged at INFO every few seconds.

Plain lines come from a heartbeat: a run that spends 20 minutes inside one evaluation step,
with no loop that counts, still says every ``interval`` seconds which stage it is in and how
long it has been there, so a piped log is never silent for long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from segrec._budget import check_budget

__all__ = [
    "Progress",
    "Stopwatch",
    "enable_progress_bars",
    "enable_progress_lines",
    "format_seconds",
    "progress",
    "stage",
]

_log = logging.getLogger("segrec.progress")
_bars_enabled = False
_stage: ContextVar[str | None] = ContextVar("segrec_stage", default=None)

_DEFAULT_INTERVAL = 5.0
_interval = _DEFAULT_INTERVAL  # seconds between INFO lines of one loop
_lock = threading.Lock()
_active: list[_Stage | Progress] = []  # innermost last; read by the heartbeat thread
_last_line = time.perf_counter()  # when any progress line was last logged
_heartbeat: threading.Thread | None = None
_heartbeat_stop = threading.Event()


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: durations as a person reads them in a log."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass
class _Stage:
    name: str
    _start: float = field(default_factory=time.perf_counter)

    def status(self) -> str:
        return f"{self.name}: working, {format_seconds(time.perf_counter() - self._start)} so far"


def _push(item: _Stage | Progress) -> None:
    with _lock:
        _active.append(item)


def _pop(item: _Stage | Progress) -> None:
    with _lock:
        for i in range(len(_active) - 1, -1, -1):
            if _active[i] is item:
                del _active[i]
                break


#: a "done" line of a phase shorter than this is one a reader of a piped log need not see, so
#: it does not count as a line the heartbeat can wait on (the CLI drops it)
SHORT_PHASE = 10.0


def _line(message: str, *args: object, elapsed: float | None = None) -> None:
    global _last_line
    if elapsed is None or elapsed >= SHORT_PHASE:
        _last_line = time.perf_counter()
    # ``segrec_elapsed`` on a "done" line lets a handler keep only the long phases
    _log.info(message, *args, extra=None if elapsed is None else {"segrec_elapsed": elapsed})


@contextmanager
def stage(name: str, *, done_line: bool = False) -> Iterator[None]:
    """Name the part of a long job the bars inside belong to: under ``stage("training
    period")`` an embedding bar reads "training period · embedding (onnx-int8)", so the same
    step run for several periods can be told apart (a stage inside a stage: the inner name).

    ``done_line``: log one line when the stage ends, with its elapsed time ("bpr · tuning
    done in 42s", or "... stopped after 42s (TimeBudgetExceeded)"), whatever its length: one
    line per method and phase, so a long evaluation's log says where the time went."""
    full = name
    token = _stage.set(full)
    item = _Stage(full)
    _push(item)
    ok = False
    try:
        yield
        ok = True
    finally:
        _pop(item)
        _stage.reset(token)
        if done_line:
            spent = format_seconds(time.perf_counter() - item._start)
            if ok:
                _line("%s done in %s", full, spent)
            else:
                _line("%s stopped after %s", full, spent)


def enable_progress_bars(enabled: bool = True) -> None:
    """Draw rich progress bars (counts and rate) instead of periodic log lines."""
    global _bars_enabled
    _bars_enabled = enabled


def enable_progress_lines(interval: float | None = 20.0) -> None:
    """Log a plain progress line (phase, done/total, rate, ETA) at least every ``interval``
    seconds while a stage or a loop is running, from a heartbeat thread when the work itself
    is silent; ``None`` turns the heartbeat off and restores the default 5 s loop logging.

    Lines go to the ``segrec.progress`` logger at INFO; showing them is the caller's handler.
    """
    global _interval, _heartbeat
    _heartbeat_stop.set()
    if _heartbeat is not None:
        _heartbeat.join(timeout=2.0)
        _heartbeat = None
    if interval is None:
        _interval = _DEFAULT_INTERVAL
        return
    if interval <= 0:
        raise ValueError(f"interval must be > 0 seconds; got {interval}")
    _interval = interval
    _heartbeat_stop.clear()
    _heartbeat = threading.Thread(
        target=_beat, args=(interval,), name="segrec-progress", daemon=True
    )
    _heartbeat.start()


def _beat(interval: float) -> None:
    tick = min(1.0, interval / 4)
    while not _heartbeat_stop.wait(tick):
        with _lock:
            current = _active[-1] if _active else None
        if current is not None and time.perf_counter() - _last_line >= interval:
            _line("%s", current.status())


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
        check_budget(self.label)
        if self._bar is not None:
            self._bar.update(self._task, advance=n)  # type: ignore[attr-defined]
            return
        now = time.perf_counter()
        if now - self._last_log >= _interval:
            self._last_log = now
            _line("%s", self.status())

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far; None without a total or before any progress."""
        if self.total is None or self.done <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate) if self.rate > 0 else None

    def status(self) -> str:
        """The plain progress line: phase, done/total, rate, ETA."""
        return f"{self.label}: {self.summary()}"

    def summary(self) -> str:
        tot = f"/{self.total}" if self.total is not None else ""
        text = (
            f"{self.done}{tot} {self.unit} in {self.elapsed:.1f}s ({self.rate:.1f} {self.unit}/s)"
        )
        eta = self.eta
        if eta is not None and self.done < (self.total or 0):
            text += f", ETA {format_seconds(eta)}"
        return text


@contextmanager
def progress(label: str, total: int | None = None, unit: str = "items") -> Iterator[Progress]:
    """Track a long loop: ``with progress("embedding", n, "texts") as p: ... p.update(k)``."""
    current = _stage.get()
    label = f"{current} · {label}" if current else label
    p = Progress(label, total, unit)
    _push(p)
    try:
        if _bars_enabled:
            with _rich_bar(p, label, total, unit):
                yield p
        else:
            yield p
    finally:
        _pop(p)
    _line("%s done: %s", label, p.summary(), elapsed=p.elapsed)


@contextmanager
def _rich_bar(p: Progress, label: str, total: int | None, unit: str) -> Iterator[None]:
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
        yield


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
