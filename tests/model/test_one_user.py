"""The fast one-user Dataset of plain events equals the general constructor's, table by table."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from segrec.model._one_user import plain_events_dataset
from segrec.model._store import events_frame, texts_frame, user_dataset

NOW = 1_700_000_000
UID = "__new__"

CASES: list[list[dict[str, Any]]] = [
    [{"item_id": "i1"}],
    [{"item_id": "i2", "timestamp": 5, "rating": 4}, {"item_id": "i1"}],
    [
        {"item_id": "b", "timestamp": 30, "event": "purchase", "amount": 9.5, "weight": 2},
        {"item_id": "a", "timestamp": 10, "event": "view"},
        {"item_id": "b", "timestamp": 20, "rating": 3.5},  # the earlier 'b' is kept
        {"item_id": "c", "timestamp": 10},  # same time as 'a': file order breaks the tie
    ],
]


def _general(events: list[dict[str, Any]]) -> Any:
    empty = pd.DataFrame({"src": [], "dst": []}, dtype="string")
    return user_dataset(events_frame(UID, events, NOW), texts_frame(UID, [], NOW), empty)


@pytest.mark.parametrize("events", CASES)
def test_fast_dataset_equals_the_general_one(events: list[dict[str, Any]]) -> None:
    fast, slow = plain_events_dataset(UID, events, NOW), _general(events)
    assert fast is not None
    pd.testing.assert_index_equal(fast.user_ids, slow.user_ids)
    pd.testing.assert_index_equal(fast.item_ids, slow.item_ids)
    for name in ("interactions", "texts", "items", "users", "social"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), check_exact=True)
    assert (fast.name, fast.meta, fast.truth) == (slow.name, slow.meta, slow.truth)


@pytest.mark.parametrize(
    "events",
    [
        [],
        [{"item_id": 5}],
        [{"item_id": "i1", "rating": "4"}],
        [{"item_id": "i1", "timestamp": True}],
        [{"item_id": "i1", "colour": "red"}],
        ["i1"],
        [{"item_id": ""}],
    ],
)
def test_anything_not_plain_takes_the_general_route(events: list[Any]) -> None:
    assert plain_events_dataset(UID, events, NOW) is None
