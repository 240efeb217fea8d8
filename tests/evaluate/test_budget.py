"""method_seconds stops a slow method and reports it skipped with the reason; costs are kept."""

from __future__ import annotations

import json
import time

import pytest
from evalkit import PlainPop, pop_factories

from segrec._budget import check_budget, time_budget
from segrec._progress import progress
from segrec.diagnostics import TimeBudgetExceeded
from segrec.evaluate import EvalConfig, run_evaluation

CHEAP = {
    "n_bootstrap": 20,
    "graph": None,
    "segmentations": ["random"],
    "segment_methods": [],
    "cold_windows": 0,
}


class SlowPop(PlainPop):
    """PlainPop whose fit loops for ``seconds``: under progress() updates (``checked``, the
    cooperative stop) or in a bare Python loop (the timer's backstop)."""

    def __init__(self, seconds: float = 30.0, checked: bool = True, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.seconds, self.checked = seconds, checked

    def fit(self, ctx):  # type: ignore[no-untyped-def]
        end = time.perf_counter() + self.seconds
        if self.checked:
            with progress("slow fit", None, "steps") as p:
                while time.perf_counter() < end:
                    time.sleep(0.01)
                    p.update()
        else:
            while time.perf_counter() < end:
                sum(range(1000))
        return super().fit(ctx)


@pytest.mark.parametrize("checked", [True, False])
def test_slow_method_is_skipped_with_the_reason(planted, tmp_path, checked: bool) -> None:
    factories = {**pop_factories(), "slow": lambda **p: SlowPop(checked=checked, **p)}
    cfg = EvalConfig(methods=["pop", "slow"], method_seconds=1.0, **CHEAP)
    t = time.perf_counter()
    res = run_evaluation(planted, cfg, recommenders=factories)
    assert time.perf_counter() - t < 25  # the 30 s fit was cut short
    assert "pop" in res.methods and "slow" not in res.methods
    reason = res.protocol["skipped"]["slow"]
    assert "time budget of 1s" in reason and "method_seconds" in reason
    costs = res.protocol["method_costs"]
    assert costs["slow"]["status"] == "skipped: time budget"
    assert 0.9 <= costs["slow"]["seconds"] < 15
    # the report and results.json show it
    path = res.save(tmp_path / "results.json")
    saved = json.loads(path.read_text())
    assert saved["protocol"]["skipped"]["slow"] == reason


def test_costs_in_results_json(planted, tmp_path) -> None:
    cfg = EvalConfig(methods=["pop"], **CHEAP)
    res = run_evaluation(planted, cfg, recommenders=pop_factories())
    cost = json.loads(res.save(tmp_path / "r.json").read_text())["methods"]["pop"]["cost"]
    for key in ("tune_seconds", "fit_seconds", "score_seconds", "metrics_seconds", "seconds"):
        assert cost[key] >= 0.0
    assert cost["seconds"] >= cost["fit_seconds"] + cost["score_seconds"]
    assert cost["peak_mb"] > 10 and cost["extra_mb"] >= 0
    assert res.protocol["method_costs"]["pop"]["status"] == "ran"


def test_budgets_nest_and_stop_only_when_spent() -> None:
    with time_budget(5.0, "outer"):
        with time_budget(0.05, "inner"), pytest.raises(TimeBudgetExceeded, match="inner"):
            time.sleep(0.1)
            check_budget()
        check_budget()  # the outer budget is not spent
    check_budget()  # no budget: never raises
    with time_budget(None, "none"):
        check_budget()
