"""Tiny inline-SVG charts (no JavaScript, no network): bars with CI whiskers and a scatter."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

__all__ = ["PALETTE", "bar_chart", "grouped_bars", "scatter"]

PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#17becf",
]


def _fmt(v: float | None) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.4f}"


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    cis: Sequence[Sequence[float | None] | None] | None = None,
    title: str = "",
    highlight: Sequence[str] = (),
    width: int = 640,
) -> str:
    """Horizontal bars, one per label, with optional [lo, hi] whiskers."""
    n = len(labels)
    row, left, right = 22, 190, 70
    h = 30 + n * row
    vals = [v if v is not None and np.isfinite(v) else 0.0 for v in values]
    his = [c[1] for c in (cis or []) if c and c[1] is not None and np.isfinite(c[1])]
    vmax = max([*vals, *his, 1e-9])
    scale = (width - left - right) / vmax
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (lab, v) in enumerate(zip(labels, vals, strict=True)):
        y = 26 + i * row
        color = "#e15759" if lab in highlight else "#4e79a7"
        shown = str(lab) if len(str(lab)) <= 28 else str(lab)[:27] + "…"  # fits left of the bars
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(shown)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{v * scale:.1f}" height="{row - 8}" '
            f'fill="{color}"><title>{escape(str(lab))}: {_fmt(values[i])}</title></rect>'
        )
        ci = cis[i] if cis else None
        if ci and ci[0] is not None and ci[1] is not None and np.isfinite(ci[0]):
            x0, x1, yc = left + ci[0] * scale, left + ci[1] * scale, y + row / 2 - 1
            parts.append(
                f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{yc}" y2="{yc}" stroke="#222"/>'
                f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{yc - 4}" y2="{yc + 4}" '
                f'stroke="#222"/><line x1="{x1:.1f}" x2="{x1:.1f}" y1="{yc - 4}" '
                f'y2="{yc + 4}" stroke="#222"/>'
            )
        parts.append(
            f'<text x="{left + max(v * scale, (ci[1] if ci and ci[1] else 0) * scale) + 6:.1f}" '
            f'y="{y + 14}" font-size="11">{_fmt(values[i])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    title: str = "",
    width: int = 640,
) -> str:
    """Horizontal grouped bars: for each label one bar per series (e.g. cold and warm)."""
    n, s = len(labels), len(series)
    sub, left, right = 12, 190, 70
    row = sub * s + 8
    h = 46 + n * row
    allv = [v for vs in series.values() for v in vs if v is not None and np.isfinite(v)]
    scale = (width - left - right) / max([*allv, 1e-9])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
        f'viewBox="0 0 {width} {h}" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for j, name in enumerate(series):
        parts.append(
            f'<rect x="{left + j * 90}" y="24" width="10" height="10" '
            f'fill="{PALETTE[j]}"/><text x="{left + j * 90 + 14}" y="33" '
            f'font-size="11">{escape(name)}</text>'
        )
    for i, lab in enumerate(labels):
        y = 42 + i * row
        parts.append(
            f'<text x="{left - 6}" y="{y + row / 2 + 3}" font-size="12" '
            f'text-anchor="end">{escape(str(lab))}</text>'
        )
        for j, (name, vs) in enumerate(series.items()):
            v = vs[i]
            w = (v if v is not None and np.isfinite(v) else 0.0) * scale
            yy = y + j * sub
            parts.append(
                f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="{sub - 2}" '
                f'fill="{PALETTE[j]}"><title>{escape(str(lab))} {escape(name)}: '
                f'{_fmt(v)}</title></rect><text x="{left + w + 4:.1f}" '
                f'y="{yy + sub - 3}" font-size="10">{_fmt(v)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def scatter(
    xy: np.ndarray,
    labels: np.ndarray,
    names: dict[int, str],
    title: str = "",
    width: int = 640,
    height: int = 460,
) -> str:
    """2-D points coloured by segment, with a legend (points carry a tooltip)."""
    xy = np.asarray(xy, dtype=float)
    pad, legend = 20, 170
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    pw, ph = width - legend - 2 * pad, height - 2 * pad - 20
    px = pad + (xy[:, 0] - lo[0]) / span[0] * pw
    py = pad + 20 + (1 - (xy[:, 1] - lo[1]) / span[1]) * ph
    segs = sorted({int(v) for v in labels})
    color = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(segs)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for x, y, lab in zip(px, py, labels, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{color[int(lab)]}" '
            f'fill-opacity="0.75"/>'
        )
    for i, s in enumerate(segs):
        y = 34 + i * 18
        nm = names.get(s, f"segment {s}")
        parts.append(
            f'<rect x="{width - legend + 8}" y="{y}" width="10" height="10" '
            f'fill="{color[s]}"/><text x="{width - legend + 22}" y="{y + 9}" '
            f'font-size="11">{escape(nm[:24])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
