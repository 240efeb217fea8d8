"""Segment rules in words: every condition form, categories holding " and ", unknown columns
kept as written."""

from __future__ import annotations

from segrec.describe._rule_words import condition_in_words, rule_in_words


def test_each_condition_form_in_words() -> None:
    got = rule_in_words(
        "price_level > 289 and 0.0455 < cat:condenser mic <= 0.174 and cat:tom set <= 0.191"
    )
    assert got == (
        "pays more than 289 per item on average; 5%-17% of what they buy is condenser mic; "
        "little or no tom set (at most 19% of what they buy)"
    )
    assert "<=" not in got and "cat:" not in got


def test_category_names_with_and_stay_whole() -> None:
    got = rule_in_words("cat:drums and percussion > 0.3 and recency_days <= 14")
    assert got == (
        "buys drums and percussion often (over 30% of what they buy); "
        "last active at most 14 days ago"
    )


def test_unknown_columns_keep_their_condition() -> None:
    assert rule_in_words("text_3 > 0.12 and monetary_amount <= 1200") == (
        "text_3 > 0.12; spends at most 1,200 in total"
    )
    assert rule_in_words("always") == "always"
    assert condition_in_words("cat:strings", hi=0.01) == "buys no strings"
