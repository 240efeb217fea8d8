"""Row-wise ranking split into row blocks on the thread budget gives the one-block values."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from segrec import _threads
from segrec.recommend import _hybrid_tune as ht
from segrec.recommend._scorer import top_k


def _split(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget of two, a fresh pool, and blocks from 100 cells: every call below splits."""
    monkeypatch.setattr(_threads, "thread_budget", lambda: 2)
    monkeypatch.setattr(_threads, "_pool", None)
    monkeypatch.setattr(_threads, "PARALLEL_CELLS", 100)


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    _split(monkeypatch)


def test_blocks_cover_the_rows_in_order_on_two_threads(two_threads: None) -> None:
    seen: list[tuple[int, int, int]] = []
    barrier = threading.Barrier(2, timeout=30)

    def fn(r: slice) -> tuple[int, int]:
        barrier.wait()  # both blocks are running at once, or this times out
        seen.append((r.start, r.stop, threading.get_ident()))
        return r.start, r.stop

    assert _threads.map_row_blocks(fn, 7, 50) == [(0, 4), (4, 7)]
    assert len({t for *_, t in seen}) == 2


def test_small_or_nested_calls_run_as_one_block(two_threads: None) -> None:
    assert _threads.map_row_blocks(lambda r: (r.start, r.stop), 9, 10) == [(0, 9)]  # 90 cells

    def outer(r: slice) -> list[tuple[int, int]]:
        return _threads.map_row_blocks(lambda q: (q.start, q.stop), 50, 50)

    assert _threads.map_row_blocks(outer, 4, 50) == [[(0, 50)], [(0, 50)]]


def _scores(n: int = 120, m: int = 300, levels: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(n + m + (levels or 0))
    s = rng.standard_normal((n, m)).astype(np.float32)
    if levels:
        s = np.round(s * levels / 4).astype(np.float32)  # ties at the k-th place
    s[rng.random((n, m)) < 0.1] = -np.inf
    return s


@pytest.mark.parametrize("levels", [None, 3])
def test_top_k_in_blocks_is_the_one_block_top_k(
    levels: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _scores(levels=levels)
    want = top_k(s, 10)
    _split(monkeypatch)
    got = top_k(s, 10)
    assert len(got[0]) == len(s)
    for a, b in zip(want, got, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("levels", [None, 3])
def test_shortlist_columns_and_ndcg_in_blocks_are_the_one_block_values(
    levels: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _scores(levels=levels)
    rng = np.random.default_rng(1)
    sets = [set(rng.choice(300, size=rng.integers(0, 8), replace=False).tolist()) for _ in s]
    rel = ht._relevance(sets, 300, 10)
    want_top, want_ndcg = ht.top_columns(s, 40), ht._ndcg(s, rel, 10)
    _split(monkeypatch)
    monkeypatch.setattr(ht, "_RANK_CELLS", 300 * 7)  # several steps inside each block
    np.testing.assert_array_equal(ht.top_columns(s, 40), want_top)
    np.testing.assert_array_equal(ht._ndcg(s, rel, 10), want_ndcg)
    assert (want_ndcg > 0).any()
