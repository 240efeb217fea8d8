"""PII scrubbing: each kind is found, look-alikes are left alone, counts are exact."""

from __future__ import annotations

import pandas as pd
import pytest

from segrec.data._pii import luhn_ok, scrub_pii


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("write to ann.lee+x@example.co.uk today", "email", "write to [EMAIL] today"),
        ("see https://shop.example.com/p?id=3&x=1.", "url", "see [URL]."),
        ("or www.example.org/page for more", "url", "or [URL] for more"),
        ("call +1 (555) 123-4567 now", "phone", "call [PHONE] now"),
        ("call 555.123.4567", "phone", "call [PHONE]"),
        ("ring +44 20 7946 0958 please", "phone", "ring [PHONE] please"),
        ("card 4111 1111 1111 1111 ok", "card", "card [CARD] ok"),
        ("card 5500-0000-0000-0004", "card", "card [CARD]"),
    ],
)
def test_each_kind_is_replaced_and_counted(text: str, kind: str, expected: str) -> None:
    out, counts = scrub_pii([text])
    assert out == [expected]
    assert counts[kind] == 1
    assert sum(counts.values()) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Fender Accessories 099-0502-000 Guitar Tools",  # part number, from a real review
        "released 2014-07-22, costs $1,299.99, model SM58",
        "order 4111 1111 1111 1112",  # 16 digits failing Luhn
        "it was 1995 and I was 12",
        "no pii here at all",
        "",
    ],
)
def test_lookalikes_are_left_alone(text: str) -> None:
    out, counts = scrub_pii([text])
    assert out == [text]
    assert sum(counts.values()) == 0


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")


def test_series_in_series_out_and_totals() -> None:
    s = pd.Series(["a@b.io and c@d.io", "plain", "http://x.io a@b.io"], index=[10, 20, 30])
    out, counts = scrub_pii(s)
    assert isinstance(out, pd.Series)
    assert list(out.index) == [10, 20, 30]
    assert out.tolist() == ["[EMAIL] and [EMAIL]", "plain", "[URL] [EMAIL]"]
    assert counts == {"url": 1, "email": 3, "card": 0, "phone": 0}


def test_email_inside_url_counts_once_as_url() -> None:
    out, counts = scrub_pii(["http://example.com/u/ann@example.com"])
    assert out == ["[URL]"]
    assert counts["url"] == 1 and counts["email"] == 0
