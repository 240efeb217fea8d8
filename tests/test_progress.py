"""Progress reporting: a stage names the part of a long job its bars belong to."""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from segrec._progress import Progress, enable_progress_lines, format_seconds, progress, stage


def test_stage_prefixes_bars_and_ends_with_the_stage(caplog) -> None:
    caplog.set_level(logging.INFO, logger="segrec.progress")
    with stage("training period"):
        with progress("embedding (onnx-int8)", 3, "texts") as p:
            p.update(3)
        # stages nest: the inner name wins, then the outer one is back
        with stage("all data"), progress("k-means", 1) as q:
            q.update()
        with progress("GCN", 1) as r:
            r.update()
    with progress("loading", 1) as s:
        s.update()
    assert p.label == "training period · embedding (onnx-int8)"
    assert q.label == "all data · k-means"
    assert r.label == "training period · GCN"
    assert s.label == "loading"
    assert any(
        m.startswith("training period · embedding (onnx-int8) done: 3/3 texts")
        for m in caplog.messages
    )


@pytest.fixture
def fast_lines() -> Iterator[None]:
    """Heartbeat every 0.1 s for the test; off (the library default) afterwards."""
    enable_progress_lines(0.1)
    yield
    enable_progress_lines(None)


def _wait_for(pred: Callable[[], bool], seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_a_silent_stage_still_says_where_it_is(caplog, fast_lines) -> None:
    # an evaluation step with no loop that counts: the heartbeat speaks for it
    caplog.set_level(logging.INFO, logger="segrec.progress")
    with stage("evaluating segment_pop"):
        assert _wait_for(
            lambda: any("evaluating segment_pop: working" in m for m in caplog.messages)
        )


def test_a_stalled_loop_reports_phase_count_rate_and_eta(caplog, fast_lines) -> None:
    caplog.set_level(logging.INFO, logger="segrec.progress")
    with stage("training period"), progress("embedding", 10, "texts") as p:
        p.update(2)
        assert _wait_for(
            lambda: any(
                m.startswith("training period · embedding: 2/10 texts") for m in caplog.messages
            )
        )
    line = next(m for m in caplog.messages if m.startswith("training period · embedding: 2/10"))
    assert "texts/s" in line and "ETA" in line


def test_eta_and_durations() -> None:
    p = Progress("x", 100, "rows")
    assert p.eta is None  # nothing done yet: no guess
    p.done = 50
    p._start = time.perf_counter() - 10.0
    assert p.eta == pytest.approx(10.0, rel=0.05)
    assert "ETA 10s" in p.summary()
    assert Progress("y", None).eta is None
    assert [format_seconds(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]


def test_heartbeat_is_off_unless_asked(caplog) -> None:
    # the library alone logs nothing between a loop's own updates
    caplog.set_level(logging.INFO, logger="segrec.progress")
    with stage("quiet"):
        time.sleep(0.3)
    assert not any("quiet: working" in m for m in caplog.messages)


def test_cli_prints_plain_lines_when_stderr_is_not_a_terminal(monkeypatch) -> None:
    from segrec.cli._app import _global

    err = io.StringIO()  # not a TTY, as when the output is piped to a file
    monkeypatch.setattr(sys, "stderr", err)
    prog = logging.getLogger("segrec.progress")
    try:
        _global(verbose=0, log_file=None, no_progress=False)  # no -v
        assert prog.handlers, "a handler for plain progress lines"
        enable_progress_lines(0.1)  # the CLI uses 20 s; the test cannot wait that long
        with stage("evaluation"):
            assert _wait_for(lambda: "evaluation: working" in err.getvalue())
        with progress("short loop", 1) as p:
            p.update()
        # a phase that ended in under 10 s gets no "done" line on the terminal log
        assert "short loop done" not in err.getvalue()
        _global(verbose=0, log_file=None, no_progress=True)
        assert not prog.handlers
    finally:
        enable_progress_lines(None)
        prog.handlers = []
        prog.setLevel(logging.NOTSET)
