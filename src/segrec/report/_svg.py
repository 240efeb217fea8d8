"""Tiny inline-SVG charts (no JavaScript, no network): bars with CI whiskers and a scatter.

Every label is shown whole (wrapped at spaces onto up to three lines, the left margin widened
to fit) and carries its full text in a ``<title>`` (the browser's hover). Every colour a chart
uses has a legend entry; legend swatches have ``class="key"`` and data marks ``class="mark"``,
so a test can check that no colour goes unexplained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

__all__ = ["PALETTE", "bar_chart", "grouped_bars", "scatter", "wrap"]

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
BASE = "#4e79a7"
_CH = 7.6  # width of one character at font-size 12 (DejaVu Sans, wide letters), generous


def _fmt(v: float | None) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.4f}"


def wrap(text: str, chars: int, max_lines: int = 3) -> list[str]:
    """``text`` in lines of at most ``chars`` characters, broken at spaces only (a word longer
    than a line keeps its own line whole); more than ``max_lines`` lines are joined back into
    the last one, so no word is ever cut."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return lines or [""]


def _label(x: float, y: float, lines: list[str], anchor: str = "end", size: int = 12) -> str:
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else size + 2}">{escape(t)}</tspan>'
        for i, t in enumerate(lines)
    )
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">{spans}</text>'


def _margin(labels: Sequence[str], width: int) -> tuple[int, int]:
    """Left margin (px) and characters per line for the labels: as wide as the longest one
    needs, up to 40% of the chart; longer ones wrap."""
    longest = max((len(str(x)) for x in labels), default=4)
    chars = int(min(longest, max(14, 0.4 * width / _CH)))
    return int(chars * _CH) + 12, chars


def _legend(entries: Sequence[tuple[str, str]], x: float, y: float) -> tuple[str, float]:
    """Swatches in a row from (x, y); returns the SVG and the x where it ends."""
    parts = []
    for color, text in entries:
        parts.append(
            f'<rect class="key" x="{x:.1f}" y="{y}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14:.1f}" y="{y + 9}" font-size="11">{escape(text)}</text>'
        )
        x += 30 + len(text) * 6.2
    return "".join(parts), x


def _whisker(x0: float, x1: float, yc: float) -> str:
    return (
        f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{yc:.1f}" y2="{yc:.1f}" stroke="#222"/>'
        f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{yc - 4:.1f}" y2="{yc + 4:.1f}" stroke="#222"/>'
        f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="{yc - 4:.1f}" y2="{yc + 4:.1f}" stroke="#222"/>'
    )


