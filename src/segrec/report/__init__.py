"""EvalResult + segments -> a self-contained HTML report and a Markdown summary.

The HTML embeds its CSS and draws every chart as inline SVG, so it opens offline with no
script or stylesheet fetched from anywhere.
"""

from segrec.report._cards import segment_cards, user_map
from segrec.report._examples import example_lists, examples_html
from segrec.report._html import render_html, render_markdown, write_report

__all__ = [
    "example_lists",
    "examples_html",
    "render_html",
    "render_markdown",
    "segment_cards",
    "user_map",
    "write_report",
]
