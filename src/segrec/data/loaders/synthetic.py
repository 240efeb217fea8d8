"""``synthetic:`` / ``synthetic:users=5000,seed=7``: the built-in synthetic music shop."""

from __future__ import annotations

from pathlib import Path

from segrec.data._dataset import Dataset
from segrec.data._quarantine import LoadReport
from segrec.data._registry import register_loader
from segrec.data.synthetic import SyntheticConfig, generate
from segrec.data.synthetic._generate import make_config
from segrec.diagnostics import UsageError

__all__ = ["load_synthetic"]


@register_loader("synthetic", needs_path=False)
def load_synthetic(path: Path | None, options: dict[str, str], report: LoadReport) -> Dataset:
    """Generate the synthetic shop; ``options`` are :class:`SyntheticConfig` fields.

    Every generated row counts as read and accepted in ``report``.
    """
    fields = SyntheticConfig.model_fields
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise UsageError(
            f"--dataset synthetic: unknown option(s) {', '.join(unknown)}; "
            f"expected name=value with names from {', '.join(fields)}"
        )
    # pydantic turns "5000" into 5000; a bad value -> UsageError, in the spec's own words
    cfg = make_config(None, spelling="spec", **options)
    ds = generate(config=cfg)
    for table, n in ds.counts().items():
        if table in ("interactions", "texts", "items", "users", "social"):
            report.accept(table, n)
    report.notes.append(f"generated synthetic shop: {ds.summary()}")
    return ds
