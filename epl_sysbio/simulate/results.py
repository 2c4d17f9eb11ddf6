"""Options and result objects of the steady-state engine."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from epl_sysbio.errors import Interval, ListOf, validate_fields
from epl_sysbio.simulate.stopping import StoppingRule

__all__ = [
    "SteadyStateOptions",
    "Status",
    "Method",
    "SteadyStateResult",
    "BatchResult",
    "RelaxResult",
]


class Status(str, enum.Enum):
    """How a steady-state solve ended. ``str`` values are what the CLI prints."""

    STABLE = "stable"  #: converged; every eigenvalue of the reduced Jacobian has Re < 0
    UNSTABLE = "unstable"  #: converged to a point some eigenvalue has Re > 0 (do not trust it as a rest state)
    MARGINAL = "marginal"  #: converged; the largest real part is zero within tolerance
    UNCHECKED = "unchecked"  #: converged; stability not judged (``SteadyStateOptions(stability=False)``)
    NOT_CONVERGED = "not_converged"  #: no method reached the residual tolerance
    UNSUPPORTED = "unsupported"  #: the model has features a steady state is not defined for (events)

    @property
    def converged(self) -> bool:
        return self in (Status.STABLE, Status.UNSTABLE, Status.MARGINAL, Status.UNCHECKED)

    def __str__(self) -> str:  # print(result.status) reads "stable", as the CLI prints it
        return self.value


class Method(str, enum.Enum):
    """Which route produced the steady state."""

    NEWTON = "newton"  #: libRoadRunner's NLEQ2 from the start state
    PRESIMULATION = "presimulation"  #: a time course to t, then NLEQ2
    RELAXATION = "relaxation"  #: a time course until the residual test passed, then Newton polishing
    NONE = "none"

    def __str__(self) -> str:
        return self.value


_POSITIVE = Interval(Real, 0, None, closed="neither")
_STEADY_STATE_PARAMETERS = {"atol": _POSITIVE, "rtol": _POSITIVE, "relax_t_max": _POSITIVE, "eigen_rtol": _POSITIVE,
                            "presimulation_times": ListOf(_POSITIVE)}


@dataclass(frozen=True, kw_only=True)
class SteadyStateOptions:
    """Settings of :meth:`Engine.steady_state`.

    A state ``x`` (floating species concentrations and rate-rule variables)
    is accepted as steady when ``norm(dx/dt) <= atol + rtol * norm(x)``
    (Euclidean norms; :class:`~epl_sysbio.simulate.stopping.StoppingRule`).

    Parameters
    ----------
    atol, rtol : float
        Residual tolerance, as above.
    presimulation_times : tuple of float
        Model times tried in turn, each from the start state, before Newton.
    relax_t_max : float
        Time cap of the relaxation route.
    stability : bool
        Compute eigenvalues of the reduced Jacobian and classify the point;
        when False a converged point gets the status ``unchecked``.
    eigen_rtol : float
        Real parts within ``eigen_rtol * max(1, max|lambda|)`` of 0 count as zero.
    """

    atol: float = 1e-9
    rtol: float = 1e-9
    presimulation_times: tuple[float, ...] = (10.0, 100.0, 1000.0, 10000.0)
    relax_t_max: float = 1e6
    stability: bool = True
    eigen_rtol: float = 1e-9

    def __post_init__(self) -> None:
        object.__setattr__(self, "presimulation_times", tuple(self.presimulation_times))
        validate_fields(self, _STEADY_STATE_PARAMETERS)
        object.__setattr__(self, "presimulation_times", tuple(float(t) for t in self.presimulation_times))

    @property
    def stopping(self) -> StoppingRule:
        """The residual test these options set."""
        return StoppingRule(atol=self.atol, rtol=self.rtol)


@dataclass(frozen=True)
class SteadyStateResult:
    """The outcome of one steady-state solve.

    ``values`` holds concentrations of floating and boundary species
    (libRoadRunner's ``[id]``, what COPASI reports) and the values of rate-rule
    variables, by id; ``amounts`` the floating species amounts.
    """

    model: str
    status: Status
    message: str
    method: Method
    residual: float
    iterations: int
    values: dict[str, float]
    amounts: dict[str, float]
    fluxes: dict[str, float]
    eigenvalues: np.ndarray | None = None
    start: str = "current"
    notes: tuple[str, ...] = field(default=())

    @property
    def converged(self) -> bool:
        return self.status.converged

    @property
    def stable(self) -> bool:
        return self.status is Status.STABLE

    @property
    def max_real_eigenvalue(self) -> float | None:
        if self.eigenvalues is None or len(self.eigenvalues) == 0:
            return None
        return float(np.max(np.real(self.eigenvalues)))

    def __getitem__(self, sid: str) -> float:
        return self.values[sid]

    def to_dict(self) -> dict:
        """JSON-ready summary (the CLI's ``--format json``); non-finite numbers become None."""
        return {
            "model": self.model,
            "status": self.status.value,
            "stable": self.stable,
            "residual": _finite_or_none(self.residual),
            "method": self.method.value,
            "iterations": self.iterations,
            "message": self.message,
            "max_real_eigenvalue": _finite_or_none(self.max_real_eigenvalue),
            "values": {k: _finite_or_none(v) for k, v in self.values.items()},
        }


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class BatchResult:
    """Steady states of many input assignments, in input order.

    ``values[i, j]`` is output ``ids[j]`` of sample ``i`` (NaN where sample ``i``
    did not converge: check ``status`` / ``converged``).
    """

    ids: tuple[str, ...]
    values: np.ndarray
    status: tuple[Status, ...]
    residual: np.ndarray
    methods: tuple[Method, ...]
    start: str

    @property
    def converged(self) -> np.ndarray:
        return np.array([s.converged for s in self.status], dtype=bool)

    @property
    def stable(self) -> np.ndarray:
        return np.array([s is Status.STABLE for s in self.status], dtype=bool)


@dataclass(frozen=True)
class RelaxResult:
    """A relaxation by time course.

    ``ended_by`` is ``"converged"`` (``norm(F) <= atol + rtol*norm(x)``),
    ``"time_cap"`` or ``"failed"`` (integrator error or non-finite state; see
    ``message``). ``trace`` has shape (n_points, 1 + len(selections)), time first.
    """

    ended_by: str
    time: float
    residual: float
    trace: np.ndarray
    selections: tuple[str, ...]
    message: str = ""

    @property
    def converged(self) -> bool:
        return self.ended_by == "converged"

    def column(self, selection: str) -> np.ndarray:
        return self.trace[:, 1 + self.selections.index(selection)]
