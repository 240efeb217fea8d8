"""How the evaluation picks the hybrid's segmentation and personal models (validation only)."""

import pandas as pd

from segrec.evaluate import EvalConfig
from segrec.evaluate._result import MethodRun
from segrec.evaluate._run import _hybrid_grid
from segrec.evaluate._segmentations import pick_segmentation as _pick_segmentation
from segrec.recommend import RecLists


def _run(name: str, val: float | None, cold: float | None = None, params=None) -> MethodRun:
    summary = {"val_ndcg@10": val, "val_ndcg@10_cold": cold, "tuned_params": params or {}}
    lists = RecLists(pd.Index([]), [], [])
    return MethodRun(name, summary, pd.DataFrame(), lists, None)  # type: ignore[arg-type]


def test_hybrid_segmentation_is_the_best_segment_pop_on_validation():
    cfg = EvalConfig()
    built = {"random": None, "rfm": None, "behavior": None, "fused": None}
    runs = {
        "segment_pop:random": _run("r", 0.9),  # the control never becomes the hybrid's segments
        "segment_pop:rfm": _run("rfm", 0.05),
        "segment_pop:behavior": _run("b", 0.08),
        "segment_pop:fused": _run("f", 0.07),
    }
    assert _pick_segmentation(cfg, built, runs) == "behavior"  # type: ignore[arg-type]
    # no validation scores: the preference order decides
    assert _pick_segmentation(cfg, built, {}) == "fused"  # type: ignore[arg-type]
    fixed = EvalConfig(hybrid_segmentation="rfm")
    assert _pick_segmentation(fixed, built, runs) == "rfm"  # type: ignore[arg-type]


def test_hybrid_grid_takes_best_bases_overall_and_on_cold_users():
    cfg = EvalConfig(budget=2)
    runs = {
        "pop": _run("pop", 0.03, 0.09),
        "ease": _run("ease", 0.10, 0.05, {"l2": 200.0}),
        "als": _run("als", 0.09, 0.12, {"factors": 64}),
        "itemknn": _run("itemknn", 0.08, 0.07),
    }
    grid = _hybrid_grid(cfg, runs, None)
    assert grid is not None and [g["base"] for g in grid] == ["ease", "als"]
    assert grid[0]["base_params"] == {"l2": 200.0}
    assert all(g["cold_base"] == "als" and g["cold_base_params"] == {"factors": 64} for g in grid)


def test_search_k_keeps_the_best_validation_k_with_the_same_budget(planted):
    from segrec.evaluate._segmentations import PhaseArtifacts, build_segmentation, search_k

    art = PhaseArtifacts(planted)
    art.segmentations["behavior"] = build_segmentation("behavior", art, 0, params={"k": 3})
    art.segmentations["rfm"] = build_segmentation("rfm", art, 0)
    tried: list[int] = []

    def fit(seg):
        tried.append(int(seg.k))
        return seg

    # a score that prefers 4 segments: the search must keep the 4-segment clustering
    out = search_k(
        EvalConfig(segment_k=["auto", 4, 6, 9], budget=3), art, fit, lambda s: -abs(s.k - 4)
    )
    assert set(out) == {"behavior"}  # rfm has no k to choose; text/fused were not built
    assert tried == [3, 4, 6]  # "auto" (the built one) and the first budget-1 fixed ks only
    assert out["behavior"]["k"] == 4 and art.segmentations["behavior"].k == 4
    # a k fixed by the user is not searched
    fixed = EvalConfig(segmentation_params={"behavior": {"k": 3}})
    assert search_k(fixed, art, fit, lambda s: 0.0) == {}
