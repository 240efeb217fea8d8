"""The self-contained HTML report (no CDN, no external links) and :func:`write_report`."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from segrec.evaluate import EvalResult
from segrec.report._cards import published_labels, segment_cards, user_map
from segrec.report._examples import examples_html
from segrec.report._markdown import render_markdown
from segrec.report._rank import fmt, fmt_ci, ranking, variants, winner
from segrec.report._sections import cards_html, fairness_table, seg_table
from segrec.report._svg import bar_chart, grouped_bars, scatter
from segrec.report._tables import data_table, methods_table, settings_table, significance_table

__all__ = ["render_html", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1320px;color:#222;padding:0 16px}
.wide{overflow-x:auto}svg{max-width:100%;height:auto}
h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td{white-space:nowrap}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
table.methods td:nth-child(2),table.methods th:nth-child(2){text-align:left}table.data td:first-child{white-space:normal}
.warn{background:#fff4e5;border-left:4px solid #f28e2b;padding:8px 12px;margin:8px 0}
.winner{background:#eef8f2;border-left:4px solid #0a6;padding:8px 12px;margin:8px 0;
font-size:15px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;font-size:13px}
td.params{text-align:left;font-size:12px;white-space:normal;vertical-align:top}
td.params ul{margin:0;padding-left:16px}table.settings th{text-align:left}
.card h3{margin:4px 0}.muted{color:#666}.best{font-weight:bold;color:#0a6}
blockquote{margin:4px 0;padding-left:8px;border-left:3px solid #ccc;color:#555}
"""

_WIN, _SERVED = "#59a14f", "#f28e2b"


def _method_charts(res: EvalResult, order: list[str], best: str | None) -> tuple[str, str]:
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    colors = {}
    if "hybrid" in order and best != "hybrid":
        colors["hybrid"] = (_SERVED, "hybrid: the method segrec serves")
    if best is not None:
        colors[best] = (_WIN, f"{best}: ranked first" + (" (served)" if best == "hybrid" else ""))
    chart = bar_chart(
        order,
        [res.methods[n].get(m) for n in order],
        [res.methods[n].get(m + "_ci") for n in order],
        f"Test NDCG@{k} of each method, best first (the table below, same order)",
        colors=colors,
        legend="other methods",
    )
    cw = grouped_bars(
        order,
        {
            "cold users (at most 2 training interactions)": [
                res.methods[n].get(m + "_cold") for n in order
            ],
            "warm users": [res.methods[n].get(m + "_warm") for n in order],
        },
        f"Test NDCG@{k}: cold vs warm users, same order as above",
        cis={
            "cold users (at most 2 training interactions)": [
                res.methods[n].get(m + "_cold_ci") for n in order
            ],
            "warm users": [res.methods[n].get(m + "_warm_ci") for n in order],
        },
    )
    return chart, cw


def _seg_chart(res: EvalResult) -> str:
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    segs = [s for s, v in res.segmentations.items() if "segment_pop" in v]
    if not segs:
        return ""
    series = {"segment popularity": [res.segmentations[s]["segment_pop"].get(m) for s in segs]}
    cis = {"segment popularity": [res.segmentations[s]["segment_pop"].get(m + "_ci") for s in segs]}
    if any(res.segmentations[s].get("hybrid") for s in segs):
        series["hybrid"] = [(res.segmentations[s].get("hybrid") or {}).get(m) for s in segs]
        cis["hybrid"] = [(res.segmentations[s].get("hybrid") or {}).get(m + "_ci") for s in segs]
    return grouped_bars(segs, series, f"Test NDCG@{k} by way of segmenting", cis=cis)


