"""The one stopping rule of every steady-state solve in the package.

A state is steady when ``norm(F) <= atol + rtol * norm(x)`` (Euclidean norms),
with ``x`` the floating species' **concentrations** (amount / compartment
volume; rate-rule variables as they are) and ``F = dx/dt`` in the same units.
libRoadRunner's own NLEQ2 test is in amounts, which in femtolitre compartments
passes at wrong states; every answer is re-judged here.

One :class:`StoppingRule` is shared by the engine's solver chain
(:mod:`epl_sysbio.simulate.solvers`), the engine's relaxation, the EPL
learner's Newton acceptance and relaxation (:mod:`epl_sysbio.epl.backends`;
:func:`epl_sysbio.dynamics.kernel.residual_ok` and
:func:`~epl_sysbio.dynamics.kernel.newton_accepted` are its compiled twins,
the same arithmetic in numba) and the equilibrium layer (through its engine).
optimistix's single ``rtol``/``atol`` convergence criterion, shared by its
Newton and Chord solvers, is the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from epl_sysbio.errors import Interval, validate_fields

__all__ = ["StoppingRule"]

_TOLERANCE = Interval(Real, 0, None, closed="neither")


@dataclass(frozen=True, kw_only=True)
class StoppingRule:
    """``norm(F) <= atol + rtol * norm(x)``, x in concentrations (module docstring).

    Parameters
    ----------
    atol : float
        Absolute residual tolerance, in concentration per model time unit.
    rtol : float
        Relative residual tolerance, per model time unit.
    """

    atol: float
    rtol: float

    def __post_init__(self) -> None:
        validate_fields(self, {"atol": _TOLERANCE, "rtol": _TOLERANCE})

    def tolerance(self, norm_state: float) -> float:
        """The largest residual accepted at a state of Euclidean norm ``norm_state``."""
        return self.atol + self.rtol * norm_state

    def passes(self, residual: float, norm_state: float) -> bool:
        """The residual test from the two norms (False for a nan residual)."""
        return residual <= self.tolerance(norm_state)

    def steady(self, rates: np.ndarray, state: np.ndarray, n_species: int | None = None) -> bool:
        """The residual test on vectors F and x, at a physical point.

        The first ``n_species`` entries of ``state`` (all by default) are
        concentrations and must not lie below ``-tolerance``: Newton can land on
        negative roots.
        """
        norm_state = math.sqrt(float(state @ state))
        tol = self.tolerance(norm_state)
        residual = math.sqrt(float(rates @ rates))
        n = len(state) if n_species is None else n_species
        return residual <= tol and bool(np.all(state[:n] >= -tol))

    def scaled(self, factor: float) -> StoppingRule:
        """The same rule with both tolerances multiplied by ``factor`` (a looser pre-test, a tighter polish)."""
        return StoppingRule(atol=self.atol * factor, rtol=self.rtol * factor)
