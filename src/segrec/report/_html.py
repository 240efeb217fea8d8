"""The self-contained HTML report and its Markdown summary (no CDN, no external links)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from segrec.evaluate import EvalResult
from segrec.report._cards import segment_cards, user_map
from segrec.report._examples import examples_html
from segrec.report._svg import bar_chart, grouped_bars, scatter

__all__ = ["render_html", "render_markdown", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1320px;color:#222;padding:0 16px}
.wide{overflow-x:auto}svg{max-width:100%;height:auto}
h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td{white-space:nowrap}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.warn{background:#fff4e5;border-left:4px solid #f28e2b;padding:8px 12px;margin:8px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;font-size:13px}
td.params{text-align:left;font-size:12px;white-space:normal}.card h3{margin:4px 0}.muted{color:#777}.best{font-weight:bold;color:#0a6}
blockquote{margin:4px 0;padding-left:8px;border-left:3px solid #ccc;color:#555}
"""


def _f(v: Any, nd: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"  # counts: 1,322 test users
    return escape(str(v))


def _ci(ci: Any) -> str:
    if not ci or ci[0] is None:
        return "n/a"
    return f"[{ci[0]:.4f}, {ci[1]:.4f}]"


def _ratio(sig: dict[str, Any]) -> str:
    from segrec.evaluate._stats import ratio_text

    return ratio_text(sig) or "n/a"


def _cost(v: dict[str, Any]) -> str:
    """What a method cost: its seconds (all phases) and the process's peak memory."""
    from segrec._progress import format_seconds

    c = v.get("cost") or {}
    if c.get("seconds") is None:
        return "n/a"
    peak = c.get("peak_mb")
    mem = (
        ""
        if peak is None
        else (f" · {peak / 1000:.1f} GB" if peak >= 1000 else f" · {peak:.0f} MB")
    )
    took = "<1s" if c["seconds"] < 1 else format_seconds(c["seconds"])
    return f"{took}{mem}"


def _methods_table(res: EvalResult, k: int) -> str:
    m = f"ndcg@{k}"
    rows = sorted(res.methods.items(), key=lambda kv: -(kv[1].get(m) or 0.0))
    best = rows[0][0] if rows else None
    head = (
        f"<tr><th>method</th><th>NDCG@{k}</th><th>95% CI</th><th>cold</th><th>warm</th>"
        f"<th>Recall@{k}</th><th>Prec@{k}</th><th>HR@{k}</th><th>MAP@{k}</th>"
        f"<th>Cov@{k}</th><th>Novelty</th><th>Diversity</th><th>users (cold)</th>"
        '<th title="seconds of tuning, refit, scoring and metrics; peak memory of the process">'
        "cost</th></tr>"
    )
    body, params_rows = [], []
    for name, v in rows:
        cls = ' class="best"' if name == best else ""
        params = ", ".join(f"{a}={b}" for a, b in (v.get("params") or {}).items() if a != "model")
        if params:
            params_rows.append(
                f'<tr><td>{escape(name)}</td><td class="params muted">{escape(params)}</td></tr>'
            )
        body.append(
            f"<tr><td{cls}>{escape(name)}</td><td>{_f(v.get(m))}</td><td>{_ci(v.get(m + '_ci'))}"
            f"</td><td>{_f(v.get(m + '_cold'))}</td><td>{_f(v.get(m + '_warm'))}</td>"
            f"<td>{_f(v.get(f'recall@{k}'))}</td><td>{_f(v.get(f'precision@{k}'))}</td>"
            f"<td>{_f(v.get(f'hr@{k}'))}</td><td>{_f(v.get(f'map@{k}'))}</td>"
            f"<td>{_f(v.get(f'coverage@{k}'))}</td><td>{_f(v.get(f'novelty@{k}'), 2)}</td>"
            f"<td>{_f(v.get(f'diversity@{k}'), 3)}</td>"
            f"<td>{_f(v.get('n_users'))} ({_f(v.get('n_cold'))})</td>"
            f'<td class="muted">{escape(_cost(v))}</td></tr>'
        )
    chosen = (
        f"<details><summary>Settings of each method (chosen on validation)</summary><table>"
        f"<tr><th>method</th><th>settings</th></tr>{''.join(params_rows)}</table></details>"
        if params_rows
        else ""
    )
    return f'<div class="wide"><table>{head}{"".join(body)}</table></div>{chosen}'


def _seg_table(res: EvalResult, k: int) -> str:
    m = f"ndcg@{k}"
    truth = any("ari_truth" in v for v in res.segmentations.values())
    head = (
        "<tr><th>segmentation</th><th>k</th><th>silhouette</th><th>stability</th>"
        + ("<th>ARI vs truth</th>" if truth else "")
        + f"<th>segment_pop {m}</th><th>95% CI</th><th>hybrid {m}</th><th>hybrid cold</th>"
        "<th>fairness gap (max-min)</th><th>min/max</th></tr>"
    )
    body = []
    for name, v in res.segmentations.items():
        sp_, hy = v.get("segment_pop", {}), v.get("hybrid", {})
        fair = (hy or sp_).get("fairness", {}) if (hy or sp_) else {}
        body.append(
            f"<tr><td>{escape(name)}</td><td>{v.get('k')}</td><td>{_f(v.get('silhouette'), 3)}"
            f"</td><td>{_f(v.get('stability'), 3)}</td>"
            + (f"<td>{_f(v.get('ari_truth'), 3)}</td>" if truth else "")
            + f"<td>{_f(sp_.get(m))}</td>"
            f"<td>{_ci(sp_.get(m + '_ci'))}</td><td>{_f(hy.get(m))}</td>"
            f"<td>{_f(hy.get(m + '_cold'))}</td><td>{_f(fair.get('gap'))}</td>"
            f"<td>{_f(fair.get('ratio'), 3)}</td></tr>"
        )
    note = (
        '<p class="muted">stability: adjusted Rand index between the segments built on the '
        "tuning period and on the whole training period (users in both); 1 = unchanged by the "
        "refresh, 0 = chance. Random (hash of the user id) and demographic segments do not "
        "move by construction: stability says nothing about usefulness on its own.</p>"
    )
    return f'<div class="wide"><table>{head}{"".join(body)}</table></div>{note}'


def _fairness_table(res: EvalResult, k: int, names: Mapping[int, str]) -> str:
    """Every method's NDCG gap over the hybrid's segments, most even first."""
    m = f"ndcg@{k}"
    rows = []
    for name, v in res.methods.items():
        f = (v.get("per_segment") or {}).get("fairness") or {}
        if f.get("gap") is None:
            continue
        seg_names = {
            p["name"]: names.get(p["segment"], p["name"]) for p in v["per_segment"]["segments"]
        }
        rows.append((f["gap"], name, f, seg_names))
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{escape(name)}</td><td>{_f(res.methods[name].get(m))}</td>"
        f"<td>{_f(f['min'])} ({escape(seg_names.get(f['worst'], f['worst']))})</td>"
        f"<td>{_f(f['max'])} ({escape(seg_names.get(f['best'], f['best']))})</td>"
        f"<td>{_f(gap)}</td><td>{_f(f['ratio'], 3)}</td></tr>"
        for gap, name, f, seg_names in sorted(rows, key=lambda r: r[0])
    )
    return (
        f'<p class="muted">Every method on the same segments ({escape(str(res.protocol.get("hybrid_segmentation")))}'
        f"; segments with at least {res.config.min_segment_users if res.config else 1} test users), "
        "the most even first:</p>"
        f'<div class="wide"><table><tr><th>method</th><th>{m}</th><th>worst segment</th>'
        f"<th>best segment</th><th>gap (max-min)</th><th>min/max</th></tr>{body}</table></div>"
    )


