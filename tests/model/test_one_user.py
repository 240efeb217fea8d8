"""The fast one-user Dataset of plain events equals the general constructor's, table by table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from segrec.data._one_user import plain_events, plain_user_dataset, stored_user_dataset
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
    ev = plain_events(UID, events, NOW)
    assert ev is not None
    fast, slow = ev.dataset(), _general(events)
    pd.testing.assert_index_equal(fast.user_ids, slow.user_ids)
    pd.testing.assert_index_equal(fast.item_ids, slow.item_ids)
    for name in ("interactions", "texts", "items", "users", "social"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), check_exact=True)
    assert (fast.name, fast.meta, fast.truth) == (slow.name, slow.meta, slow.truth)


TEXTS = [
    ["warm and bright, stays in tune for weeks"],
    ["first review", "second one: write to me at jane.doe@example.com"],  # PII is scrubbed
]


@pytest.mark.parametrize("texts", TEXTS)
@pytest.mark.parametrize("events", [[], *CASES])
def test_fast_dataset_with_texts_equals_the_general_one(
    events: list[dict[str, Any]], texts: list[str]
) -> None:
    fast = plain_user_dataset(UID, events, texts, NOW)
    assert fast is not None
    empty = pd.DataFrame({"src": [], "dst": []}, dtype="string")
    slow = user_dataset(events_frame(UID, events, NOW), texts_frame(UID, texts, NOW), empty)
    pd.testing.assert_index_equal(fast.user_ids, slow.user_ids)
    pd.testing.assert_index_equal(fast.item_ids, slow.item_ids)
    for name in ("interactions", "texts", "items", "users", "social"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), check_exact=True)
    assert "jane.doe" not in " ".join(fast.texts.text.astype(str))


@pytest.mark.parametrize(
    ("events", "texts"),
    [
        ([], []),
        ([], [""]),
        ([], ["  "]),
        ([], [{"text": "an object with more than its text", "item_id": "i1"}]),
        ([], [5]),
        ([{"item_id": "i1", "rating": "4"}], ["fine text"]),
    ],
)
def test_texts_not_plain_take_the_general_route(events: list[Any], texts: list[Any]) -> None:
    assert plain_user_dataset(UID, events, texts, NOW) is None


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
    assert plain_events(UID, events, NOW) is None


# -- the numpy route of a fitted model equals its Dataset route --------------------------------
@pytest.fixture(scope="module", params=["gnn", "gnn-cosine", "fused"])
def gnn_model(request: pytest.FixtureRequest) -> Any:
    """Small models whose every part has a one-user route: text profiles from item texts,
    behaviour, and the GNN segmenter (``gnn``; with cosine co-interaction edges, which read
    the event weights) or a graph block (``fused``), all folding users into the user graph."""
    from segrec.data import load_dataset
    from segrec.evaluate import EvalConfig
    from segrec.model import Choice
    from segrec.model._fit import fit_chosen, serving_dataset

    ds, _ = load_dataset("synthetic:users=300,seed=5")
    cfg = EvalConfig(
        features={
            "embedder": {"backend": "tfidf-svd", "tfidf_dim": 32, "use_cache": False},
        },
    )
    method, _, co = request.param.partition("-")
    choice = Choice(method, {"k": 4, **({"co": co} if co else {})}, {"base": "pop"})
    model = fit_chosen(serving_dataset(ds, cfg), cfg, choice)
    assert model.featurizer.text_.item_vectors_ is not None
    assert (model.featurizer.graph_ is not None) == (method == "fused")
    if co:
        assert model.assigner.segmenter._inner.foldin_.co == co
    return model


def _event_lists(model: Any) -> list[list[dict[str, Any]]]:
    items = [str(i) for i in model.item_labels.index]
    return [
        [{"item_id": items[0]}],
        [{"item_id": i} for i in items[3:8]],
        [
            {
                "item_id": items[10],
                "timestamp": NOW - 86_400 * 30,
                "event": "purchase",
                "amount": 12.5,
            },
            {"item_id": items[11], "timestamp": NOW - 86_400, "event": "view", "rating": 4},
            {"item_id": items[12], "weight": 3, "event": "play", "rating": 2.5},
            {"item_id": items[10], "timestamp": NOW, "event": "view"},  # a repeat: earliest kept
        ],
        [{"item_id": i, "event": "cart"} for i in items[-20:]],
    ]


def test_one_user_route_equals_the_dataset_route(gnn_model: Any) -> None:
    from segrec.data._one_user import OneUserEvents

    fz, assigner = gnn_model.featurizer, gnn_model.assigner
    for events in _event_lists(gnn_model):
        ev = plain_events(UID, events, NOW)
        assert isinstance(ev, OneUserEvents)
        fast, slow = fz.transform(ev, [UID]), fz.transform(ev.dataset(), [UID])
        assert set(fast.blocks) == set(slow.blocks) >= {"text", "behavior"}
        for name in fast.blocks:
            np.testing.assert_array_equal(fast.block(name), slow.block(name), err_msg=name)
            np.testing.assert_array_equal(fast.missing[name], slow.missing[name], err_msg=name)
        assert fast.columns == slow.columns
        assert list(fast.meta["text_source"]) == list(slow.meta["text_source"]) == ["items"]
        a, b = assigner.predict_detail(fast, ev), assigner.predict_detail(slow, ev.dataset())
        for field in ("labels", "strength", "alternative", "distance"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def test_assign_takes_the_numpy_route_only_for_plain_known_events(gnn_model: Any) -> None:
    from segrec.data._one_user import OneUserEvents

    known = [{"item_id": str(gnn_model.item_labels.index[0])}]
    assert isinstance(gnn_model._new_user(known, None, None), OneUserEvents)
    # texts, friends or an event given as text go the general way (which reports errors)
    assert not isinstance(gnn_model._new_user(known, ["great strings"], None), OneUserEvents)
    as_text = [{"item_id": known[0]["item_id"], "rating": "4"}]
    assert not isinstance(gnn_model._new_user(as_text, None, None), OneUserEvents)
    fast = gnn_model.assign(events=known)
    slow = gnn_model.assign(events=[{**known[0], "rating": None, "weight": "1"}])
    assert (fast.segment_id, fast.strength, fast.alternative) == (
        slow.segment_id,
        slow.strength,
        slow.alternative,
    )


def test_new_users_lists_are_the_same_on_both_routes(gnn_model: Any) -> None:
    """``assign_and_recommend`` (the service's ``POST /assign``) from plain events equals the
    general route's (the same events with one number given as text), list and reasons."""
    for events in _event_lists(gnn_model):
        general = [{**events[0], "weight": str(events[0].get("weight", 1))}, *events[1:]]
        fast, slow = (
            gnn_model.assign_and_recommend(events=e, k=10, reasons=True) for e in (events, general)
        )
        assert fast[0].segment_id == slow[0].segment_id
        pd.testing.assert_frame_equal(fast[1].frame(), slow[1].frame(), check_exact=True)
        assert fast[1].reasons == slow[1].reasons and fast[1].reasons


def test_a_review_assigns_and_recommends_the_same_on_both_routes(gnn_model: Any) -> None:
    """A new user's review (and events) through the fast Dataset gives what the general route
    gives (forced here by giving the text's time): segment, strength, the explanation, and
    the list with its reasons."""
    items = [str(i) for i in gnn_model.item_labels.index]
    review = "bright strings, warm tone, I would buy them again for the studio"
    for events in ([], [{"item_id": items[2]}, {"item_id": items[5], "event": "purchase"}]):
        assert gnn_model._new_user(events, [review], None) is not None
        fast = gnn_model.assign_and_recommend(texts=[review], events=events, k=10)
        general = [{"text": review, "timestamp": NOW}]
        slow = gnn_model.assign_and_recommend(texts=general, events=events, k=10)
        a, b = fast[0], slow[0]
        assert (a.segment_id, a.strength, a.alternative, a.explanation, a.distance) == (
            b.segment_id,
            b.strength,
            b.alternative,
            b.explanation,
            b.distance,
        )
        pd.testing.assert_frame_equal(fast[1].frame(), slow[1].frame(), check_exact=True)
        assert fast[1].reasons == slow[1].reasons


def test_plain_reviews_skip_the_general_route(gnn_model: Any, monkeypatch: Any) -> None:
    import segrec.model._store as store

    calls: list[int] = []
    general = store.user_dataset
    monkeypatch.setattr(store, "user_dataset", lambda *a: calls.append(1) or general(*a))
    gnn_model.assign(texts=["plain review text"])
    gnn_model.assign(texts=[{"text": "the service passes texts as objects"}])
    assert calls == []
    gnn_model.assign(texts=[{"text": "a text about an item", "item_id": "i000001"}])
    assert calls == [1]


STORED_TEXTS = [
    [],
    [{"text": "warm and bright", "item_id": "i1", "timestamp": 7}],
    [
        {"text": "about nothing"},
        {"text": "about b", "item_id": "b"},
        {"text": "late", "timestamp": 3},
    ],
]


@pytest.mark.parametrize("friends", [[], ["u9", "__a", "u9"]])
@pytest.mark.parametrize("texts", STORED_TEXTS)
@pytest.mark.parametrize("events", [[], *CASES])
def test_stored_rows_dataset_equals_the_general_one(
    events: list[dict[str, Any]], texts: list[dict[str, Any]], friends: list[str]
) -> None:
    if not events and not texts:
        return
    ev, tx = events_frame(UID, events, NOW), texts_frame(UID, texts, NOW)
    ties = pd.DataFrame({"src": UID, "dst": friends}, dtype="string")
    fast, slow = stored_user_dataset(UID, ev, tx, friends), user_dataset(ev, tx, ties)
    pd.testing.assert_index_equal(fast.user_ids, slow.user_ids)
    pd.testing.assert_index_equal(fast.item_ids, slow.item_ids)
    for name in ("interactions", "texts", "items", "users", "social"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), check_exact=True)