def _variants_html(res: EvalResult, top: dict[str, Any] | None) -> str:
    rows = variants(res)
    if not rows:
        return ""
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    body = "".join(
        f"<tr><td>{escape(n)}</td><td>{fmt(res.methods[n].get(m))}</td>"
        f"<td>{fmt_ci(res.methods[n].get(m + '_ci'))}</td>"
        f"<td>{fmt(res.methods[n].get(m + '_cold'))}</td>"
        f"<td>{fmt(res.methods[n].get(m + '_warm'))}</td></tr>"
        for n in rows
    )
    note = ""
    first = rows[0]
    if top and (res.methods[first].get(m) or 0.0) > (top.get("value") or 0.0):
        note = (
            f"<p class='muted'>{escape(first)} scores {fmt(res.methods[first].get(m))} on the test "
            f"period, above {escape(top['best'])}; it is not ranked above because its "
            "segmentation was not the one chosen on validation (a choice made on test "
            "scores would flatter it).</p>"
        )
    return (
        f"{note}<details><summary>Each segment method on every segmentation ({len(rows)} "
        "variants, best first)</summary><div class='wide'><table><tr><th>method:segmentation"
        f"</th><th>NDCG@{k}</th><th>95% CI</th><th>cold</th><th>warm</th></tr>{body}</table>"
        "</div></details>"
    )


def _segment_parts(
    res: EvalResult, profiles: Mapping[int, Mapping[str, Any]] | None
) -> tuple[str, str, str, dict[str, str]]:
    """(fairness, map, cards) HTML for the hybrid's segmentation, with one set of names, and
    each user's segment name as the cards give it."""
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    hseg = res.protocol.get("hybrid_segmentation")
    arts = res.artifacts
    if not hseg or arts is None or hseg not in arts.segmentations:
        return "", "", "", {}
    seg = arts.segmentations[hseg]
    cards = segment_cards(res, seg, profiles)
    names = {c["segment"]: c["name"] for c in cards}
    pub = published_labels(seg)
    raw = seg.series()
    for s in {int(v) for v in raw.unique()} - set(names):  # merged away for privacy
        n = int((raw == s).sum())
        into = {int(v) for v in pub[raw.index.astype(str)][raw.to_numpy() == s]}
        target = names.get(next(iter(into), -1), "no segment")
        names[s] = f"a small segment ({n} users, merged into {target} for privacy)"
    row = res.segmentations.get(hseg, {}).get("hybrid") or {}
    fair = ""
    ps = row.get("per_segment", [])
    if ps:
        fair = bar_chart(
            [f"{names.get(p['segment'], p['name'])} ({p['n']} test users)" for p in ps],
            [p[m] for p in ps],
            [p.get(f"{m}_ci") for p in ps],
            title=f"hybrid: test NDCG@{k} per segment",
            legend="hybrid, one bar per segment",
        )
    fair += fairness_table(res, k, names)
    um = user_map(res, seg, labels=pub)
    map_html = ""
    if um is not None:
        xy, labels, about = um
        axes = list(about.get("axes") or ["", ""])
        map_html = scatter(xy, labels, names, f"Users by {hseg} segment", axes=axes)
        map_html = (
            f'<p class="muted">Projection: {escape(str(about.get("projection")))}, the same '
            f"as the model folder's map.parquet; one point per user "
            + ("(a sample of 2,000)" if len(xy) >= 2000 else f"({len(xy):,} users)")
            + "; colours are the segments of the cards below.</p>"
            + map_html
        )
    users = {u: names[int(s)] for u, s in pub.items() if s >= 0}
    return fair, map_html, cards_html(cards), users


