"""One line per method and phase with its elapsed time, also when the phase is short."""

from __future__ import annotations

import logging

import pytest

from segrec._progress import stage


def test_stage_done_line_says_the_phase_and_its_time(caplog) -> None:
    caplog.set_level(logging.INFO, logger="segrec.progress")
    with stage("bpr", done_line=True), stage("bpr · tuning", done_line=True):
        pass
    with pytest.raises(RuntimeError), stage("ease · refit", done_line=True):
        raise RuntimeError("boom")
    with stage("quiet"):
        pass
    assert caplog.messages == [
        "bpr · tuning done in 0s",
        "bpr done in 0s",
        "ease · refit stopped after 0s",
    ]
