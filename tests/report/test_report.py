"""The HTML report is self-contained (nothing fetched) and shows every section."""

from __future__ import annotations

import re

import pytest
from evalkit import planted_dataset, pop_factories

from segrec.evaluate import EvalConfig, EvalResult, run_evaluation
from segrec.report import render_markdown, segment_cards, write_report

# end-to-end runs of the whole pipeline take 10-30 s on two busy cores
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result() -> EvalResult:
    cfg = EvalConfig(
        methods=["pop", "hybrid"],
        grids={"segment_pop": [{}], "hybrid": [{}]},
        segmentations=["random", "behavior", "demographic"],
        n_bootstrap=100,
        graph=None,
        segmentation_params={"behavior": {"k": 4}},
        hybrid_segmentation="behavior",
        features={"embedder": {"backend": "tfidf-svd", "tfidf_dim": 32}},
    )
    return run_evaluation(planted_dataset(), cfg, recommenders=pop_factories())


def test_report_is_self_contained_and_complete(result: EvalResult, tmp_path) -> None:
    path = write_report(result, tmp_path)
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>")
    # nothing loaded from elsewhere: no scripts, stylesheets, images or frames with a source
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert not re.search(r'\b(src|href)\s*=\s*["\']?(https?:)?//', html, re.I)
    assert "@import" not in html
    for heading in (
        "Which method recommends best?",
        "Cold and warm users",
        "Is the difference",
        "Which way of segmenting",
        "Fairness across segments",
        "Map of users",
        "Segments",
    ):
        assert heading in html
    assert html.count("<svg") >= 5  # method bars, cold/warm, segmentations, fairness, map
    assert html.count('class="card"') == result.segmentations["behavior"]["k"]
    # fewer than 100 test users in the planted data: the report warns
    assert 'class="warn"' in html and "&lt; 100" in html
    md = (tmp_path / "summary.md").read_text()
    assert "| hybrid |" in md and "> **Warning:**" in md
    # fairness for every method, on the hybrid's segments, most even first
    fair = html[html.index("Fairness across segments") : html.index("Map of users")]
    rows = re.findall(r"<tr><td>([^<]+)</td>", fair)
    assert set(rows) == set(result.methods)
    gaps = [result.methods[r]["per_segment"]["fairness"]["gap"] for r in rows]
    assert gaps == sorted(gaps)
    assert "gap across behavior segments" in md
    # every paired comparison, with its Holm-adjusted p-value, in the summary too
    for t in (v for v in result.significance.values() if isinstance(v, dict)):
        assert f"| {t['a']} vs {t['b']}" in md
        if t.get("ratio") is not None:  # with the ratio the targets are written in
            assert f"{t['ratio']:.2f}x [{t['ratio_ci'][0]:.2f}, {t['ratio_ci'][1]:.2f}]" in md
    assert "p (Holm)" in md and "p (Holm)" in html and "ratio [95% CI]" in html


def test_segment_cards_use_profiles_when_given(result: EvalResult) -> None:
    from segrec.describe import describe_segments
    from segrec.report import profile_fields

    assert result.artifacts is not None
    seg = result.artifacts.segmentations["behavior"]
    profiles = profile_fields(describe_segments(result.artifacts.dataset, seg))
    profiles[0] = {**profiles[0], "name": "Tone chasers", "rules": ["tone > 0.3"]}
    cards = segment_cards(result, seg, profiles)
    by_id = {c["segment"]: c for c in cards}
    assert by_id[0]["name"] == "Tone chasers" and by_id[0]["rules"] == ["tone > 0.3"]
    assert sum(c["size"] for c in cards) == len(seg.user_ids)
    assert all(c["top_items"] == profiles[c["segment"]]["top_items"] for c in cards)
    # keywords come from the members' reviews: each planted group writes its own words
    assert any({"tone", "budget", "strings", "drum"} & set(c["keywords"]) for c in cards)


def test_segment_without_rule_says_so(result: EvalResult, tmp_path) -> None:
    """A segment no branch of the rule tree ends in gets a note, not a silently missing
    section, in segments.md and in the report's card."""
    from segrec._pipeline import _profiles_for_report
    from segrec.describe import SegmentProfiles

    rule = {"if": "frequency > 3", "precision": 0.9, "coverage": 0.6}
    size = {"size": 10, "share": 1 / 3}
    profiles = SegmentProfiles(
        [
            {"segment_id": 0, "name": "Regulars", "rules": {"rules": [rule]}, **size},
            {
                "segment_id": 1,
                "name": "Writers",
                "rules": {"rules": []},
                "keywords": ["tone"],
                **size,
            },
            {"segment_id": 3, "name": "Silent", "rules": {"rules": []}, **size},
            {"segment_id": 2, "name": "Unexplained", "rules": {}, **size},  # no tree fitted
        ],
        {"explanations": {"fidelity": 0.57}},
    )
    md = profiles.to_markdown()
    section = {s.split("\n", 1)[0]: s for s in md.split("## ")[1:]}
    assert "if frequency > 3 (precision 90%, coverage 60%)" in section["0. Regulars"]
    assert "- rules: none: no branch of the rule tree" in section["1. Writers"]
    assert "57% of held-out users" in section["1. Writers"]
    # it points to what else says who is in the segment, and only to what is there
    assert "Its keywords describe it better" in section["1. Writers"]
    assert "Its top items describe it better" in section["3. Silent"]
    assert "rules" not in section["2. Unexplained"]

    prof_map = _profiles_for_report(profiles)
    assert prof_map[0]["rules_note"] is None and prof_map[2]["rules_note"] is None
    assert prof_map[1]["rules"] == [] and "57%" in prof_map[1]["rules_note"]
    html = write_report(result, tmp_path, prof_map).read_text()
    card = html.split("<h3>Writers</h3>", 1)[1].split('<div class="card">', 1)[0]
    assert "<b>Rules:</b>" in card and "no branch of the rule tree" in card
    regulars = html.split("<h3>Regulars</h3>", 1)[1].split('<div class="card">', 1)[0]
    assert (
        "frequency &gt; 3 (90% of the users it picks are members; it covers 60% of members)"
        in regulars
    )


def test_markdown_lists_every_method(result: EvalResult) -> None:
    md = render_markdown(result)
    for name in result.methods:
        assert f"| {name} |" in md
    behavior = result.segmentations["behavior"]
    row = next(r for r in md.splitlines() if r.startswith("| behavior |"))
    assert f"| {behavior['stability']:.3f} |" in row  # stability beside the NDCG columns


def _chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_offline_in_headless_chromium(result: EvalResult, tmp_path) -> None:
    """A real browser lays the page out with the network closed: every chart is drawn."""
    import subprocess

    exe = _chromium()
    if exe is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    path = write_report(result, tmp_path / "r")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # any fetch of a remote resource would fail: the page must not need one
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [exe, *flags, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Which method recommends best?" in dom.stdout
    assert dom.stdout.count("<svg") >= 5
    shot = tmp_path / "report.png"
    subprocess.run(
        [exe, *flags, "--window-size=1280,2000", f"--screenshot={shot}", path.as_uri()],
        capture_output=True,
        timeout=120,
    )
    # a blank page compresses to a few KB; a drawn report with tables and charts does not
    assert shot.is_file() and shot.stat().st_size > 50_000
