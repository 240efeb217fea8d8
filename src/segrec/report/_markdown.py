"""The Markdown summary: the same ranking, winner sentence and number formats as the HTML."""

from __future__ import annotations

from segrec.evaluate import EvalResult
from segrec.report._rank import fmt, fmt_ci, ranking, variants, winner
from segrec.report._tables import COMPARISON_HEADS, comparison_cells, cost_text

__all__ = ["render_markdown"]


def _method_rows(res: EvalResult, names: list[str], k: int) -> list[str]:
    m = f"ndcg@{k}"
    out = []
    for n in names:
        v = res.methods[n]
        gap = ((v.get("per_segment") or {}).get("fairness") or {}).get("gap")
        out.append(
            f"| {n} | {fmt(v.get(m))} | {fmt_ci(v.get(m + '_ci'))} | "
            f"{fmt(v.get(m + '_cold'))} | {fmt(v.get(m + '_warm'))} | "
            f"{fmt(v.get(f'recall@{k}'))} | {fmt(v.get(f'coverage@{k}'))} | {fmt(gap)} | "
            f"{cost_text(v)} |"
        )
    return out


def render_markdown(res: EvalResult) -> str:
    """A short Markdown summary: counts, warnings, the winner, the method table (ranked as in
    the HTML), the variants on other segmentations, segmentations and paired comparisons."""
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    d = res.dataset
    lines = [
        f"# segrec evaluation: {d.get('name')}",
        "",
        f"Protocol **{res.protocol['name']}**, K={k}: {fmt(d.get('n_test_users'))} test users "
        f"({fmt(d.get('n_cold_users'))} cold, {fmt(d.get('n_warm_users'))} warm).",
        "",
    ]
    if res.encoder_line:
        fallback = res.encoder_fallback
        lines[-1:] = [
            f"Text encoder: {res.encoder_line}" + (f"; {fallback}." if fallback else "."),
            "",
        ]
    lines += [f"> **Warning:** {w}" for w in res.warnings]
    top = winner(res)
    if top:
        lines += ["", f"**{top['sentence']}**"]
    head = (
        f"| {{}} | {m} | 95% CI | cold | warm | recall@{k} | coverage@{k} | "
        f"gap across {res.protocol.get('hybrid_segmentation')} segments | cost |"
    )
    lines += ["", head.format("method"), "|---|---|---|---|---|---|---|---|---|"]
    lines += _method_rows(res, ranking(res), k)
    var = variants(res)
    if var:
        lines += ["", head.format("method:segmentation"), "|---|---|---|---|---|---|---|---|---|"]
        lines += _method_rows(res, var, k)
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
            f"| {n} | {v.get('k')} | {fmt(v.get('silhouette'), 3)} | "
            f"{fmt(v.get('stability'), 3)} | {fmt(sp_.get(m))} | {fmt(hy.get(m))} | "
            f"{fmt(fair.get('gap'))} | {fmt(fair.get('ratio'), 3)} |"
        )
    tests = {key: v for key, v in res.significance.items() if isinstance(v, dict)}
    if tests:
        lines += [
            "",
            f"| comparison | {' | '.join(COMPARISON_HEADS)} |",
            "|---" * (len(COMPARISON_HEADS) + 1) + "|",
        ]
        for key, sig in tests.items():
            slice_ = " (cold users)" if key.endswith("_cold") else ""
            cells = " | ".join(comparison_cells(sig))
            lines.append(f"| {sig['a']} vs {sig['b']}{slice_} | {cells} |")
    return "\n".join(lines) + "\n"
