"""The report reads like a product (issue #23): one ranking everywhere, a winner sentence with
its interval, whole labels, a legend for every colour, p-values never "0.000", settings and
counts in words, and no segment card below the privacy thresholds. Fast: hand-made results."""

from __future__ import annotations

import re

import numpy as np

from segrec.evaluate import EvalResult
from segrec.evaluate._stats import paired_test
from segrec.report import fmt_p, ranking, render_html, render_markdown, winner
from segrec.report._svg import bar_chart, scatter


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end)]


def test_chart_and_table_rank_the_same_rows_the_same_way(res: EvalResult) -> None:
    html = render_html(res)
    top = _section(html, "Which method recommends best?", "Cold and warm users")
    chart = top[top.index("<svg") : top.index("</svg>")]
    in_chart = [t.split(":")[0] for t in re.findall(r"<g><title>([^<]+)</title>", chart)]
    table = top[top.index('<table class="methods">') :]
    in_table = re.findall(r"<tr><td class=\"muted\">\d+</td><td[^>]*>([^<]+)</td>", table)
    assert in_chart == in_table == ranking(res)
    assert in_table[0] == "segment_strategy" == winner(res)["best"]  # type: ignore[index]
    assert '<td class="best">segment_strategy</td>' in table and table.count('class="best"') == 1
    # the variant on another segmentation is no row of either, and the page says why
    assert "segment_pop:graph" not in in_chart + in_table
    assert "segment_pop:graph scores 0.3100" in html and "not the one chosen on" in html
    # the cold/warm chart follows the same order
    cw = _section(html, "Cold and warm users", "Is the difference")
    assert [t for t in re.findall(r"<g><title>([^<]+)</title>", cw)] == ranking(res)


def test_winner_sentence_names_method_margin_and_interval(res: EvalResult) -> None:
    w = winner(res)
    assert w is not None and w["runner_up"] == "hybrid"
    a, b = res.runs["segment_strategy"].per_user, res.runs["hybrid"].per_user
    t = paired_test(a["ndcg@10"].to_numpy(), b["ndcg@10"].to_numpy(), 1000)
    assert w["diff_ci"] == t["diff_ci"]
    s = w["sentence"]
    assert s.startswith("segment_strategy ranks first on test NDCG@10: 0.3000 (95% CI [0.2800")
    assert "0.0030 above the runner-up hybrid" in s
    assert f"[{t['diff_ci'][0]:.4f}, {t['diff_ci'][1]:.4f}]" in s
    html, md = render_html(res), render_markdown(res)
    assert f'<p class="winner">{s}</p>' in html and f"**{s}**" in md


def test_p_values_below_a_thousandth_never_print_as_zero(res: EvalResult) -> None:
    assert fmt_p(2.3e-7) == "< 0.001" and fmt_p(0.001) == "0.001" and fmt_p(None) == "n/a"
    html, md = render_html(res), render_markdown(res)
    for page in (html, md):
        assert not re.search(r"(?<![\d.])0\.000(?!\d)", page)
    assert "&lt; 0.001" in html and "< 0.001" in md


def test_every_colour_has_a_legend(res: EvalResult) -> None:
    html = render_html(res)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) >= 2
    for svg in svgs:
        marks = set(re.findall(r'class="mark"[^>]*fill="(#[0-9a-f]+)"', svg))
        keys = set(re.findall(r'class="key"[^>]*fill="(#[0-9a-f]+)"', svg))
        assert marks and marks <= keys, (marks, keys)
    # every comparison chart draws intervals: the cold/warm one too
    cw = _section(html, "Cold and warm users", "Is the difference")
    assert "95% interval" in cw and cw.count("<line") >= 3 * 2 * len(ranking(res))


def test_long_labels_are_whole_and_carry_their_full_name() -> None:
    long = "Mid-range cymbal pack shoppers who also buy drum heads (79 test users)"
    svg = bar_chart([long, "pop"], [0.3, 0.1], [[0.2, 0.4], None], "t", width=640)
    assert f"<title>{long}: 0.3000 [0.2000, 0.4000]</title>" in svg and "…" not in svg
    shown = " ".join(re.findall(r"<tspan[^>]*>([^<]+)</tspan>", svg))
    assert long in shown  # every word drawn, none cut
    names = {0: "Budget acoustic guitar lapsed buyers with a long name", 1: "Regulars"}
    xy = np.random.default_rng(0).normal(size=(30, 2))
    sc = scatter(xy, np.arange(30) % 2, names, "map", axes=("discriminant 1", "discriminant 2"))
    legend = " ".join(re.findall(r"<tspan[^>]*>([^<]+)</tspan>", sc))
    assert names[0] in legend and "discriminant 1" in sc and "discriminant 2" in sc


def test_settings_and_counts_are_in_words(res: EvalResult) -> None:
    html = render_html(res)
    settings = _section(html, "Settings of each method", "Cold and warm users")
    assert "{" not in settings and "}" not in settings and "'" not in settings
    assert "L2 regularisation: <b>200</b>" in settings
    assert "personal model&#x27;s settings: <b>(L2 regularisation 200)</b>" in settings
    assert "soft segment membership: <b>no</b>" in settings
    data = html[html.index("Data and run") :]
    assert not re.search(r"\bn_[a-z_]+\b", data)  # no raw results.json keys
    # what the command printed (every row) and what the evaluation kept, each labelled
    assert re.search(r"interactions loaded[^<]*</td><td>56,280<", data)
    assert re.search(r"distinct user-item pairs[^<]*</td><td>20,122<", data)


def test_markdown_ranks_like_the_html(res: EvalResult) -> None:
    md = render_markdown(res)
    rows = [r.split("|")[1].strip() for r in md.splitlines() if r.startswith("| ")]
    ranked = [r for r in rows if r in ranking(res)]
    assert ranked == ranking(res)
    assert "| segment_pop:graph |" in md  # the variants still listed, in their own table
