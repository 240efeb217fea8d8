"""``/users/{user_id}``: segment, recommendations, events (write, replay, list), DELETE, and
the 4xx answers to a caller's mistakes."""

from __future__ import annotations

from servekit import Service


def test_known_user_segment_and_recommendations(svc: Service) -> None:
    uid = "u0000001"
    a = svc.client.get(f"/users/{uid}/segment", headers=svc.h()).json()
    assert a["user_id"] == uid and isinstance(a["segment_id"], int) and a["segment"]
    assert {"strength", "explanation", "previous", "alternative"} <= set(a)
    r = svc.client.get(f"/users/{uid}/recommendations?k=3", headers=svc.h()).json()
    assert r["k"] == 3 and [i["rank"] for i in r["items"]] == [1, 2, 3]
    assert all(i["item_id"] and i["reason"] for i in r["items"])


def test_unknown_user_is_404_naming_it(svc: Service) -> None:
    for path in ("/users/u123/segment", "/users/u123/recommendations", "/users/u123/events"):
        r = svc.client.get(path, headers=svc.h())
        assert r.status_code == 404, path
        assert r.json()["detail"] == "unknown user_id 'u123'"
    r = svc.client.delete("/users/u123", headers=svc.h("write"))
    assert r.status_code == 404 and "u123" in r.json()["detail"]


def test_k_limits(svc: Service) -> None:
    for k in (0, 101):
        r = svc.client.get(f"/users/u0000001/recommendations?k={k}", headers=svc.h())
        assert r.status_code == 422
        assert r.json()["detail"].startswith(f"k: {k}") and "100" in r.json()["detail"]