def render_html(
    res: EvalResult,
    profiles: Mapping[int, Mapping[str, Any]] | None = None,
    title: str | None = None,
    segments_note: str | None = None,
    examples: list[dict[str, Any]] | None = None,
) -> str:
    """The whole report as one HTML string (inline CSS and SVG only). ``segments_note`` is
    shown above the segment cards (what they describe); ``examples``
    (:func:`~segrec.report.example_lists`) are shown as a few users' lists with reasons."""
    k = int(res.protocol["k"])
    d = res.dataset
    title = title or f"segrec evaluation: {d.get('name', 'dataset')}"
    warns = "".join(f'<div class="warn">⚠ {escape(w)}</div>' for w in res.warnings)
    order = ranking(res)
    top = winner(res)
    best = top["best"] if top else None
    win = f'<p class="winner">{escape(top["sentence"])}</p>' if top else ""
    chart, cw = _method_charts(res, order, best)
    hseg = res.protocol.get("hybrid_segmentation")
    fair_html, map_html, cards, train_names = _segment_parts(res, profiles)
    period = (
        f'<p class="muted">Segments on this page (fairness, map, cards, and the segment '
        f"named for each example user) are the {escape(str(hseg))} segments built on the "
        "training period, the ones the evaluation measured; names are the same in every "
        "section.</p>"
    )
    seg_note = f'<p class="muted">{escape(segments_note)}</p>' if segments_note else ""
    timings = ", ".join(f"{a} {b:.1f}" for a, b in (res.protocol.get("timings_s") or {}).items())
    enc = f" · text encoder: {escape(res.encoder_line)}" if res.encoder_line else ""
    skipped = "".join(
        f"<li>{escape(a)}: {escape(b)}</li>" for a, b in res.protocol.get("skipped", {}).items()
    )
    fallback = res.encoder_fallback
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">protocol <b>{escape(str(res.protocol["name"]))}</b> · K={k} ·
{fmt(d.get("n_test_users"))} test users ({fmt(d.get("n_cold_users"))} cold) ·
hybrid segmentation: {escape(str(hseg))}{enc}</p>{warns}
<h2>Which method recommends best?</h2>{win}{chart}{methods_table(res, order, best)}
{settings_table(res, order)}
<h2>Cold and warm users</h2>{cw}
<h2>Is the difference real?</h2>{significance_table(res)}
<h2>Which way of segmenting helps most?</h2>{_seg_chart(res)}{seg_table(res, k)}
{_variants_html(res, top)}
<h2>Fairness across segments</h2>{period}{fair_html or "<p class='muted'>n/a</p>"}
<h2>Map of users</h2>{map_html or "<p class='muted'>n/a</p>"}
<h2>Segments</h2>{seg_note}{cards or "<p class='muted'>n/a</p>"}
{_examples_section(examples, train_names)}
<h2>Data and run</h2><p class="muted">{escape(str(d.get("name", "")))}: what was loaded, and
what the evaluation kept of it in each period.</p>{data_table(res)}
{f'<p class="muted">text encoder: {escape(fallback)}</p>' if fallback else ""}
{f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else ""}
<p class="muted">seconds per step: {escape(timings)}</p>
</body></html>"""


def _examples_section(examples: list[dict[str, Any]] | None, train_names: dict[str, str]) -> str:
    """The example users, each named by their segment among the cards (training period);
    the served model's segment follows where its name differs."""
    if not examples:
        return ""
    shown = []
    for e in examples:
        served = e.get("segment")
        mine = train_names.get(str(e["user_id"]))
        shown.append(
            {
                **e,
                "segment": mine or "not in the training period",
                "served_segment": served if served and served != mine else None,
            }
        )
    return (
        "<h2>What users see</h2><p class='muted'>The served hybrid's lists (refit on all "
        "data) for a few users from different segments, cold ones (at most two items) first "
        "where the data has any: what they had, what comes next and the reason each item "
        "gives. Each user's segment is theirs among the cards above (training period); where "
        "the served model, refit on all data, puts them in a segment named differently, that "
        "name follows (the reasons quote it).</p>" + examples_html(shown)
    )


def write_report(
    res: EvalResult,
    out_dir: str | Path,
    profiles: Mapping[int, Mapping[str, Any]] | None = None,
    segments_note: str | None = None,
    examples: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``report.html`` and ``summary.md`` into ``out_dir``; returns the HTML path."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    html_path = d / "report.html"
    page = render_html(res, profiles, segments_note=segments_note, examples=examples)
    html_path.write_text(page, encoding="utf-8")
    (d / "summary.md").write_text(render_markdown(res), encoding="utf-8")
    return html_path
