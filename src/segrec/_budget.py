"""Time budgets for long steps: ``with time_budget(600, "method 'bpr'"): ...``.

A step that runs past its budget is stopped with :class:`~segrec.diagnostics.TimeBudgetExceeded`
(the evaluation then reports the method as skipped, with the reason, and goes on). Two
mechanisms, so that a stop is both clean and certain:

- cooperative checks (:func:`check_budget`) at points where no state is half-written: between
  tuning candidates, between scoring chunks, between training epochs and iterations, and on
  every :func:`segrec._progress.progress` update;
- a backstop for a loop that has no check: in the main thread on POSIX an interval timer
  (``SIGALRM``) fires a grace period after the deadline and raises the same error at the next
  Python instruction. Time spent inside one long C call (a BLAS inverse) ends when that call
  returns; every such call in the recommenders is bounded by a candidate limit.

Budgets nest: the earliest deadline wins.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType

from segrec.diagnostics import TimeBudgetExceeded

__all__ = ["Budget", "check_budget", "time_budget"]


@dataclass(frozen=True)
class Budget:
    """What is being timed, its budget in seconds and when it started (``perf_counter``)."""

    what: str
    seconds: float
    start: float
    setting: str = "method_seconds"

    @property
    def deadline(self) -> float:
        return self.start + self.seconds

    def error(self, where: str = "") -> TimeBudgetExceeded:
        spent = time.perf_counter() - self.start
        at = f" during {where}" if where else ""
        return TimeBudgetExceeded(
            f"{self.what}: stopped after {spent:.0f}s{at}, over its time budget of "
            f"{self.seconds:g}s; raise {self.setting} (or leave it unset) to let it finish"
        )


_current: ContextVar[Budget | None] = ContextVar("segrec_budget", default=None)


def check_budget(where: str = "") -> None:
    """Raise :class:`TimeBudgetExceeded` if the innermost budget is spent (cheap: call it
    between chunks, epochs and candidates)."""
    b = _current.get()
    if b is not None and time.perf_counter() > b.deadline:
        raise b.error(where)


def remaining() -> float | None:
    """Seconds left in the innermost budget (None without one)."""
    b = _current.get()
    return None if b is None else b.deadline - time.perf_counter()


@contextmanager
def time_budget(
    seconds: float | None, what: str, *, setting: str = "method_seconds", grace: float | None = None
) -> Iterator[Budget | None]:
    """Run the body under a budget of ``seconds`` (None: no budget, the body runs as is).

    ``grace``: how long after the deadline the ``SIGALRM`` backstop fires (default 10% of the
    budget, at least 2 s), giving the cooperative checks the first chance to stop cleanly.
    """
    if seconds is None:
        yield None
        return
    if seconds <= 0:
        raise ValueError(f"{setting} must be > 0 seconds; got {seconds}")
    outer = _current.get()
    mine = Budget(what, float(seconds), time.perf_counter(), setting)
    # an outer budget that ends first keeps its own (earlier) deadline
    b = outer if outer is not None and outer.deadline <= mine.deadline else mine
    token = _current.set(b)
    alarm = _Alarm(b, max(2.0, 0.1 * b.seconds) if grace is None else grace)
    alarm.start()
    try:
        yield b
    finally:
        alarm.stop()
        _current.reset(token)


class _Alarm:
    """The ``SIGALRM`` backstop of one budget (main thread, POSIX only; a no-op elsewhere)."""

    def __init__(self, budget: Budget, grace: float) -> None:
        self.budget, self.grace = budget, grace
        self.previous: object = None
        self.outer_left = self.t0 = 0.0
        self.armed = (
            hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        )

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        raise self.budget.error("a step with no check (stopped by the timer)")

    def start(self) -> None:
        if not self.armed:
            return
        delay = max(self.budget.deadline + self.grace - time.perf_counter(), 0.01)
        self.previous = signal.signal(signal.SIGALRM, self._fire)
        self.t0 = time.perf_counter()
        self.outer_left, _ = signal.setitimer(signal.ITIMER_REAL, delay)

    def stop(self) -> None:
        if not self.armed:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)  # type: ignore[arg-type]
        if self.outer_left > 0:  # an outer budget's timer, paused while this one ran
            left = self.outer_left - (time.perf_counter() - self.t0)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.01))
