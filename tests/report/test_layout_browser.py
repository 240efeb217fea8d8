"""In a real browser at 1400 and 800 px, no chart text leaves its SVG (nothing clipped at an
edge, the way long segment names once were) and the page has no horizontal overflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segrec.evaluate import EvalResult
from segrec.report import render_html
from segrec.report._svg import bar_chart, scatter

CHROMIUM = Path("/usr/bin/chromium")
LONG = [
    "Mid-range cymbal pack shoppers (79 test users)",
    "Premium electric guitar lapsed buyers who also buy amps (55 test users)",
    "segment_pop",
    "pop",
]

_CLIPPED = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) out.push(t.textContent);
    }
  }
  return out;
}"""


def test_no_chart_text_is_clipped(res: EvalResult, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    names = {i: n for i, n in enumerate(LONG)}
    xy = np.random.default_rng(0).normal(size=(80, 2))
    extra = bar_chart(LONG, [0.39, 0.21, 0.3, 0.1], None, "per segment") + scatter(
        xy, np.arange(80) % 4, names, "map", axes=("discriminant 1", "discriminant 2")
    )
    page = render_html(res).replace("</body>", extra + "</body>")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            for width in (1400, 800):
                pg = b.new_page(viewport={"width": width, "height": 900})
                pg.goto(path.as_uri())
                assert pg.evaluate(_CLIPPED) == [], width
                assert pg.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            b.close()
