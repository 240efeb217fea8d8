"""The typer application, global options and the error boundary.

Commands live in sibling modules (``_data``, ``_embed``, ``_segment``, ``_evaluate``); each is
a thin shell over library calls. A :class:`~segrec.diagnostics.UsageError` anywhere becomes one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from segrec._progress import enable_progress_bars
from segrec.diagnostics import MissingExtraError, SegrecWarning, UsageError, explain_invalid

app = typer.Typer(
    name="segrec",
    help="Find user segments from what users write and how they behave; recommend and evaluate.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Load, check and generate datasets.", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(data_app, name="data")

DatasetOpt = Annotated[
    str,
    typer.Option(
        "--dataset",
        "-d",
        help="KIND:PATH, e.g. movielens:ml-100k, amazon:reviews.json.gz, synthetic:users=2000,seed=7",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Sentence encoder: minilm (default), mpnet/large (see `segrec models list`) or a "
        "local model folder.",
    ),
]


def with_embedder(cfg: Any, **options: Any) -> Any:
    """``cfg`` (an EvalConfig) with the given text embedder options (those not None) set.

    A named or local model (from the options or the config file) must exist: a missing one
    stops the command here, before any data is read."""
    from segrec.features import resolve_model

    options = {k: v for k, v in options.items() if v is not None}
    if options:
        feats = dict(cfg.features)
        feats["embedder"] = {**dict(feats.get("embedder") or {}), **options}
        cfg = cfg.model_copy(update={"features": feats})
    model = (cfg.features.get("embedder") or {}).get("model")
    if model is not None:
        resolve_model(model)
    return cfg


@app.callback()
def _global(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")
    ] = 0,
    log_file: Annotated[
        Path | None, typer.Option("--log-file", help="Also write the log to this file.")
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bars.")] = False,
) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    root = logging.getLogger("segrec")
    root.setLevel(min(level, logging.INFO) if log_file else level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(_TerminalFormatter(verbose))
    root.handlers = [handler]
    if log_file is not None:
        fh = logging.FileHandler(log_file)
        fh.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
    from segrec._progress import SHORT_PHASE, enable_progress_lines

    tty = sys.stderr.isatty()
    enable_progress_bars(not no_progress and tty)
    # Piped or redirected: plain lines (phase, done/total, rate, ETA) at least every 20 s, even
    # without -v; with -v the segrec handler above already shows them.
    enable_progress_lines(None if no_progress or tty else 20.0)
    prog = logging.getLogger("segrec.progress")
    prog.handlers, prog.propagate = [], True
    prog.setLevel(logging.NOTSET)
    if not no_progress and not tty and verbose == 0:
        line = logging.StreamHandler(sys.stderr)
        line.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        # a "done" line only for phases long enough to have been worth waiting for
        line.addFilter(lambda r: getattr(r, "segrec_elapsed", SHORT_PHASE) >= SHORT_PHASE)
        prog.addHandler(line)
        prog.setLevel(logging.INFO)
        # its own line only: a root handler some library installs would print it again
        prog.propagate = False


class _TerminalFormatter(logging.Formatter):
    """Warnings and errors read like the CLI's own ``warning: ...`` lines; the logger's name is
    shown only with ``-v`` (where INFO/DEBUG lines from many modules interleave)."""

    def __init__(self, verbose: int) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        if self.verbose or record.levelno < logging.WARNING or record.exc_info:
            return super().format(record)
        return f"{record.levelname.lower()}: {record.getMessage()}"


def fail(message: str) -> typer.Exit:
    """Print one error line and return the exit-2 exception to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _one_line_warnings() -> None:
    """segrec's own warnings print as one ``warning: ...`` line, each distinct message once
    (a run builds features for several periods, and would otherwise repeat the same fallback
    with a source line); other libraries' warnings keep Python's format."""
    seen: set[str] = set()
    default = warnings.showwarning

    def show(message: Any, category: Any, filename: str, lineno: int, *a: Any, **k: Any) -> None:
        if not issubclass(category, SegrecWarning):
            default(message, category, filename, lineno, *a, **k)
        elif str(message) not in seen:
            seen.add(str(message))
            typer.echo(f"warning: {message}", err=True)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``segrec`` command."""
    _one_line_warnings()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # segrec draws its own progress bars; the model loader's per-weight bar is noise here.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from segrec.cli import _commands  # noqa: F401  (registers the commands)

    try:
        app(args=argv, standalone_mode=False)
    except (UsageError, MissingExtraError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc.filename}: no such file; check the path", err=True)
        sys.exit(2)
    except ValidationError as exc:
        # settings that reached a pydantic model unchecked: still the user's own values
        logging.getLogger("segrec").debug("invalid settings", exc_info=exc)
        typer.echo(f"error: invalid settings for {exc.title}: {explain_invalid(exc)}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:
        if _is_click_usage_error(exc):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(2)
        raise


def _is_click_usage_error(exc: Exception) -> bool:
    """typer >= 0.29 vendors click; accept both its exception class and click's own."""
    classes: list[type] = []
    try:
        from typer._click.exceptions import ClickException as VendoredClickException

        classes.append(VendoredClickException)
    except ImportError:  # pragma: no cover - older typer
        pass
    try:
        import click

        classes.append(click.exceptions.ClickException)
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, tuple(classes))
