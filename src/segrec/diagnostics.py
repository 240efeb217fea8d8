"""Every exception and warning class segrec raises, in one place.

User mistakes (a missing file, an unknown dataset kind, a mapping that names a missing column)
are :class:`UsageError`: the CLI prints their one-line message and exits with code 2, with no
traceback. Recoverable problems become categorised warnings that carry a measurement.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

_M = TypeVar("_M")

__all__ = [
    "DataError",
    "DataQualityWarning",
    "FallbackWarning",
    "MissingExtraError",
    "SegrecError",
    "SegrecWarning",
    "TimeBudgetExceeded",
    "UsageError",
    "explain_invalid",
    "validated",
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


class TimeBudgetExceeded(SegrecError):
    """A step ran past its time budget (``method_seconds`` of the evaluation) and was stopped;
    the message says what, after how long, and which setting to raise."""


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


def explain_invalid(exc: Exception, model: type | None = None, limit: int = 3) -> str:
    """One readable line for a pydantic ``ValidationError`` (other exceptions: ``str(exc)``).

    Each problem reads ``field=value: what is wrong``; an unknown key lists the keys ``model``
    (a pydantic model class) accepts at that place, so a misspelt setting names its fix.
    """
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for err in errors()[:limit]:
        loc = [str(x) for x in err.get("loc", ())]
        name = ".".join(loc) or "settings"
        if err.get("type") == "extra_forbidden":
            known = _fields_at(model, loc[:-1])
            hint = f" (known: {', '.join(known)})" if known else ""
            parts.append(f"unknown setting '{name}'{hint}")
            continue
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        value = err.get("input")
        shown = "" if isinstance(value, dict) or err.get("type") == "missing" else f"={value!r}"
        parts.append(f"{name}{shown}: {msg}")
    more = len(errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def validated(model: type[_M], what: str, hint: str = "", **kwargs: Any) -> _M:
    """``model(**kwargs)`` (a pydantic model); invalid values raise one :class:`UsageError`
    line, ``"{what}: {field=value: problem}{hint}"``, instead of pydantic's report."""
    try:
        return model(**kwargs)
    except ValidationError as exc:
        raise UsageError(f"{what}: {explain_invalid(exc, model)}{hint}") from None


def _fields_at(model: type | None, path: list[str]) -> list[str]:
    """The field names of the pydantic model reached from ``model`` along ``path``."""
    for key in path:
        field = getattr(model, "model_fields", {}).get(key)
        ann = getattr(field, "annotation", None)
        # ``X | None`` and the like: the first member that is a model
        members = [ann, *getattr(ann, "__args__", ())]
        model = next((m for m in members if hasattr(m, "model_fields")), None)
    return sorted(getattr(model, "model_fields", {}) or [])
