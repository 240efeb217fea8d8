"""The fitted model: fit on all data, save and load a folder, assign, recommend and update one
user at a time, refresh with stable segment ids, and watch drift. The CLI (``segrec fit``,
``segrec drift``, ``segrec forget``), ``segrec run`` and the HTTP service all go through it.

    >>> # from segrec.model import fit_model, load_model
    >>> # model = fit_model(ds); model.save("model/")
    >>> # load_model("model/").assign(texts=["warm tone, great strings"])
"""

from segrec.model._drift import DriftReport, DriftThresholds, psi
from segrec.model._fit import (
    Choice,
    choice_from_result,
    choice_from_run,
    fit_model,
    serving_dataset,
)
from segrec.model._folder import FORMAT_VERSION
from segrec.model._model import Assignment, SegrecModel
from segrec.model._persist import load_model, save_model
from segrec.model._refresh import RefreshReport

__all__ = [
    "FORMAT_VERSION",
    "Assignment",
    "Choice",
    "DriftReport",
    "DriftThresholds",
    "RefreshReport",
    "SegrecModel",
    "choice_from_result",
    "choice_from_run",
    "fit_model",
    "load_model",
    "psi",
    "save_model",
    "serving_dataset",
]
