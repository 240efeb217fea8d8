"""Durability on each database (SQLite; PostgreSQL when SEGREC_TEST_POSTGRES_URL is set):
concurrent writers stored exactly once, replays, and a restarted service answering from
the stored events."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from servekit import Service, _service

WRITERS, REQUESTS, PER_REQUEST = 8, 20, 25  # 8 writers x 500 events (issue 20)


@pytest.mark.slow
def test_concurrent_writers_store_every_event_once(
    live: tuple[str, Service], items: list[str]
) -> None:
    base, svc = live
    acked: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        with httpx.Client(base_url=base, headers=svc.h("write"), timeout=60) as client:
            for r in range(REQUESTS):
                key = f"w{w}-r{r}"
                evs = [{"item_id": items[(w * 7 + r + j) % len(items)]} for j in range(PER_REQUEST)]
                body = {"events": evs, "idempotency_key": key}
                resp = client.post(f"/users/cw{w % 4}/events", json=body)
                if r % 10 == 0:  # a client retry of the same key stores nothing more
                    resp = client.post(f"/users/cw{w % 4}/events", json=body)
                with lock:
                    (acked if resp.status_code == 201 else errors).append(
                        key if resp.status_code == 201 else resp.text
                    )

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(acked)) == WRITERS * REQUESTS
    with svc.storage.engine.connect() as conn:
        n_events = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
        n_batches = conn.execute(sa.text("SELECT count(*) FROM batches")).scalar()
        dupes = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT batch_id, seq FROM events GROUP BY batch_id, seq "
                "HAVING count(*) > 1) d"
            )
        ).scalar()
    assert n_events == WRITERS * REQUESTS * PER_REQUEST == 4000
    assert n_batches == WRITERS * REQUESTS and dupes == 0
    with httpx.Client(base_url=base, headers=svc.h(), timeout=60) as client:
        total = 0
        for u in range(4):
            page = client.get(f"/users/cw{u}/events?limit=1000").json()
            total += len(page["events"])
    assert total == 4000


def test_restarted_service_answers_from_stored_events(
    model_dir: Path, db_url: str, items: list[str]
) -> None:
    gen = _service(model_dir, db_url)
    svc = next(gen)
    body = {
        "events": [{"item_id": items[9]}, {"item_id": items[10]}],
        "texts": ["bright tone"],
        "idempotency_key": "restart-1",
    }
    first = svc.client.post("/users/rs1/events", headers=svc.h("write"), json=body).json()
    svc.client.delete("/users/u0000003", headers=svc.h("write"))
    gen.close()

    gen2 = _service(model_dir, db_url)
    svc2 = next(gen2)
    try:
        seg = svc2.client.get("/users/rs1/segment", headers=svc2.h()).json()
        assert seg["segment_id"] == first["assignment"]["segment_id"]
        page = svc2.client.get("/users/rs1/events", headers=svc2.h()).json()
        assert len(page["events"]) == 3
        replay = svc2.client.post("/users/rs1/events", headers=svc2.h("write"), json=body)
        assert replay.json()["replayed"] is True and svc2.storage.count_events() == 3
        # a forgotten fitted user stays forgotten after a restart
        assert svc2.client.get("/users/u0000003/segment", headers=svc2.h()).status_code == 404
    finally:
        gen2.close()


def test_storage_round_trip(svc: Service) -> None:
    st = svc.storage
    b = st.add_batch("k1", "s1", "h", [("event", {"item_id": "i1"}), ("text", {"text": "t"})])
    assert b.created
    again = st.add_batch("k1", "s1", "h", [("event", {"item_id": "i1"})])
    assert not again.created and again.id == b.id
    assert [e.kind for e in st.events_of("s1")] == ["event", "text"]
    assert st.count_events() == 2
    assert st.delete_user("s1") == 2 and st.generation("s1") == 1
    assert st.ping()


def test_a_second_service_on_the_database_sees_the_first_ones_writes(
    model_dir: Path, db_url: str, items: list[str]
) -> None:
    """Two services on one database (as two workers are): each answers a user from the
    events the other stored, read after read, and a read between writes asks nothing."""
    gen_a, gen_b = _service(model_dir, db_url), _service(model_dir, db_url)
    a, b = next(gen_a), next(gen_b)
    try:
        w = a.h("write")
        assert a.client.get("/users/u0000004/recommendations", headers=b.h()).status_code == 200
        before = b.client.get("/users/u0000004/recommendations", headers=b.h()).json()
        for n, item in enumerate(items[20:23]):
            body = {"events": [{"item_id": item}], "idempotency_key": f"two-{n}"}
            assert a.client.post("/users/u0000004/events", headers=w, json=body).status_code == 201
            seen = b.client.get("/users/u0000004/recommendations", headers=b.h()).json()
            assert item not in {r["item_id"] for r in seen["items"]}  # b folded it in
            assert (
                a.client.get("/users/u0000004/segment", headers=a.h()).json()
                == b.client.get("/users/u0000004/segment", headers=b.h()).json()
            )
        assert seen["items"] != before["items"]
        version = b.storage.version()
        if version is not None:  # SQLite: reads change nothing, a write anywhere changes it
            b.client.get("/users/u0000004/segment", headers=b.h())
            assert b.storage.version() == version
            a.storage.add_batch("two-x", "zz", "h", [("event", {"item_id": items[0]})])
            assert b.storage.version() != version
    finally:
        gen_b.close()
        gen_a.close()


def test_anonymous_assignments_are_written_together_within_a_second(svc: Service) -> None:
    st = svc.storage

    def stored() -> int:
        with st.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM assignments WHERE user_id IS NULL")
                ).scalar()
                or 0
            )

    before = stored()
    for sid in (1, 2, 1):
        st.record_anonymous(sid, 0.5, 1.0)
    deadline = time.monotonic() + st.FLUSH_S + 5
    while stored() < before + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stored() == before + 3  # the background writer wrote them
    st.record_anonymous(3, 0.25, None)
    window = st.recent_assignments()  # a reader writes what is buffered first
    assert (window.user_id.isna() & (window.segment_id == 3)).sum() == 1
    st.record_anonymous(4, 0.25, None)
    st.dispose()  # so does closing the storage
    assert stored() == before + 5
