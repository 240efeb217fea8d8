"""Segment rules in words a team lead reads.

A rule is a conjunction of threshold conditions on interpretable behaviour columns
(``cat:cymbal pack <= 0.236 and price_level <= 429``). :func:`rule_in_words` says the same
thing as a phrase per condition ("little or no cymbal pack (at most 24% of what they buy);
pays at most 429 per item on average"); a column it has no words for keeps its condition as
written, so nothing is hidden.
"""

from __future__ import annotations

import math
import re

__all__ = ["condition_in_words", "rule_in_words"]

# "a < f <= b", "f > a", "f <= b"; feature names may hold spaces ("cat:condenser mic")
_BETWEEN = re.compile(r"^(?P<lo>-?[\d.]+) < (?P<f>.+) <= (?P<hi>-?[\d.]+)$")
_ABOVE = re.compile(r"^(?P<f>.+) > (?P<lo>-?[\d.]+)$")
_BELOW = re.compile(r"^(?P<f>.+) <= (?P<hi>-?[\d.]+)$")

#: column -> a phrase with ``{v}`` where the bound goes ("more than 3", "at most 7", "3-7")
_PHRASES: dict[str, str] = {
    "recency_days": "last active {v} days ago",
    "frequency": "{v} interactions",
    "log_frequency": "{v} interactions (log scale)",
    "n_items": "{v} distinct items",
    "span_days": "active over {v} days",
    "mean_gap_days": "{v} days between visits on average",
    "max_gap_days": "a longest gap of {v} days between visits",
    "rating_mean": "rates {v} on average",
    "rating_std": "a rating spread of {v}",
    "n_ratings": "{v} ratings given",
    "price_level": "pays {v} per item on average",
}


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _share(v: float) -> str:
    return f"{max(v, 0.0):.0%}"


def condition_in_words(feature: str, lo: float = -math.inf, hi: float = math.inf) -> str:
    """One condition ``lo < feature <= hi`` (either bound may be infinite) in words."""
    if feature.startswith("cat:"):
        cat = feature[4:]
        if math.isfinite(lo) and math.isfinite(hi):
            return f"{_share(lo)}-{_share(hi)} of what they buy is {cat}"
        if math.isfinite(lo):
            return f"buys {cat} often (over {_share(lo)} of what they buy)"
        if hi <= 0.02:
            return f"buys no {cat}"
        return f"little or no {cat} (at most {_share(hi)} of what they buy)"
    phrase = "spends {v} in total" if feature.startswith("monetary") else _PHRASES.get(feature)
    if phrase is None:
        return _as_written(feature, lo, hi)
    if math.isfinite(lo) and math.isfinite(hi):
        return phrase.format(v=f"{_num(lo)}-{_num(hi)}")
    if math.isfinite(lo):
        return phrase.format(v=f"more than {_num(lo)}")
    return phrase.format(v=f"at most {_num(hi)}")


def _as_written(feature: str, lo: float, hi: float) -> str:
    if math.isfinite(lo) and math.isfinite(hi):
        return f"{_num(lo)} < {feature} <= {_num(hi)}"
    return f"{feature} > {_num(lo)}" if math.isfinite(lo) else f"{feature} <= {_num(hi)}"


def rule_in_words(rule: str) -> str:
    """A rule's ``if`` text (conditions joined by `` and ``) in words, conditions joined by
    semicolons; ``always`` (a one-segment tree) stays as it is."""
    if rule.strip() in ("", "always"):
        return rule.strip() or "always"
    phrases, pending = [], ""
    for part in rule.split(" and "):
        # a category may itself hold " and ": join parts until they form a condition
        pending = f"{pending} and {part}" if pending else part.strip()
        words = _phrase(pending)
        if words is not None:
            phrases.append(words)
            pending = ""
    if pending:
        phrases.append(pending)
    return "; ".join(phrases)


def _phrase(cond: str) -> str | None:
    for pattern in (_BETWEEN, _ABOVE, _BELOW):
        m = pattern.match(cond)
        if m:
            d = m.groupdict()
            return condition_in_words(
                d["f"], float(d.get("lo") or -math.inf), float(d.get("hi") or math.inf)
            )
    return None
