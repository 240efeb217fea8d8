"""segrec: user segments from what users write and how they behave, turned into better
recommendations and measured honestly.

The whole chain in one call (what ``segrec run`` does)::

    from segrec import run_pipeline
    from segrec.data import load_dataset

    ds, report = load_dataset("synthetic:users=2000,seed=7")
    result = run_pipeline(ds, "out/")   # results.json, segments, profiles, report.html
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["PipelineResult", "SegrecModel", "__version__", "load_model", "run_pipeline"]


def __getattr__(name: str) -> Any:
    # Lazy: ``import segrec.data`` must not pay for the whole evaluation stack.
    if name in ("PipelineResult", "run_pipeline"):
        from segrec import _pipeline

        return getattr(_pipeline, name)
    if name in ("SegrecModel", "load_model"):
        from segrec import model

        return getattr(model, name)
    raise AttributeError(f"module 'segrec' has no attribute {name!r}")
