"""EvalResult + segments -> a self-contained HTML report and a Markdown summary.

The HTML embeds its CSS and draws every chart as inline SVG, so it opens offline with no
script or stylesheet fetched from anywhere. One ranking (:func:`ranking`) orders the methods in
every chart, table and sentence of both.
"""

from segrec.report._cards import profile_fields, rule_line, segment_cards, user_map
from segrec.report._examples import example_lists, examples_html
from segrec.report._html import render_html, write_report
from segrec.report._markdown import render_markdown
from segrec.report._rank import fmt_p, ranking, winner

__all__ = [
    "example_lists",
    "examples_html",
    "fmt_p",
    "profile_fields",
    "ranking",
    "render_html",
    "render_markdown",
    "rule_line",
    "segment_cards",
    "user_map",
    "winner",
    "write_report",
]
