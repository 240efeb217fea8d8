"""One user's update and lists, to run alternately with two versions of segrec side by side.

    for code in /tmp/old-checkout /work/main; do
        PYTHONPATH=$code/src HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
            .venv/bin/python benchmarks/update_side_by_side.py MODEL_DIR
    done

(an old version as a ``git worktree`` on ``PYTHONPATH``). Prints one JSON line: the code's
path and p50/p99 ms of 150 calls each of ``recommend`` for a known user (computed: a model
that keeps answers has them turned off), ``update`` with one event, and ``recommend`` for the
users just updated. Written for session 18's store change; see BENCHMARKS.md.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np


def _time(fn: Any, n: int) -> tuple[float, float]:
    ms = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        ms.append((time.perf_counter() - t) * 1e3)
    return round(float(np.percentile(ms, 50)), 2), round(float(np.percentile(ms, 99)), 2)


def main() -> None:
    import segrec

    m = segrec.load_model(sys.argv[1])
    if hasattr(m, "cache_size"):
        m.cache_size = 0  # the list's own cost: older code keeps no answers
    items, users = list(m.item_labels.index), list(m.segments.index)
    out = {
        "code": segrec.__file__.split("/src/")[0],
        "recommend_known": _time(lambda i: m.recommend(users[600 + i], k=10), 150),
        "update": _time(
            lambda i: m.update(users[i], events=[{"item_id": items[(i * 7) % len(items)]}]), 150
        ),
        "recommend_changed": _time(lambda i: m.recommend(users[i], k=10), 150),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
