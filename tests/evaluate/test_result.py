"""The warnings a results file carries about how many users its figures rest on."""

from __future__ import annotations

from segrec.evaluate._result import _warnings


def test_few_users_are_warned_and_none_says_n_a() -> None:
    w = _warnings({"n_test_users": 587, "n_cold_users": 0, "n_warm_users": 587}, 100)
    assert w == ["there are no cold test users, so the cold-user figures are n/a"]
    w = _warnings({"n_test_users": 85, "n_cold_users": 15, "n_warm_users": 70}, 100)
    assert w == [
        "overall comparisons rest on only 85 test users (< 100)",
        "cold-user comparisons rest on only 15 cold test users (< 100)",
        "warm-user comparisons rest on only 70 warm test users (< 100)",
    ]
    assert _warnings({"n_test_users": 500, "n_cold_users": 100, "n_warm_users": 400}, 100) == []


def test_encoder_line_says_when_no_user_wrote_anything() -> None:
    from segrec.evaluate import EvalResult

    enc = {"model": "all-MiniLM-L6-v2", "backend": "onnx-int8", "source": "users"}
    res = EvalResult({}, {"text_encoder": enc}, {}, {}, {})
    assert res.encoder_line == "all-MiniLM-L6-v2 (onnx-int8)"
    res.protocol["text_encoder"] = {**enc, "source": "items"}
    assert res.encoder_line is not None and "item titles and categories only" in res.encoder_line
    assert EvalResult({}, {}, {}, {}, {}).encoder_line is None
