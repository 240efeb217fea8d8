"""Progress reporting: a stage names the part of a long job its bars belong to."""

from __future__ import annotations

import logging

from segrec._progress import progress, stage


def test_stage_prefixes_bars_and_ends_with_the_stage(caplog) -> None:
    caplog.set_level(logging.INFO, logger="segrec.progress")
    with stage("training period"):
        with progress("embedding (onnx-int8)", 3, "texts") as p:
            p.update(3)
        # stages nest: the inner name wins, then the outer one is back
        with stage("all data"), progress("k-means", 1) as q:
            q.update()
        with progress("GCN", 1) as r:
            r.update()
    with progress("loading", 1) as s:
        s.update()
    assert p.label == "training period · embedding (onnx-int8)"
    assert q.label == "all data · k-means"
    assert r.label == "training period · GCN"
    assert s.label == "loading"
    assert any(
        m.startswith("training period · embedding (onnx-int8) done: 3/3 texts")
        for m in caplog.messages
    )
