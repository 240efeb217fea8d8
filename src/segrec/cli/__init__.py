"""The ``segrec`` command line: thin commands over the library."""

import sys

from segrec.cli._app import app
from segrec.cli._app import main as _run_app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``segrec`` command.

    The thread budget comes first: the native thread pools (OpenMP, BLAS, torch, faiss) read
    their sizes and wait policy once, when numpy and torch are first imported, and the commands
    import them.
    """
    from segrec._threads import configure_threads
    from segrec.diagnostics import UsageError

    try:
        configure_threads()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    _run_app(argv)
