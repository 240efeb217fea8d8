"""segrec: user segments from what users write and how they behave, turned into better
recommendations and measured honestly.

The whole chain in one call (what ``segrec run`` does)::

    from segrec import run_pipeline
    from segrec.data import load_dataset

    ds, report = load_dataset("synthetic:users=2000,seed=7")
    result = run_pipeline(ds, "out/")   # results.json, segments, profiles, report.html
"""

from segrec._pipeline import PipelineResult, run_pipeline

__version__ = "0.1.0"
__all__ = ["PipelineResult", "__version__", "run_pipeline"]
