"""One error hierarchy for every user-facing failure.

Every error is an :class:`EplSysbioError` and also the built-in type a caller
would already catch (``ValueError``, ``KeyError``, ``FileNotFoundError``,
``RuntimeError``). Messages name the model, the offending ids (sorted), the
value received and what to do.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

__all__ = [
    "EplSysbioError",
    "ModelLoadError",
    "ModelValidationError",
    "ModelFileNotFoundError",
    "UnknownIdError",
    "InvalidValueError",
    "UnsupportedModelError",
    "SteadyStateError",
    "ConfigError",
    "CheckpointError",
    "ModelLimitError",
    "FileAccessError",
    "TimeLimitError",
    "NativeCrashError",
    "RunLockedError",
    "OptionalDependencyError",
    "invalid_parameter_message",
    "format_ids",
    "checked_number",
    "check_parameter",
    "is_int",
    "is_finite_positive",
]


class EplSysbioError(Exception):
    """Root of every error raised on purpose by epl_sysbio."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ModelLoadError(EplSysbioError, ValueError):
    """The text or file could not be read as Antimony or SBML."""


class ModelValidationError(EplSysbioError, ValueError):
    """The SBML is readable but fails libsbml's consistency checks."""


class ModelFileNotFoundError(EplSysbioError, FileNotFoundError):
    """A model path does not exist or is not a file."""


class UnknownIdError(EplSysbioError, KeyError):
    """One or more ids are not in the model."""


class InvalidValueError(EplSysbioError, ValueError):
    """A value is out of its allowed range (negative amount, NaN, ...)."""


class UnsupportedModelError(EplSysbioError, ValueError):
    """The model uses a feature an operation cannot handle (events, ...)."""


class SteadyStateError(EplSysbioError, RuntimeError):
    """A steady state was requested with ``throw=True`` and not reached."""


class ConfigError(EplSysbioError, ValueError):
    """A configuration file or object is invalid."""


class CheckpointError(EplSysbioError, ValueError):
    """A checkpoint is missing, truncated, tampered with or from another run."""


class ModelLimitError(ModelLoadError):
    """A model exceeds a load limit (size, nesting depth, element count) checked before parsing."""


class FileAccessError(EplSysbioError, OSError):
    """A file the user named cannot be read or written (permissions, a directory, a full disk, ...)."""


class TimeLimitError(EplSysbioError, TimeoutError):
    """An isolated computation ran past its wall-clock budget and was killed."""


class NativeCrashError(EplSysbioError, RuntimeError):
    """Native code (libsbml, libRoadRunner) crashed the process an isolated computation ran in."""


class RunLockedError(EplSysbioError, RuntimeError):
    """A run directory is in use by another live process (its lock file names the owner)."""


class OptionalDependencyError(EplSysbioError, ModuleNotFoundError):
    """A feature needs a package from an extra that is not installed (the message names the pip command)."""


def format_ids(ids: Iterable[str], limit: int = 20) -> str:
    """Sorted, quoted, comma-separated ids, truncated after ``limit``."""
    ids = sorted({str(i) for i in ids})
    shown = ", ".join(repr(i) for i in ids[:limit])
    if len(ids) > limit:
        shown += f", ... ({len(ids) - limit} more)"
    return shown


def invalid_parameter_message(owner: str, name: str, constraint: str, got: object) -> str:
    """The one template for a bad parameter value.

    >>> invalid_parameter_message("SteadyStateOptions", "rtol", "a float in (0, inf)", -1.0)
    "The 'rtol' parameter of SteadyStateOptions must be a float in (0, inf). Got -1.0 instead."
    """
    return f"The {name!r} parameter of {owner} must be {constraint}. Got {got!r} instead."


def checked_number(model: str, sid: str, value: object, *, nonnegative: bool) -> float:
    """``value`` as a finite float, else :class:`InvalidValueError` naming the model and id.

    ``nonnegative`` is for amounts, concentrations and sizes.
    """
    # float() would take "1" and True: a value must already be a number.
    if isinstance(value, (str, bytes, bool)) or type(value).__name__ in ("bool_", "bool"):
        raise InvalidValueError(f"Model {model!r}: value for {sid!r} must be a number. Got {value!r} "
                                f"({type(value).__name__}) instead.")
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidValueError(f"Model {model!r}: value for {sid!r} must be a number. Got {value!r} instead.") from None
    if not math.isfinite(v):
        raise InvalidValueError(f"Model {model!r}: value for {sid!r} must be finite. Got {value!r} instead.")
    if nonnegative and v < 0:
        raise InvalidValueError(
            f"Model {model!r}: {sid!r} is an amount, concentration or size and must be >= 0. Got {v!r} instead."
        )
    return v


def check_parameter(
    owner: str, name: str, ok: bool, constraint: str, got: object, *, error: type[EplSysbioError] = InvalidValueError
) -> None:
    """Raise ``error`` with :func:`invalid_parameter_message` unless ``ok``."""
    if not ok:
        raise error(invalid_parameter_message(owner, name, constraint, got))


def is_int(x: object) -> bool:
    """An integer (Python or NumPy), not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_finite_positive(x: object) -> bool:
    """A finite real number > 0 (Python or NumPy), not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) and x > 0
