"""Bootstrap intervals and the paired test."""

from __future__ import annotations

import numpy as np
import pytest

from segrec.evaluate import bootstrap_ci, paired_test


def test_bootstrap_ci_covers_mean_and_shrinks_with_users() -> None:
    rng = np.random.default_rng(0)
    small = rng.random(50)
    big = rng.random(5000)
    lo, hi = bootstrap_ci(small, 500, random_state=1)
    assert lo < small.mean() < hi
    blo, bhi = bootstrap_ci(big, 500, random_state=1)
    assert (bhi - blo) < (hi - lo) / 3
    assert bootstrap_ci(small, 300, random_state=3) == bootstrap_ci(small, 300, random_state=3)
    assert all(np.isnan(bootstrap_ci(np.array([]))))
    assert all(np.isnan(bootstrap_ci(np.array([0.6]))))  # not a zero-width [0.6, 0.6]


def test_paired_test_detects_a_real_difference_only() -> None:
    rng = np.random.default_rng(0)
    b = rng.random(300)
    a = b + 0.1 + 0.05 * rng.standard_normal(300)
    res = paired_test(a, b, 1000)
    assert res["mean_diff"] > 0.05 and res["diff_ci"][0] > 0
    assert res["p_bootstrap"] < 0.01 and res["p_wilcoxon"] < 0.01 and res["significant"]
    noise = b + 0.05 * rng.standard_normal(300)
    res2 = paired_test(noise, b, 1000)
    assert res2["diff_ci"][0] < 0 < res2["diff_ci"][1]
    assert res2["p_bootstrap"] > 0.05
    same = paired_test(b, b)
    assert same["p_wilcoxon"] is None and same["p_bootstrap"] == 1.0


def test_paired_test_ratio_and_its_interval() -> None:
    rng = np.random.default_rng(1)
    b = rng.random(2000)
    a = 1.2 * b + 0.02 * rng.standard_normal(2000)
    res = paired_test(a, b, 1000)
    assert res["ratio"] == pytest.approx(a.mean() / b.mean())
    lo, hi = res["ratio_ci"]
    assert lo < res["ratio"] < hi and lo > 1.15 and hi < 1.25
    # fewer users, wider interval: 60 noisy users cannot tell 1.05x from 1.15x
    few = paired_test(b[:60] * 1.1 + 0.3 * rng.standard_normal(60), b[:60], 1000)
    assert few["ratio_ci"][0] < 1.05 and few["ratio_ci"][1] > 1.15
    # a reference that scores zero has no ratio
    zero = paired_test(b[:50], np.zeros(50))
    assert zero["ratio"] is None and zero["ratio_ci"] == [None, None]


def test_holm_adjusts_a_family_of_p_values() -> None:
    from segrec.evaluate._stats import holm

    # textbook example: 0.01, 0.04, 0.03, 0.005 -> x4, x3, x2, x1 in ascending order
    adj = holm([0.01, 0.04, 0.03, 0.005])
    assert adj == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.9]) == [pytest.approx(1.0), None, pytest.approx(1.0)]
    assert holm([]) == []


def test_paired_test_gives_no_interval_or_p_value_for_a_handful_of_users() -> None:
    # MovieLens 100K under v1 has one cold test user: resampling one user always gives the same
    # mean, which made p=0.001 and "significant"
    from segrec.evaluate._stats import MIN_PAIRED_USERS

    one = paired_test(np.array([0.61]), np.array([0.62]))
    assert one["p_bootstrap"] is None and one["p_wilcoxon"] is None and not one["significant"]
    assert one["diff_ci"] == [None, None] and one["ratio_ci"] == [None, None]
    assert one["ratio"] == pytest.approx(0.61 / 0.62) and "no interval" in one["note"]
    rng = np.random.default_rng(2)
    few = rng.random(MIN_PAIRED_USERS - 1)
    assert paired_test(few + 0.5, few)["p_bootstrap"] is None
    enough = rng.random(MIN_PAIRED_USERS)
    res = paired_test(enough + 0.5, enough)
    assert res["p_bootstrap"] is not None and res["diff_ci"][0] is not None