def _pair(ci: Sequence[float | None] | None) -> tuple[float, float] | None:
    """A usable [lo, hi] as floats, or None."""
    if not ci or ci[0] is None or ci[1] is None:
        return None
    lo, hi = float(ci[0]), float(ci[1])
    return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) else None


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    cis: Sequence[Sequence[float | None] | None] | None = None,
    title: str = "",
    colors: Mapping[str, tuple[str, str]] | None = None,
    legend: str = "",
    width: int = 760,
) -> str:
    """Horizontal bars, one per label, in the given order, with optional [lo, hi] whiskers.

    ``colors`` maps a label to (colour, legend text) for bars drawn apart (the winner, the
    served method); every other bar is drawn in one colour, whose legend text is ``legend``.
    """
    colors = dict(colors or {})
    left, chars = _margin(labels, width)
    right = 70
    wrapped = [wrap(str(lab), chars) for lab in labels]
    rows = [max(22, 14 * len(w) + 8) for w in wrapped]
    vals = [v if v is not None and np.isfinite(v) else 0.0 for v in values]
    his = [p[1] for p in map(_pair, cis or []) if p is not None]
    scale = (width - left - right) / max([*vals, *his, 1e-9])
    used = {colors[str(lab)] for lab in labels if str(lab) in colors}
    keys = sorted(used, key=lambda c: c[1])
    if any(str(lab) not in colors for lab in labels) and (keys or legend):
        keys.append((BASE, legend or "other"))
    if cis:
        keys.append(("#222", "95% interval"))
    legend_svg, _ = _legend(keys, 4, 24)
    top = 42
    h = top + sum(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        legend_svg,
    ]
    y = top
    for i, (lab, v) in enumerate(zip(labels, vals, strict=True)):
        row = rows[i]
        color = colors.get(str(lab), (BASE, ""))[0]
        ci = _pair(cis[i]) if cis else None
        tip = f"{lab}: {_fmt(values[i])}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")
        first = y + row / 2 + 4 - 7 * (len(wrapped[i]) - 1)
        parts.append(f"<g><title>{escape(tip)}</title>")
        parts.append(_label(left - 6, first, wrapped[i]))
        parts.append(
            f'<rect class="mark" x="{left}" y="{y + row / 2 - 7:.1f}" width="{v * scale:.1f}" '
            f'height="14" fill="{color}"/>'
        )
        end = v * scale
        if ci is not None:
            x0, x1 = left + ci[0] * scale, left + ci[1] * scale
            parts.append(_whisker(x0, x1, y + row / 2))
            end = max(end, x1 - left)
        parts.append(
            f'<text x="{left + end + 6:.1f}" y="{y + row / 2 + 4:.1f}" font-size="11">'
            f"{_fmt(values[i])}</text></g>"
        )
        y += row
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str = "",
    cis: Mapping[str, Sequence[Sequence[float | None] | None]] | None = None,
    width: int = 760,
) -> str:
    """Horizontal grouped bars: for each label one bar per series (e.g. cold and warm), each
    with its 95% interval when ``cis`` (series -> one [lo, hi] per label) is given."""
    s = len(series)
    left, chars = _margin(labels, width)
    sub, right = 14, 70
    wrapped = [wrap(str(lab), chars) for lab in labels]
    rows = [max(sub * s + 10, 14 * len(w) + 8) for w in wrapped]
    allv = [v for vs in series.values() for v in vs if v is not None and np.isfinite(v)]
    allv += [p[1] for cs in (cis or {}).values() for p in map(_pair, cs) if p is not None]
    scale = (width - left - right) / max([*allv, 1e-9])
    keys = [(PALETTE[j], name) for j, name in enumerate(series)]
    if cis:
        keys.append(("#222", "95% interval"))
    legend_svg, _ = _legend(keys, 4, 24)
    top = 42
    h = top + sum(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
        f'viewBox="0 0 {width} {h}" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        legend_svg,
    ]
    y = top
    for i, lab in enumerate(labels):
        row = rows[i]
        first = y + row / 2 + 4 - 7 * (len(wrapped[i]) - 1)
        parts.append(f"<g><title>{escape(str(lab))}</title>{_label(left - 6, first, wrapped[i])}")
        y0 = y + (row - sub * s) / 2
        for j, (name, vs) in enumerate(series.items()):
            v = vs[i]
            w = (v if v is not None and np.isfinite(v) else 0.0) * scale
            yy = y0 + j * sub
            ci = _pair((cis or {}).get(name, [None] * len(labels))[i])
            end = w
            parts.append(
                f'<rect class="mark" x="{left}" y="{yy:.1f}" width="{w:.1f}" height="{sub - 3}" '
                f'fill="{PALETTE[j]}"><title>{escape(str(lab))} {escape(name)}: {_fmt(v)}'
                + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")
                + "</title></rect>"
            )
            if ci is not None:
                x0, x1 = left + ci[0] * scale, left + ci[1] * scale
                parts.append(_whisker(x0, x1, yy + (sub - 3) / 2))
                end = max(end, x1 - left)
            parts.append(
                f'<text x="{left + end + 4:.1f}" y="{yy + sub - 4:.1f}" font-size="10">'
                f"{_fmt(v)}</text>"
            )
        parts.append("</g>")
        y += row
    parts.append("</svg>")
    return "".join(parts)


def scatter(
    xy: np.ndarray,
    labels: np.ndarray,
    names: Mapping[int, str],
    title: str = "",
    axes: Sequence[str] = ("", ""),
    width: int = 920,
    height: int = 620,
) -> str:
    """2-D points coloured by segment, with labelled axes and a legend of whole names."""
    xy = np.asarray(xy, dtype=float)
    segs = sorted({int(v) for v in labels})
    color = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(segs)}
    legend_w, chars = 250, 26
    left, top, bottom = 46, 30, 46
    pw, ph = width - legend_w - left - 16, height - top - bottom
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    px = left + (xy[:, 0] - lo[0]) / span[0] * pw
    py = top + (1 - (xy[:, 1] - lo[1]) / span[1]) * ph
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>',
        f'<text x="{left + pw / 2:.1f}" y="{height - 12}" font-size="12" '
        f'text-anchor="middle">{escape(axes[0])}</text>',
        f'<text x="14" y="{top + ph / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + ph / 2:.1f})">{escape(axes[1])}</text>',
    ]
    for x, y, lab in zip(px, py, labels, strict=True):
        parts.append(
            f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="{color[int(lab)]}" '
            f'fill-opacity="0.7"/>'
        )
    y = top + 4
    lx = width - legend_w + 4
    for s in segs:
        nm = names.get(s, f"segment {s}")
        lines = wrap(nm, chars)
        parts.append(
            f"<g><title>{escape(nm)}</title>"
            f'<rect class="key" x="{lx}" y="{y}" width="12" height="12" fill="{color[s]}"/>'
            + _label(lx + 18, y + 10, lines, anchor="start", size=13)
            + "</g>"
        )
        y += 15 * len(lines) + 8
    parts.append("</svg>")
    return "".join(parts)
