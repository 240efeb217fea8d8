"""Earlier cold windows are built only while the cold users gathered so far are too few."""

from __future__ import annotations

from segrec.data.synthetic import SyntheticConfig, generate
from segrec.evaluate import EvalConfig
from segrec.evaluate._protocol import make_split
from segrec.evaluate._run import _enough_cold, _window_counts


def test_windows_stop_once_enough_cold_users_are_gathered() -> None:
    split = make_split(generate(SyntheticConfig(users=400, seed=3)))
    earlier = split.earlier_windows(3)
    assert len(earlier) == 3
    val_cold = int(split.cold_mask(split.val_users, "fit").sum())
    first = _window_counts(*earlier[0])["n_cold_users"]
    assert val_cold > 0 and first > 0

    def kept(enough: int) -> int:
        return len(_enough_cold(split, earlier, EvalConfig(cold_users_enough=enough)))

    assert kept(0) == 3  # 0: always every window
    assert kept(10_000) == 3  # never enough: every window
    assert kept(val_cold) == 0  # the validation period alone is enough
    assert kept(val_cold + 1) == 1  # one window more is
    assert kept(val_cold + first + 1) >= 2
    assert EvalConfig().cold_users_enough == 500
