"""One thread budget for the whole process, decided once.

OpenMP, OpenBLAS, MKL, torch, faiss and ONNX Runtime each start a pool sized to every core and
spin while they wait for work. Beside one other CPU-bound process on a 2-core machine those
spinning threads fight the real work for the cores: ``segrec demo`` went from 2.4 minutes alone
to more than 15 minutes. Sized to the cores actually free and waiting passively, the same run
took 3 minutes (see TOOLCHAIN.md).

The CLI calls :func:`configure_threads` first thing, before numpy or torch are imported, so the
environment variables that the native runtimes read once at start-up take effect. The library
never changes process-wide state on import; code that sizes its own pool (``torch.set_num_threads``,
faiss, ONNX Runtime sessions, implicit's ``num_threads``) asks :func:`thread_budget`.

``SEGREC_THREADS=N`` overrides the estimate; a user's explicit ``OMP_NUM_THREADS`` and friends
are kept as they are.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from segrec.diagnostics import UsageError

__all__ = [
    "REPRODUCIBLE_THREADS",
    "configure_threads",
    "free_cores",
    "map_row_blocks",
    "reproducible_threads",
    "thread_budget",
]

_log = logging.getLogger(__name__)
_budget: int | None = None

# Read once by the native runtimes when they start: they only help before the import.
_COUNT_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
_PASSIVE_VARS = {
    "OMP_WAIT_POLICY": "PASSIVE",  # GNU and LLVM OpenMP: sleep instead of spinning
    "KMP_BLOCKTIME": "0",  # Intel/LLVM OpenMP (MKL): no spin after a parallel region
}
#: GNU OpenMP's spin before sleeping (torch's pool). Beside a busy process any spin steals the
#: core the other threads need (LightGCN fit 5.7 s at 0, 17 s at 10,000); on an idle machine a
#: thread put to sleep after every small operation makes torch's two threads slower than one
#: (9.4 s at 0, 4.7 s at 30,000). So: a short spin when every core was free at start, none else.
_IDLE_SPIN, _BUSY_SPIN = "30000", "0"
_POOL_MODULES = ("numpy", "scipy", "sklearn", "torch", "faiss", "onnxruntime", "implicit")


def _usable_cores() -> int:
    """Cores this process may run on: CPU affinity, capped by a cgroup v2 CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def free_cores(sample: float = 0.3) -> int:
    """Cores not busy right now: usable cores minus the cores other processes kept busy over a
    ``sample`` of a fraction of a second (this process sleeps meanwhile), at least 1.

    Measured now rather than read from the load average, which trails the last minutes: just
    after another job ends it still reads 1-2 on an idle 2-core machine, and a run started then
    would halve its threads for nothing (``segrec demo`` 225 s instead of about 150 s)."""
    import psutil

    cores = _usable_cores()
    busy = psutil.cpu_percent(interval=sample) / 100.0 * (psutil.cpu_count() or cores)
    return max(1, min(cores, cores - round(busy)))


def _from_env() -> int | None:
    raw = os.environ.get("SEGREC_THREADS", "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise UsageError(
            f"SEGREC_THREADS must be a whole number of threads, 1 or more; got {raw!r}. "
            "Set it to e.g. SEGREC_THREADS=2, or unset it to use the cores that are free."
        )
    return n


def _decide(n: int | None) -> int:
    if n is not None:
        if n < 1:
            raise UsageError(f"the thread count must be 1 or more; got {n}")
        return n
    env = _from_env()
    return env if env is not None else free_cores()


def thread_budget() -> int:
    """Threads a pool in this process may use.

    The value :func:`configure_threads` set, else ``SEGREC_THREADS``, else the cores free when
    first asked; decided once, so every pool in the process agrees.

    >>> thread_budget() >= 1
    True
    """
    global _budget
    if _budget is None:
        _budget = _decide(None)
    return _budget