def _comparison_cells(sig: dict[str, Any]) -> list[str]:
    """A paired comparison's figures, in the order of ``_COMPARISON_HEADS``."""
    return [
        _f(sig["n_users"]),
        _f(sig.get("mean_diff")),
        _ci(sig.get("diff_ci")),
        _ratio(sig),
        _f(sig.get("p_bootstrap"), 3),
        _f(sig.get("p_bootstrap_holm"), 3),
        _f(sig.get("p_wilcoxon"), 3),
    ]


_COMPARISON_HEADS = [
    "users",
    "mean diff",
    "95% CI",
    "ratio [95% CI]",
    "p (bootstrap)",
    "p (Holm)",
    "p (Wilcoxon)",
]


def _significance(res: EvalResult) -> str:
    items = []
    for key, v in res.significance.items():
        if not isinstance(v, dict):
            continue
        cells = "".join(f"<td>{c}</td>" for c in _comparison_cells(v))
        items.append(
            f"<tr><td>{escape(v['a'])} vs {escape(v['b'])}</td>{cells}"
            f"<td>{'cold users' if key.endswith('_cold') else 'all'}</td></tr>"
        )
    if not items:
        return "<p class='muted'>No paired comparison could be made.</p>"
    return (
        '<div class="wide"><table><tr><th>comparison</th>'
        + "".join(f"<th>{h}</th>" for h in _COMPARISON_HEADS)
        + "<th>slice</th></tr>"
        + "".join(items)
        + '</table></div><p class="muted">p (Holm): the bootstrap p-value adjusted for the '
        "comparisons in this table (Holm-Bonferroni), so that below 0.05 means significant "
        "with at most a 5% chance of any false positive among them. Ratio: the first "
        "method's mean over the second's, with its interval from the same paired resamples "
        "of users.</p>"
    )


