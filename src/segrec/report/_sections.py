"""The segment sections of the report: the segmentation table, fairness and the cards."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from segrec.evaluate import EvalResult
from segrec.report._rank import fmt, fmt_ci

__all__ = ["cards_html", "fairness_table", "seg_table"]


def seg_table(res: EvalResult, k: int) -> str:
    m = f"ndcg@{k}"
    truth = any("ari_truth" in v for v in res.segmentations.values())
    head = (
        "<tr><th>segmentation</th><th>k</th><th>silhouette</th><th>stability</th>"
        + ("<th>ARI vs truth</th>" if truth else "")
        + f"<th>segment popularity NDCG@{k}</th><th>95% CI</th><th>hybrid NDCG@{k}</th>"
        "<th>95% CI</th><th>hybrid cold</th><th>fairness gap (max-min)</th><th>min/max</th></tr>"
    )
    body = []
    for name, v in res.segmentations.items():
        sp_, hy = v.get("segment_pop", {}), v.get("hybrid", {})
        fair = (hy or sp_).get("fairness", {}) if (hy or sp_) else {}
        body.append(
            f"<tr><td>{escape(name)}</td><td>{v.get('k')}</td><td>{fmt(v.get('silhouette'), 3)}"
            f"</td><td>{fmt(v.get('stability'), 3)}</td>"
            + (f"<td>{fmt(v.get('ari_truth'), 3)}</td>" if truth else "")
            + f"<td>{fmt(sp_.get(m))}</td><td>{fmt_ci(sp_.get(m + '_ci'))}</td>"
            f"<td>{fmt(hy.get(m))}</td><td>{fmt_ci(hy.get(m + '_ci'))}</td>"
            f"<td>{fmt(hy.get(m + '_cold'))}</td><td>{fmt(fair.get('gap'))}</td>"
            f"<td>{fmt(fair.get('ratio'), 3)}</td></tr>"
        )
    note = (
        '<p class="muted">stability: adjusted Rand index between the segments built on the '
        "tuning period and on the whole training period (users in both); 1 = unchanged by the "
        "refresh, 0 = chance. Random (hash of the user id) and demographic segments do not "
        "move by construction: stability says nothing about usefulness on its own.</p>"
    )
    return f'<div class="wide"><table>{head}{"".join(body)}</table></div>{note}'


def fairness_table(res: EvalResult, k: int, names: Mapping[int, str]) -> str:
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
        f"<tr><td>{escape(name)}</td><td>{fmt(res.methods[name].get(m))}</td>"
        f"<td>{fmt(f['min'])} ({escape(seg_names.get(f['worst'], f['worst']))})</td>"
        f"<td>{fmt(f['max'])} ({escape(seg_names.get(f['best'], f['best']))})</td>"
        f"<td>{fmt(gap)}</td><td>{fmt(f['ratio'], 3)}</td></tr>"
        for gap, name, f, seg_names in sorted(rows, key=lambda r: (r[0], r[1]))
    )
    hseg = escape(str(res.protocol.get("hybrid_segmentation")))
    least = res.config.min_segment_users if res.config else 1
    return (
        f'<p class="muted">Every method on the same segments ({hseg}; segments with at least '
        f"{least} test users), the most even first:</p>"
        f'<div class="wide"><table><tr><th>method</th><th>NDCG@{k}</th><th>worst segment</th>'
        f"<th>best segment</th><th>gap (max-min)</th><th>min/max</th></tr>{body}</table></div>"
    )


def _card(c: dict[str, Any]) -> str:
    rev = "".join(f"<blockquote>{escape(r[:300])}</blockquote>" for r in c["reviews"])
    rules = "".join(f"<li>{escape(str(r))}</li>" for r in c["rules"])
    if rules:
        rules = f"<p><b>Rules:</b></p><ul>{rules}</ul>"
    elif c.get("rules_note"):
        rules = f'<p><b>Rules:</b> <span class="muted">{escape(c["rules_note"])}.</span></p>'
    note = f'<p class="muted">{escape(c["note"])}.</p>' if c.get("note") else ""
    return (
        f'<div class="card"><h3>{escape(str(c["name"]))}</h3>'
        f'<div class="muted">segment {c["segment"]} · {c["size"]:,} users</div>{note}'
        + (  # data without text has no keywords: no empty line for them
            f"<p><b>Keywords:</b> {escape(', '.join(map(str, c['keywords'])))}</p>"
            if c["keywords"]
            else ""
        )
        + (
            f"<p><b>Top items</b> <span class='muted'>(members who chose each)</span>: "
            f"{escape('; '.join(c['top_items']))}</p>"
            if c["top_items"]
            else "<p><b>Top items:</b> <span class='muted'>none chosen by enough members to "
            "name</span></p>"
        )
        + rules
        + (f"<p><b>Representative {c.get('reviews_are', 'reviews')}:</b></p>{rev}" if rev else "")
        + "</div>"
    )


def cards_html(cards: list[dict[str, Any]]) -> str:
    return f'<div class="cards">{"".join(_card(c) for c in cards)}</div>'
