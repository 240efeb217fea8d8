"""The ``segrec`` command line: thin commands over the library."""

from segrec.cli._app import app, main

__all__ = ["app", "main"]
