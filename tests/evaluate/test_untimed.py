"""Protocol v1 on events without a time says so instead of quietly training on all of them."""

from __future__ import annotations

import pandas as pd

from segrec.data import Dataset
from segrec.evaluate import EvalConfig
from segrec.evaluate._run import _untimed_warning


def _ds(events: list[str], untimed: list[str]) -> Dataset:
    n = len(events)
    inter = pd.DataFrame(
        {
            "user_id": [f"u{i % 3}" for i in range(n)],
            "item_id": [f"i{i}" for i in range(n)],
            "timestamp": [0 if e in untimed else 1_000 + i for i, e in enumerate(events)],
            "event": events,
        }
    )
    return Dataset(interactions=inter, name="toy", meta={"untimed_events": untimed})


def test_v1_warns_when_untimed_events_are_evaluated() -> None:
    msg = _untimed_warning(_ds(["play", "tag", "tag"], ["play"]), EvalConfig())
    assert msg is not None and "['play']" in msg and "--protocol llo" in msg


def test_no_warning_once_only_timed_events_remain_or_for_llo() -> None:
    assert _untimed_warning(_ds(["tag", "tag"], ["play"]), EvalConfig()) is None
    assert _untimed_warning(_ds(["play", "tag"], ["play"]), EvalConfig(protocol="llo")) is None
    assert _untimed_warning(_ds(["rating"], []), EvalConfig()) is None


def test_v1_on_data_without_any_time_says_file_order_decides() -> None:
    # FilmTrust, or a generic file without a timestamp column: nothing is "kept in train",
    # the split follows the rows' order in the file
    for untimed in (["rating"], ["all"]):
        msg = _untimed_warning(_ds(["rating", "rating"], untimed), EvalConfig())
        assert msg is not None and "splits by file order" in msg and "kept" not in msg
        assert "--protocol llo" in msg