def _cards_html(cards: list[dict[str, Any]]) -> str:
    out = []
    for c in cards:
        rev = "".join(f"<blockquote>{escape(r[:300])}</blockquote>" for r in c["reviews"])
        rules = "".join(f"<li>{escape(str(r))}</li>" for r in c["rules"])
        if rules:
            rules = f"<p><b>Rules:</b></p><ul>{rules}</ul>"
        elif c.get("rules_note"):
            rules = f'<p><b>Rules:</b> <span class="muted">{escape(c["rules_note"])}.</span></p>'
        out.append(
            f'<div class="card"><h3>{escape(str(c["name"]))}</h3>'
            f'<div class="muted">segment {c["segment"]} · {c["size"]} users</div>'
            + (  # data without text has no keywords: no empty line for them
                f"<p><b>Keywords:</b> {escape(', '.join(map(str, c['keywords'])))}</p>"
                if c["keywords"]
                else ""
            )
            + f"<p><b>Top items:</b> {escape('; '.join(c['top_items']) or 'n/a')}</p>"
            + rules
            + (
                f"<p><b>Representative {c.get('reviews_are', 'reviews')}:</b></p>{rev}"
                if rev
                else ""
            )
            + "</div>"
        )
    return f'<div class="cards">{"".join(out)}</div>'


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
    m = f"ndcg@{k}"
    d = res.dataset
    title = title or f"segrec evaluation: {d.get('name', 'dataset')}"
    warns = "".join(f'<div class="warn">⚠ {escape(w)}</div>' for w in res.warnings)
    order = sorted(res.methods, key=lambda n: -(res.methods[n].get(m) or 0.0))
    main = [n for n in order if ":" not in n]
    chart = bar_chart(
        main,
        [res.methods[n].get(m) for n in main],
        [res.methods[n].get(m + "_ci") for n in main],
        f"Test {m} with 95% bootstrap CI",
        highlight=["hybrid"],
    )
    cw = grouped_bars(
        main,
        {
            "cold": [res.methods[n].get(m + "_cold") for n in main],
            "warm": [res.methods[n].get(m + "_warm") for n in main],
        },
        f"{m}: cold (≤2 train interactions) vs warm users",
    )
    segs = [s for s, v in res.segmentations.items() if "segment_pop" in v]
    seg_chart = bar_chart(
        segs,
        [res.segmentations[s]["segment_pop"].get(m) for s in segs],
        [res.segmentations[s]["segment_pop"].get(m + "_ci") for s in segs],
        f"segment_pop {m} by segmentation",
    )
    hseg = res.protocol.get("hybrid_segmentation")
    fair_html, map_html, cards_html = "", "", ""
    arts = res.artifacts
    if hseg and arts is not None and hseg in arts.segmentations:
        seg = arts.segmentations[hseg]
        # the profiles' readable names where the segmenter gave none ("segment 3")
        names = {
            int(c): (profiles or {}).get(int(c), {}).get("name") or seg.names.get(int(c), f"{c}")
            for c in np.unique(seg.labels)
        }
        row = res.segmentations.get(hseg, {}).get("hybrid") or {}
        ps = row.get("per_segment", [])
        if ps:
            fair_html = bar_chart(
                [f"{names.get(p['segment'], p['name'])} ({p['n']})" for p in ps],
                [p[m] for p in ps],
                [p.get(f"{m}_ci") for p in ps],
                title=f"hybrid {m} per {hseg} segment, 95% CI (test users in brackets)",
            )
        fair_html += _fairness_table(res, k, names)
        um = user_map(res, seg)
        if um is not None:
            map_html = scatter(um[0], um[1], names, f"Users (PCA of features) by {hseg} segment")
        cards_html = _cards_html(segment_cards(res, seg, profiles))
    counts = "".join(
        f"<tr><td>{escape(a)}</td><td>{b:,}</td></tr>"
        for a, b in d.items()
        if isinstance(b, int) and not isinstance(b, bool)
    )
    skipped = "".join(
        f"<li>{escape(a)}: {escape(b)}</li>" for a, b in res.protocol.get("skipped", {}).items()
    )
    timings = ", ".join(f"{a} {b:.1f}" for a, b in (res.protocol.get("timings_s") or {}).items())
    enc = f" · text encoder: {escape(res.encoder_line)}" if res.encoder_line else ""
    seg_note = f'<p class="muted">{escape(segments_note)}</p>' if segments_note else ""
    fallback = res.encoder_fallback
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title><style>{_CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">protocol <b>{escape(str(res.protocol["name"]))}</b> · K={k} ·
{_f(d.get("n_test_users"))} test users ({_f(d.get("n_cold_users"))} cold) ·
hybrid segmentation: {escape(str(hseg))}{enc}</p>{warns}
<h2>Which method recommends best?</h2>{chart}{_methods_table(res, k)}
<h2>Cold and warm users</h2>{cw}
<h2>Is the difference real?</h2>{_significance(res)}
<h2>Which way of segmenting helps most?</h2>{seg_chart}{_seg_table(res, k)}
<h2>Fairness across segments</h2>{fair_html or "<p class='muted'>n/a</p>"}
<h2>Map of users</h2>{map_html or "<p class='muted'>n/a</p>"}
<h2>Segments</h2>{seg_note}{cards_html or "<p class='muted'>n/a</p>"}
{_examples_section(examples)}
<h2>Data and run</h2><p class="muted">{escape(str(d.get("name", "")))}: counts after
deduplication and the split (keys as in results.json)</p><table>{counts}</table>
{f'<p class="muted">text encoder: {escape(fallback)}</p>' if fallback else ""}
{f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else ""}
<p class="muted">seconds: {escape(timings)}</p>
</body></html>"""


def _examples_section(examples: list[dict[str, Any]] | None) -> str:
    if not examples:
        return ""
    return (
        "<h2>What users see</h2><p class='muted'>The served hybrid's lists (refit on all "
        "data) for a few users from different segments, cold ones (at most two items) first "
        "where the data has any: what they had, what comes next and the reason each item "
        "gives.</p>" + examples_html(examples)
    )


def render_markdown(res: EvalResult) -> str:
    """A short Markdown summary: counts, warnings, the method table and the segmentation table."""
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    d = res.dataset
    lines = [
        f"# segrec evaluation: {d.get('name')}",
        "",
        f"Protocol **{res.protocol['name']}**, K={k}: {_f(d.get('n_test_users'))} test users "
        f"({_f(d.get('n_cold_users'))} cold, {_f(d.get('n_warm_users'))} warm).",
        "",
    ]
    if res.encoder_line:
        fallback = res.encoder_fallback
        lines[-1:] = [
            f"Text encoder: {res.encoder_line}" + (f"; {fallback}." if fallback else "."),
            "",
        ]
    lines += [f"> **Warning:** {w}" for w in res.warnings]
    lines += [
        "",
        f"| method | {m} | 95% CI | cold | warm | recall@{k} | coverage@{k} | "
        f"gap across {res.protocol.get('hybrid_segmentation')} segments | cost |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, v in sorted(res.methods.items(), key=lambda kv: -(kv[1].get(m) or 0.0)):
        gap = ((v.get("per_segment") or {}).get("fairness") or {}).get("gap")
        lines.append(
            f"| {n} | {_f(v.get(m))} | {_ci(v.get(m + '_ci'))} | "
            f"{_f(v.get(m + '_cold'))} | {_f(v.get(m + '_warm'))} | "
            f"{_f(v.get(f'recall@{k}'))} | {_f(v.get(f'coverage@{k}'))} | {_f(gap)} | "
            f"{_cost(v)} |"
        )
    over = {
        n: why
        for n, why in (res.protocol.get("skipped") or {}).items()
        if "time budget" in str(why)
    }
    lines += ["", *(f"> **Skipped** {n}: {why}" for n, why in over.items())] if over else []
    lines += [
        "",
        f"| segmentation | k | silhouette | stability | segment_pop {m} | hybrid {m} | "
        "fairness gap | min/max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, v in res.segmentations.items():
        sp_, hy = v.get("segment_pop", {}), v.get("hybrid", {})
        fair = (hy or sp_ or {}).get("fairness", {})
        lines.append(
            f"| {n} | {v.get('k')} | {_f(v.get('silhouette'), 3)} | "
            f"{_f(v.get('stability'), 3)} | {_f(sp_.get(m))} | {_f(hy.get(m))} | "
            f"{_f(fair.get('gap'))} | {_f(fair.get('ratio'), 3)} |"
        )
    tests = {k: v for k, v in res.significance.items() if isinstance(v, dict)}
    if tests:
        lines += [
            "",
            f"| comparison | {' | '.join(_COMPARISON_HEADS)} |",
            "|---" * (len(_COMPARISON_HEADS) + 1) + "|",
        ]
        for key, sig in tests.items():
            slice_ = " (cold users)" if key.endswith("_cold") else ""
            cells = " | ".join(_comparison_cells(sig))
            lines.append(f"| {sig['a']} vs {sig['b']}{slice_} | {cells} |")
    return "\n".join(lines) + "\n"


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
