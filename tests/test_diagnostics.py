"""``explain_invalid``: pydantic errors as one line that names the field, value and fix."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from segrec.diagnostics import explain_invalid


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alpha: float = Field(1.0, gt=0)
    beta: int = 2


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inner: Inner | None = None
    k: int = Field(10, ge=1)
    name: str


def _error(**kwargs: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Outer(**kwargs)
    return info.value


def test_unknown_nested_key_lists_that_models_keys():
    line = explain_invalid(_error(name="x", inner={"alpah": 2}), Outer)
    assert line == "unknown setting 'inner.alpah' (known: alpha, beta)"


def test_values_are_named_and_missing_fields_have_none():
    line = explain_invalid(_error(k=0), Outer)
    assert line.startswith("k=0: Input should be greater than or equal to 1; name: Field required")


def test_long_lists_are_cut_with_a_count():
    err = _error(k=0, inner={"alpha": -1, "beta": "b", "gamma": 1})
    line = explain_invalid(err, Outer, limit=2)
    assert line.endswith("; and 3 more") and line.count(";") == 2


def test_other_exceptions_pass_through():
    assert explain_invalid(ValueError("plain")) == "plain"