def test_a_stored_users_rows_follow_adds_and_removes() -> None:
    from segrec.model._store import UserStore

    a = events_frame("a", [{"item_id": "i1", "timestamp": 5}, {"item_id": "i2"}], NOW)
    b = events_frame("b", [{"item_id": "i3"}], NOW)
    store = UserStore(
        pd.concat([a, b], ignore_index=True),
        texts_frame("a", ["first"], NOW),
        pd.DataFrame({"src": ["b"], "dst": ["a"]}, dtype="string"),
        fitted={"a", "b"},
    )
    assert store.rows("events", "a").item_id.tolist() == ["i1", "i2"]
    store.add(
        "a", events_frame("a", [{"item_id": "i3"}], NOW), texts_frame("a", ["two"], NOW), ["b"]
    )
    store.add("b", events_frame("b", [{"item_id": "i1"}], NOW), texts_frame("b", [], NOW), [])
    assert store.rows("events", "a").item_id.tolist() == ["i1", "i2", "i3"]
    assert store.rows("texts", "a").text.tolist() == ["first", "two"]
    assert store.rows("ties", "a").dst.tolist() == ["b"] and "a" not in store.fitted
    # the whole tables hold every row in the order it was added, once
    assert store.events.item_id.tolist() == ["i1", "i2", "i3", "i3", "i1"]
    assert store.events.user_id.tolist() == ["a", "a", "b", "a", "b"]
    store.add("a", events_frame("a", [], NOW), texts_frame("a", [], NOW), ["b"])  # known tie
    assert len(store.ties) == 2
    assert store.rows("events", "b").item_id.tolist() == ["i3", "i1"]
    # one user without ties takes the fast route, which equals the general one
    one = store.user_dataset(["b"])
    general = user_dataset(
        store.rows("events", "b"), store.rows("texts", "b"), store.rows("ties", "b")
    )
    pd.testing.assert_frame_equal(one.interactions, general.interactions, check_exact=True)
    both = store.user_dataset(["a", "b"])
    assert list(both.user_ids) == ["a", "b"] and len(both.interactions) == 5
    assert store.remove("a")["events"] == 3
    assert store.rows("events", "a").empty and not store.knows("a") and store.knows("b")
    assert store.rows("ties", "b").empty  # b named a


@pytest.mark.parametrize(
    "events",
    [
        *CASES,
        [{"item_id": "i1", "weight": float("nan"), "rating": float("nan"), "amount": 0}],
        [{"item_id": "i1", "event": "view", "timestamp": 0, "weight": 0.0}],
    ],
)
def test_plain_events_frame_equals_the_general_one(events: list[dict[str, Any]]) -> None:
    from segrec.model import _store

    fast = events_frame(UID, events, NOW)
    general = _store._general_events_frame(UID, events, NOW)
    pd.testing.assert_frame_equal(fast, general, check_exact=True)
    none = _store._plain(pd.DataFrame([]), _store.TEXT_COLUMNS)
    pd.testing.assert_frame_equal(texts_frame(UID, [], NOW), none, check_exact=True)