def test_write_then_read(svc: Service, items: list[str]) -> None:
    body = {
        "events": [{"item_id": items[3], "rating": 5}, {"item_id": items[4]}],
        "texts": ["warm tone, the strings stay in tune"],
        "idempotency_key": "k-1",
    }
    r = svc.client.post("/users/new1/events", headers=svc.h("write"), json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["stored_events"] == 2 and out["stored_texts"] == 1 and not out["replayed"]
    assert out["assignment"]["user_id"] == "new1"
    seg = svc.client.get("/users/new1/segment", headers=svc.h()).json()
    assert seg["segment_id"] == out["assignment"]["segment_id"]
    recs = svc.client.get("/users/new1/recommendations?k=5", headers=svc.h()).json()
    assert items[3] not in {i["item_id"] for i in recs["items"]}
    page = svc.client.get("/users/new1/events", headers=svc.h()).json()
    assert [e["kind"] for e in page["events"]] == ["event", "event", "text"]
    assert page["events"][0]["data"]["item_id"] == items[3]
    assert page["events"][0]["data"]["timestamp"] > 0 and page["next_after"] is None


def test_events_are_paginated_oldest_first(svc: Service, items: list[str]) -> None:
    for i in range(5):
        svc.client.post(
            "/users/p1/events", headers=svc.h("write"), json={"events": [{"item_id": items[i]}]}
        )
    seen, after = [], 0
    while True:
        page = svc.client.get(f"/users/p1/events?limit=2&after={after}", headers=svc.h()).json()
        seen += [e["data"]["item_id"] for e in page["events"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == items[:5]
    r = svc.client.get("/users/p1/events?limit=5000", headers=svc.h())
    assert r.status_code == 422 and r.json()["detail"].startswith("limit: 5000")


def test_idempotency_replay_changes_nothing(svc: Service, items: list[str]) -> None:
    body = {"events": [{"item_id": items[7]}], "idempotency_key": "same-key"}
    first = svc.client.post("/users/r1/events", headers=svc.h("write"), json=body).json()
    n = svc.storage.count_events()
    again = svc.client.post("/users/r1/events", headers=svc.h("write"), json=body)
    assert again.status_code == 201
    assert again.json() == {**first, "replayed": True}
    assert svc.storage.count_events() == n == 1
    other = {"events": [{"item_id": items[8]}], "idempotency_key": "same-key"}
    r = svc.client.post("/users/r1/events", headers=svc.h("write"), json=other)
    assert r.status_code == 409 and "same-key" in r.json()["detail"]
    assert svc.storage.count_events() == 1


def test_bad_input_is_4xx_naming_the_field(svc: Service, items: list[str]) -> None:
    post = lambda body: svc.client.post("/users/b1/events", headers=svc.h("write"), json=body)  # noqa: E731
    cases = [
        ({"events": [{}]}, 422, "events[0].item_id"),
        ({"events": [{"item_id": "nope"}]}, 422, "unknown item_id 'nope'"),
        ({"events": [{"item_id": items[0], "colour": 1}]}, 422, "events[0].colour"),
        ({"events": [{"item_id": items[0]}] * 201}, 422, "the limit is 200"),
        ({"texts": ["x" * 5001]}, 422, "texts[0]: 5001 characters; the limit is 5000"),
        ({"texts": ["ok"] * 21}, 422, "texts: 21 texts in one request; the limit is 20"),
        ({"texts": ["   "]}, 422, "texts[0]"),
        ({}, 422, "at least one"),
        ({"events": "x"}, 422, "events"),
        (
            {"events": [{"item_id": items[0]}], "idempotency_key": "bad key!"},
            422,
            "idempotency_key",
        ),
    ]
    for body, status, needle in cases:
        r = post(body)
        assert r.status_code == status, (body, r.text)
        assert needle in r.json()["detail"], (needle, r.json())
    r = svc.client.post(
        "/users/b1/events",
        headers={**svc.h("write"), "content-type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422
    big = {"texts": ["a" * 4000] * 300}
    r = post(big)
    assert r.status_code == 413 and "max_body_bytes" in r.json()["detail"]
    assert svc.storage.count_events() == 0, "nothing stored for a rejected request"


def test_delete_forgets_and_deletes_events(svc: Service, items: list[str]) -> None:
    svc.client.post(
        "/users/d1/events",
        headers=svc.h("write"),
        json={"events": [{"item_id": items[1]}], "texts": ["hello"]},
    )
    r = svc.client.delete("/users/d1", headers=svc.h("write"))
    assert r.status_code == 200
    assert r.json() == {"user_id": "d1", "events_deleted": 2, "forgotten_in_model": True}
    assert svc.storage.count_events("d1") == 0
    assert svc.client.get("/users/d1/segment", headers=svc.h()).status_code == 404
    # a fitted user is forgotten too
    assert svc.client.delete("/users/u0000002", headers=svc.h("write")).status_code == 200
    assert svc.client.get("/users/u0000002/segment", headers=svc.h()).status_code == 404


def test_cold_start_assign(svc: Service, items: list[str]) -> None:
    body = {"texts": ["great condenser mic for vocals"], "events": [{"item_id": items[2]}], "k": 4}
    r = svc.client.post("/assign", headers=svc.h("write"), json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["remembered"] is False and out["assignment"]["user_id"] is None
    assert len(out["recommendations"]) == 4
    assert svc.storage.count_events() == 0
    r = svc.client.post("/assign", headers=svc.h("write"), json={**body, "user_id": "c1"})
    assert r.status_code == 200 and r.json()["remembered"] is True
    assert r.json()["assignment"]["segment_id"] == out["assignment"]["segment_id"]
    assert svc.client.get("/users/c1/segment", headers=svc.h()).status_code == 200
    assert svc.storage.count_events("c1") == 2
    r = svc.client.post("/assign", headers=svc.h("write"), json={"k": 3})
    assert r.status_code == 422 and "at least one" in r.json()["detail"]
    r = svc.client.post("/assign", headers=svc.h("write"), json={**body, "k": 1000})
    assert r.status_code == 422 and r.json()["detail"].startswith("k: 1000")
