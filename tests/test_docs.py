"""The Python examples in README.md and docs/ run as written (they are the first thing a user
copies, so a renamed function or argument must fail here, not in their hands)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(doc: Path) -> str:
    """Every fenced ``python`` block of ``doc``, in order, as one script (later blocks use
    names the earlier ones define, as a reader running them one after the other would)."""
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text("utf-8"), flags=re.S)
    assert blocks, f"{doc.name} has no python example"
    return "\n".join(blocks)


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("doc", ["README.md", "docs/recommend.md", "docs/model.md"])
def test_python_examples_run(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    script = _python_blocks(ROOT / doc)
    exec(compile(script, doc, "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    assert "reason" in out  # each example ends in recommendations with their reasons
