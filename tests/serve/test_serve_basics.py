"""Health, readiness, metrics, segments, drift and the dashboard."""

from __future__ import annotations

import re

from servekit import Service


def test_healthz_readyz_need_no_key(svc: Service) -> None:
    assert svc.client.get("/healthz").json() == {"status": "ok"}
    r = svc.client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "model": True, "database": True}
    assert r.headers["x-request-id"]


def test_request_id_is_echoed_when_plain(svc: Service) -> None:
    r = svc.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = svc.client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert r.headers["x-request-id"] != "bad id\twith spaces"


def test_segments_list_and_detail(svc: Service) -> None:
    r = svc.client.get("/segments", headers=svc.h())
    assert r.status_code == 200
    segs = r.json()["segments"]
    assert len(segs) == 4
    sid = segs[0]["segment_id"]
    d = svc.client.get(f"/segments/{sid}", headers=svc.h()).json()
    assert d["segment_id"] == sid and d["name"] == segs[0]["name"]
    assert {"size", "keywords", "rules", "top_items"} <= set(d)


def test_unknown_segment_is_404(svc: Service) -> None:
    r = svc.client.get("/segments/99", headers=svc.h())
    assert r.status_code == 404
    assert "unknown segment_id 99" in r.json()["detail"]
    r = svc.client.get("/segments/abc", headers=svc.h())
    assert r.status_code == 422 and "segment_id" in r.json()["detail"]


def test_drift_report(svc: Service) -> None:
    r = svc.client.get("/segments/drift", headers=svc.h())
    assert r.status_code == 200
    body = r.json()
    assert body["verdict"] in {"stable", "watch", "refit"}
    assert isinstance(body["reasons"], list)


def test_metrics_count_routes_assignments_and_events(svc: Service, items: list[str]) -> None:
    svc.client.get("/segments", headers=svc.h())
    svc.client.post(
        "/users/m1/events", headers=svc.h("write"), json={"events": [{"item_id": items[0]}]}
    )
    text = svc.client.get("/metrics").text
    assert re.search(
        r'segrec_requests_total\{method="GET",route="/segments",status="200"\} 1', text
    )
    assert (
        'segrec_request_seconds_bucket{le="0.005",method="POST",route="/users/{user_id}/events"}'
        in text
    )
    assert re.search(r"segrec_assignments_total\{segment=\"\d+\"\} 1", text)
    assert "segrec_events_stored 1.0" in text
    assert "segrec_drift_verdict" in text


def test_dashboard_is_offline_html(svc: Service) -> None:
    assert svc.client.get("/dashboard").status_code == 401
    r = svc.client.get("/dashboard", headers=svc.h())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert 'id="cards"' in html and 'id="assign-go"' in html and "loadSegments" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no CDN or remote assets"
    # a browser may pass the key once in the address
    assert svc.client.get(f"/dashboard?key={svc.keys['read']}").status_code == 200
    sizes = svc.client.get("/dashboard/sizes", headers=svc.h()).json()
    assert sizes["bucket_s"] == 3600


def test_openapi_schema(svc: Service) -> None:
    paths = svc.client.get("/openapi.json").json()["paths"]
    for p in (
        "/healthz",
        "/readyz",
        "/metrics",
        "/segments",
        "/segments/{segment_id}",
        "/segments/drift",
        "/users/{user_id}/segment",
        "/users/{user_id}/recommendations",
        "/users/{user_id}/events",
        "/assign",
        "/admin/reload",
        "/users/{user_id}",
        "/dashboard",
    ):
        assert p in paths
