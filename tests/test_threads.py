"""The process thread budget: decided once, overridable, and a user's own settings win."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from segrec._threads import free_cores


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    keep.pop("SEGREC_THREADS", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**keep, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_free_cores_is_between_one_and_the_cores() -> None:
    assert 1 <= free_cores(sample=0.05) <= (os.cpu_count() or 1)


def test_segrec_threads_sets_every_pool_and_passive_waiting() -> None:
    code = (
        "import os\nfrom segrec._threads import configure_threads, thread_budget\n"
        "print(configure_threads(), thread_budget(), os.environ['OMP_NUM_THREADS'],"
        " os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_WAIT_POLICY'])\n"
        "import numpy\nfrom threadpoolctl import threadpool_info\n"
        "print(sorted({p['num_threads'] for p in threadpool_info()}))"
    )
    out = _run(code, SEGREC_THREADS="1")
    assert out.returncode == 0, out.stderr
    first, pools = out.stdout.splitlines()
    assert first == "1 1 1 1 PASSIVE"
    assert pools == "[1]"


def test_a_users_own_omp_setting_is_kept() -> None:
    code = (
        "import os\nfrom segrec._threads import configure_threads\nconfigure_threads()\n"
        "print(os.environ['OMP_NUM_THREADS'], os.environ['OMP_WAIT_POLICY'])"
    )
    out = _run(code, SEGREC_THREADS="2", OMP_NUM_THREADS="3", OMP_WAIT_POLICY="ACTIVE")
    assert out.stdout.split() == ["3", "ACTIVE"]


@pytest.mark.parametrize("bad", ["abc", "0"])
def test_a_bad_segrec_threads_is_one_line_and_exit_2(bad: str) -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "segrec")
    out = subprocess.run(
        [exe, "models", "list"],
        env={**os.environ, "SEGREC_THREADS": bad},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("error: SEGREC_THREADS must be a whole number")
    assert "Traceback" not in out.stderr
