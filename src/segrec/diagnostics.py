"""Every exception and warning class segrec raises, in one place.

User mistakes (a missing file, an unknown dataset kind, a mapping that names a missing column)
are :class:`UsageError`: the CLI prints their one-line message and exits with code 2, with no
traceback. Recoverable problems become categorised warnings that carry a measurement.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DataQualityWarning",
    "FallbackWarning",
    "MissingExtraError",
    "SegrecError",
    "SegrecWarning",
    "UsageError",
]


class SegrecError(Exception):
    """Base class of segrec's errors."""


class UsageError(SegrecError, ValueError):
    """A user mistake: bad path, unknown name, wrong option. The message names the fix."""


class DataError(SegrecError, ValueError):
    """Input data that cannot be used at all (as opposed to single bad rows, which are quarantined)."""


class MissingExtraError(SegrecError, ImportError):
    """An optional dependency group is not installed."""

    def __init__(self, extra: str, module: str, purpose: str = "") -> None:
        self.extra = extra
        self.module = module
        what = f" ({purpose})" if purpose else ""
        super().__init__(
            f"segrec needs the '{extra}' extra for {module}{what}: "
            f"install it with  pip install -c constraints.txt 'segrec[{extra}]'"
        )


class SegrecWarning(UserWarning):
    """Base class of segrec's warnings."""


class DataQualityWarning(SegrecWarning):
    """Rows were rejected, removed or repaired; the message says how many and why."""


class FallbackWarning(SegrecWarning):
    """A requested component could not be used and a fallback ran instead; says why."""


def require(module: str, extra: str, purpose: str = ""):  # type: ignore[no-untyped-def]
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(extra, module, purpose) from exc
