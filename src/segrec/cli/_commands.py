"""Imports every command module so their decorators register with the app."""

from segrec.cli import (  # noqa: F401
    _data,
    _embed,
    _engine,
    _evaluate,
    _federated,
    _model,
    _models,
    _run,
    _segment,
    _serve,
    _synth,
)