#: Threads of the pools whose float sums depend on their thread count: torch's kernels and
#: scikit-learn's OpenMP k-means, which adds its threads' partial centre sums in lock order
#: (KMeans inertia 57810.180 on one thread, 57810.219 on two, on the same data and seed). The
#: load-dependent budget would make the same seed give other segments on a busy machine (one
#: demo ended with 7 GNN segments, another with 8); a fixed count does not. Two, because two
#: partial sums add the same in either order, and the pools wait passively, so two threads
#: beside a busy process cost little.
REPRODUCIBLE_THREADS = max(1, min(2, os.cpu_count() or 1))


@contextmanager
def reproducible_threads() -> Iterator[None]:
    """OpenMP pools (scikit-learn's k-means) at :data:`REPRODUCIBLE_THREADS` inside the block,
    whatever the budget, so a seeded clustering gives the same result at any load."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=REPRODUCIBLE_THREADS, user_api="openmp"):
        yield


def configure_threads(n: int | None = None) -> int:
    """Decide the process's thread budget once and make every pool follow it.

    Sets the native runtimes' thread-count variables and passive waiting in ``os.environ``
    (``setdefault``: a value the user exported wins), and limits pools already loaded through
    threadpoolctl. Call it before importing numpy/torch for full effect; later calls return the
    budget already decided (or a new ``n`` when one is given). Returns the budget.
    """
    global _budget
    if n is None and _budget is not None:
        return _budget
    budget = _decide(n)
    _budget = budget
    for var in _COUNT_VARS:
        os.environ.setdefault(var, str(budget))
    for var, value in _PASSIVE_VARS.items():
        os.environ.setdefault(var, value)
    idle = budget >= _usable_cores()
    os.environ.setdefault("GOMP_SPINCOUNT", _IDLE_SPIN if idle else _BUSY_SPIN)
    _limit_loaded_pools(budget)
    _log.debug("thread budget: %d (%s at start)", budget, "idle" if idle else "busy")
    return budget


def _limit_loaded_pools(budget: int) -> None:
    """Pools that started before :func:`configure_threads` (an embedding program, a test)."""
    if not any(m in sys.modules for m in _POOL_MODULES):
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=budget)  # not as a context manager: it stays in force
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(budget)
    faiss = sys.modules.get("faiss")
    if faiss is not None and hasattr(faiss, "omp_set_num_threads"):
        faiss.omp_set_num_threads(budget)


#: the fewest cells worth splitting between threads: below, handing work to a thread costs
#: more than the thread saves
PARALLEL_CELLS = 1_000_000
_T = TypeVar("_T")
_pool_lock = threading.Lock()
_pool = None
_in_worker = threading.local()


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def map_row_blocks(fn: Callable[[slice], _T], n_rows: int, n_cols: int) -> list[_T]:
    """``fn`` of contiguous blocks of rows, in row order: one block per thread of the budget,
    side by side, when the ``n_rows`` x ``n_cols`` matrix holds :data:`PARALLEL_CELLS` cells or
    more; one block (``fn(slice(0, n_rows))``) otherwise, and inside a block already running
    here.

    For row-wise numpy work whose result for a row depends on that row only and whose kernels
    run on one thread and release the GIL (``argpartition``, comparisons, reductions): blocks
    give the one-block values, bit for bit, and a 2-core machine ranks twice as many rows in
    the same time. Not for BLAS products, whose own pools already use the budget."""
    global _pool
    workers = min(thread_budget(), n_rows)
    if workers <= 1 or n_rows * n_cols < PARALLEL_CELLS or getattr(_in_worker, "on", False):
        return [fn(slice(0, n_rows))]
    from concurrent.futures import ThreadPoolExecutor

    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(thread_budget(), thread_name_prefix="segrec-rows")
        pool = _pool

    def run(block: slice) -> _T:
        _in_worker.on = True
        try:
            return fn(block)
        finally:
            _in_worker.on = False

    step = -(-n_rows // workers)
    blocks = [slice(a, min(a + step, n_rows)) for a in range(0, n_rows, step)]
    return list(pool.map(run, blocks))
