"""Imports every command module so their decorators register with the app."""

from segrec.cli import _data, _embed, _evaluate, _models, _run, _segment, _synth  # noqa: F401
