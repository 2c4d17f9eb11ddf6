"""One error hierarchy for every user-facing failure, and one validator for parameters.

Every error is an :class:`EplSysbioError` and also the built-in type a caller
would already catch (``ValueError``, ``KeyError``, ``FileNotFoundError``,
``RuntimeError``). Messages name the model, the offending ids (sorted), the
value received and what to do.

Parameters are checked against a table of constraints, after scikit-learn's
``_param_validation``: each options class declares ``{name: constraint}``
(a constraint, or a list of them of which one must hold; ``None`` allows
None) and calls :func:`validate_fields` at construction::

    _PARAMETERS = {"rtol": Interval(Real, 0, None, closed="neither"),
                   "start": Options("reset", "warm"),
                   "batch_size": [None, Interval(Integral, 1, None, closed="left")]}

A value that fits none raises one error with the one message template
(:func:`invalid_parameter_message`), the constraint describing itself:
"The 'rtol' parameter of SteadyStateOptions must be a float in (0, inf). Got -1.0 instead."
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any, Literal

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
    "Constraint",
    "Interval",
    "Options",
    "InstanceOf",
    "ListOf",
    "validate",
    "validate_fields",
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


class Constraint(ABC):
    """A set of allowed values that describes itself (``str``) for the error message."""

    @abstractmethod
    def __contains__(self, value: object) -> bool: ...

    @abstractmethod
    def __str__(self) -> str: ...


def _bound(x: float) -> str:
    return f"{x:,}" if isinstance(x, Integral) else f"{x:g}"


@dataclass(frozen=True)
class Interval(Constraint):
    """Numbers of ``type`` between ``left`` and ``right`` (None: unbounded), ``closed`` on the named sides.

    ``type`` is what :func:`isinstance` takes: :class:`numbers.Real` (NumPy scalars too),
    ``(int, float)`` (the Python numbers a TOML file writes back), ``int``,
    :class:`numbers.Integral`. A bool or NaN is never in an interval.

    As in the text it renders, an infinite value is in the interval only if its side is
    unbounded and closed: ``Interval(Real, 0, None, closed="neither")`` is "a float in (0, inf)"
    and refuses ``inf``; ``closed="right"`` gives "(0, inf]" and accepts it.
    """

    type: type | tuple[type, ...]
    left: float | None
    right: float | None
    closed: Literal["left", "right", "both", "neither"]

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.type) or value != value:  # NaN != NaN
            return False
        low = -math.inf if self.left is None else self.left
        high = math.inf if self.right is None else self.right
        above = value >= low if self.closed in ("left", "both") else value > low
        below = value <= high if self.closed in ("right", "both") else value < high
        return bool(above and below)

    def __str__(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        integer = all(issubclass(t, Integral) for t in types)
        left_closed, right_closed = self.closed in ("left", "both"), self.closed in ("right", "both")
        if integer and self.right is None:
            return "an int" if self.left is None else f"an int {'>=' if left_closed else '>'} {_bound(self.left)}"
        if self.left is None and self.right is None and self.closed == "neither":
            return "a finite float"
        low = "-inf" if self.left is None else _bound(self.left)
        high = "inf" if self.right is None else _bound(self.right)
        return (f"{'an int' if integer else 'a float'} in "
                f"{'[' if left_closed else '('}{low}, {high}{']' if right_closed else ')'}")


class Options(Constraint):
    """One of the given values (strings, as a rule)."""

    def __init__(self, *values: Hashable) -> None:
        self.values = values

    def __contains__(self, value: object) -> bool:
        return isinstance(value, Hashable) and value in self.values

    def __str__(self) -> str:
        return f"one of {list(self.values)}"


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An instance of ``type`` (``InstanceOf(bool)``: True or False, not 0 or 1)."""

    type: type

    def __contains__(self, value: object) -> bool:
        return isinstance(value, self.type)

    def __str__(self) -> str:
        name = self.type.__name__
        return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


@dataclass(frozen=True)
class ListOf(Constraint):
    """A list or tuple whose every item is in ``item`` (and, with ``nonempty``, at least one item)."""

    item: Constraint
    nonempty: bool = False

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (list, tuple)) and (len(value) > 0 or not self.nonempty) \
            and all(v in self.item for v in value)

    def __str__(self) -> str:
        return f"a {'non-empty ' if self.nonempty else ''}list, each item {self.item}"


Rule = Constraint | None | list[Constraint | None]


def _allows(rule: list[Constraint | None], value: object) -> bool:
    return any(value is None if c is None else value in c for c in rule)


def _describe(rule: list[Constraint | None]) -> str:
    texts = ["None" if c is None else str(c) for c in rule]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def validate(owner: str, table: Mapping[str, Rule], values: Mapping[str, Any], *,
             error: type[EplSysbioError] = InvalidValueError) -> None:
    """Check ``values[name]`` against ``table[name]`` in the table's order.

    Raises
    ------
    error
        For the first value no constraint of its rule allows, with
        :func:`invalid_parameter_message` naming ``owner``, the parameter, the
        constraint's text and the value.
    """
    for name, rule in table.items():
        alternatives = rule if isinstance(rule, list) else [rule]
        check_parameter(owner, name, _allows(alternatives, values[name]), _describe(alternatives), values[name],
                        error=error)


def validate_fields(obj: object, table: Mapping[str, Rule], *,
                    error: type[EplSysbioError] = InvalidValueError) -> None:
    """:func:`validate` the fields of a dataclass instance, its class name as the owner."""
    validate(type(obj).__name__, table, {name: getattr(obj, name) for name in table}, error=error)
