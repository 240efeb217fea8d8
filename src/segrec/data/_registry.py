"""``KIND:PATH`` dataset specs -> loader functions.

A loader has the signature ``load(path: Path, options: dict[str, str], report: LoadReport)
-> Dataset`` and registers itself with :func:`register_loader`. :func:`load_dataset` is the one
entry point the CLI, the pipeline and tests use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from segrec.data._dataset import Dataset
from segrec.data._quarantine import LoadReport
from segrec.diagnostics import UsageError

__all__ = ["DatasetSpec", "available_loaders", "load_dataset", "parse_spec", "register_loader"]

Loader = Callable[[Path | None, dict[str, str], LoadReport], Dataset]
_LOADERS: dict[str, Loader] = {}
_NEEDS_PATH: dict[str, bool] = {}


def register_loader(kind: str, needs_path: bool = True) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        _LOADERS[kind] = fn
        _NEEDS_PATH[kind] = needs_path
        return fn

    return deco


def available_loaders() -> list[str]:
    _import_loaders()
    return sorted(_LOADERS)


@dataclass(frozen=True)
class DatasetSpec:
    kind: str
    path: Path | None
    options: dict[str, str]

    def __str__(self) -> str:
        return f"{self.kind}:{self.path or ''}"


def parse_spec(spec: str) -> DatasetSpec:
    """Parse ``KIND:PATH`` (``synthetic:`` and ``synthetic:users=500,seed=7`` take options).

    A path may carry options after ``?``: ``amazon:reviews.json.gz?meta=meta.json.gz``.
    """
    _import_loaders()
    if ":" not in spec:
        raise UsageError(
            f"--dataset '{spec}' is not KIND:PATH; use e.g. movielens:path/to/ml-100k "
            f"(kinds: {', '.join(sorted(_LOADERS))})"
        )
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in _LOADERS:
        raise UsageError(
            f"--dataset: unknown KIND '{kind}'; choose one of {', '.join(sorted(_LOADERS))}"
        )
    options: dict[str, str] = {}
    path: Path | None = None
    if not _NEEDS_PATH[kind]:
        for part in filter(None, rest.split(",")):
            if "=" not in part:
                raise UsageError(f"--dataset {spec}: option '{part}' is not name=value")
            k, _, v = part.partition("=")
            options[k.strip()] = v.strip()
        return DatasetSpec(kind, None, options)
    rest, _, opts = rest.partition("?")
    for part in filter(None, opts.split("&")):
        k, _, v = part.partition("=")
        options[k.strip()] = v.strip()
    if not rest:
        raise UsageError(f"--dataset {spec}: no PATH after '{kind}:'; give the file or folder")
    path = Path(rest).expanduser()
    if not path.exists():
        raise UsageError(f"--dataset {spec}: {path} does not exist; check the path")
    return DatasetSpec(kind, path, options)


def load_dataset(
    spec: str | DatasetSpec, quarantine: str | Path | None = None
) -> tuple[Dataset, LoadReport]:
    """Load a dataset from a ``KIND:PATH`` spec; returns it with its :class:`LoadReport`."""
    s = parse_spec(spec) if isinstance(spec, str) else spec
    report = LoadReport(quarantine)
    try:
        ds = _LOADERS[s.kind](s.path, s.options, report)
    except BaseException:
        report.close(complete=False)
        raise
    report.close()
    report.check()
    return ds, report


def _import_loaders() -> None:
    # Importing the modules runs their @register_loader decorators.
    from segrec.data import loaders  # noqa: F401
