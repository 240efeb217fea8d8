"""PII scrubbing of user-written texts: emails, phone numbers, URLs and card-like numbers.

Loaders run :func:`scrub_pii` on every text before it is stored or embedded (spec option
``pii=off`` disables it), and record the counts in ``report.cleaning["pii"]``. Each match is
replaced by a placeholder (``[EMAIL]``, ``[PHONE]``, ``[URL]``, ``[CARD]``) so sentence
structure survives for the embedder.

What counts as what:

* URL: ``http(s)://...`` or ``www....``; checked first, so an address inside a URL is one URL.
* Email: ``local@domain.tld``.
* Card: 13-19 digits, optionally grouped by spaces or dashes, that pass the Luhn check (other
  long digit runs, e.g. order numbers, are left alone unless they look like a phone number).
* Phone: 10-15 digits in the usual groupings, ending in a group of four (``+1 (555) 123-4567``,
  ``555.123.4567``, ``+44 20 7946 0958``). Seven-digit local numbers are not matched, nor
  part numbers such as ``099-0502-000`` (real Amazon reviews are full of them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import overload

import pandas as pd

__all__ = ["PII_KINDS", "luhn_ok", "scrub_pii", "scrub_text"]

PII_KINDS = ("url", "email", "card", "phone")

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_EMAIL = re.compile(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_PHONE = re.compile(
    r"(?<![\w+-])(?<!\d[\s.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]?\d{4}(?![\w-]|[\s.]\d)"
)
_CANDIDATE = r"@|https?://|www\.|\d"


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum used by payment card numbers."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if k % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _scrub_one(text: str, counts: dict[str, int]) -> str:
    def sub(kind: str, placeholder: str):  # type: ignore[no-untyped-def]
        def repl(m: re.Match[str]) -> str:
            counts[kind] += 1
            return placeholder

        return repl

    text = _URL.sub(sub("url", "[URL]"), text)
    text = _EMAIL.sub(sub("email", "[EMAIL]"), text)

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            counts["card"] += 1
            return "[CARD]"
        return m.group(0)

    text = _CARD.sub(card, text)

    def phone(m: re.Match[str]) -> str:
        n = sum(c.isdigit() for c in m.group(0))
        if 10 <= n <= 15:
            counts["phone"] += 1
            return "[PHONE]"
        return m.group(0)

    return _PHONE.sub(phone, text)


@overload
def scrub_pii(texts: pd.Series) -> tuple[pd.Series, dict[str, int]]: ...
@overload
def scrub_pii(texts: Sequence[str]) -> tuple[list[str], dict[str, int]]: ...  # type: ignore[overload-cannot-match]


def scrub_pii(texts: pd.Series | Sequence[str]) -> tuple[pd.Series | list[str], dict[str, int]]:
    """Replace emails, phone numbers, URLs and card-like numbers; returns (texts, counts by kind).

    >>> scrub_pii(["mail me at ann@example.com or call +1 (555) 123-4567"])
    (['mail me at [EMAIL] or call [PHONE]'], {'url': 0, 'email': 1, 'card': 0, 'phone': 1})

    A Series comes back as a Series with the same index; a sequence as a list.
    """
    counts = dict.fromkeys(PII_KINDS, 0)
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    if not len(s):
        return (s.copy() if isinstance(texts, pd.Series) else []), counts
    s = s.astype(object)
    # Only texts with an '@', a URL start or a digit can hold PII; skip the rest in bulk.
    cand = s.str.contains(_CANDIDATE, regex=True, na=False).to_numpy(bool)
    vals = s.to_numpy(dtype=object, copy=True)
    for k in cand.nonzero()[0]:
        vals[k] = _scrub_one(vals[k], counts)
    out = pd.Series(vals, index=s.index, dtype=object)
    if isinstance(texts, pd.Series):
        return out, counts
    return out.tolist(), counts


def scrub_text(text: str) -> str:
    """One text through the same replacements as :func:`scrub_pii` (counts not kept): for
    strings that are stored but not analysed, such as a rejected row in the quarantine file.

    >>> scrub_text('{"user": "joe@example.com", "stars": 11}')
    '{"user": "[EMAIL]", "stars": 11}'
    """
    if not re.search(_CANDIDATE, text):
        return text
    return _scrub_one(text, dict.fromkeys(PII_KINDS, 0))
