"""The dashboard in a real browser: Debian's Chromium driven by Playwright against a live
service on a fitted model. Every card and the map render, the assign box returns a segment,
and screenshots at 1400 and 800 px are saved (``SEGREC_SCREENSHOTS`` keeps them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from servekit import Service

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def test_dashboard_renders_and_assigns(
    browser, live_sqlite: tuple[str, Service], tmp_path: Path, items: list[str]
) -> None:  # type: ignore[no-untyped-def]
    base, svc = live_sqlite
    shots = Path(os.environ.get("SEGREC_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    import segrec

    model = segrec.load_model(svc.model_dir)
    n_segments = len(model.profiles.profiles)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/dashboard?key={svc.keys['write']}")
    # the key leaves the address bar once read
    page.wait_for_selector(".card")
    assert "key=" not in page.url
    assert page.locator(".card").count() == n_segments
    page.wait_for_selector("#map-body svg circle")
    assert page.locator("#map-body svg circle").count() == len(model.map_points)
    assert page.locator("#map-legend span").count() == n_segments
    assert "discriminant" in page.locator("#map-body svg").text_content()
    assert page.locator("#drift-verdict").inner_text() in {"stable", "watch", "refit"}

    page.fill("#assign-text", "warm tone, the strings stay in tune, great for the studio")
    page.fill("#assign-items", ", ".join(items[:2]))
    page.click("#assign-go")
    page.wait_for_selector("#assign-result ol li")
    result = page.locator("#assign-result").inner_text()
    assert "Segment" in result
    assert any(name in result for name in model.segment_names.values())
    assert "<=" not in result and "cat:" not in result  # the rule is said in words
    assert page.locator("#assign-result ol li").count() == 5
    # the assignment was stored and now shows in the chart of sizes over time
    page.wait_for_selector("#sizes-body svg rect")
    assert svc.storage.recent_assignments().shape[0] == 1
    assert not page.locator("#error").inner_text()
    page.screenshot(path=str(shots / "dashboard-1400.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 1100})
    page.screenshot(path=str(shots / "dashboard-800.png"), full_page=True)
    assert (shots / "dashboard-1400.png").stat().st_size > 20_000
    assert not errors
