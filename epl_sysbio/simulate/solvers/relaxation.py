"""Relaxation by time course, polished by a damped Newton on the raw state.

The route for what NLEQ2 cannot do: rate-rule variables, time-dependent rates
(their steady state is the long-time limit), unreduced networks with
conservation laws, and whatever the Newton routes failed on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.simulate.results import Method, SteadyStateOptions
from epl_sysbio.simulate.solvers.base import Snapshot, Solved, Solver
from epl_sysbio.simulate.state_space import (
    dynamic_basis,
    project_to_totals,
    raw_jacobian,
    raw_rates,
    raw_scale,
    raw_state,
    set_raw_state,
)

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["Relaxation", "state_newton"]


class Relaxation(Solver):
    """Integrate until a looser residual test passes (1e3 x the tolerances), then :func:`state_newton`."""

    def skip(self, engine: Engine) -> str | None:
        return None

    def solve(self, engine: Engine, options: SteadyStateOptions, origin: Snapshot,
              reasons: list[str]) -> Solved | None:
        if engine.time_dependent:
            # Follow the forcing past its switching times before judging convergence.
            try:
                engine.roadrunner.oneStep(0.0, options.presimulation_times[-1])
            except RuntimeError as exc:
                reasons.append(f"presimulation: integrator: {exc}")
        loose = options.stopping.scaled(1e3)
        relaxed = engine.relax(t_max=options.relax_t_max, atol=loose.atol, rtol=loose.rtol,
                               restart_time=not engine.time_dependent)
        if relaxed.ended_by != "failed":
            project_to_totals(engine, origin)
            _, iterations = state_newton(engine, options)
            if engine._converged(options):
                return Solved(Method.RELAXATION, iterations,
                              f"relaxed to t={relaxed.time:g} ({relaxed.ended_by}), then state Newton")
        reasons.append(f"relaxation: {relaxed.ended_by} {relaxed.message}".strip())
        return None


def state_newton(engine: Engine, options: SteadyStateOptions, max_iter: int = 60) -> tuple[bool, int]:
    """Damped Newton on the raw state restricted to the range of its Jacobian; (converged, iterations).

    Works in scaled coordinates y = x / d (d the compartment volume of each
    species, 1 for rate-rule variables), i.e. in concentrations, so that the
    rank decision and the step do not depend on the compartment size.
    Directions outside the stoichiometric subspace (conservation laws
    libRoadRunner did not reduce) cannot change, so each step solves
    (Q^T J Q) dy = -Q^T F in the least-squares sense, with Q an orthonormal
    basis of that subspace, and sets y += Q dy.
    Works for rate-rule variables, which libRoadRunner's NLEQ2 leaves unsolved.
    """
    d = raw_scale(engine)
    # Directions the state may move in, in scaled coordinates: the exact stoichiometric
    # subspace, not the numerical range of a finite-difference Jacobian, whose noise
    # would leak off the conserved totals.
    q = np.linalg.qr(dynamic_basis(engine) / d[:, None])[0] if len(d) else np.zeros((0, 0))
    polish = 2  # Newton steps taken after the test first passes: small species gain digits
    for it in range(1, max_iter + 1):
        x = raw_state(engine)
        f = raw_rates(engine)
        if engine._converged(options):
            if polish == 0:
                return True, it - 1
            polish -= 1
            before = (x.copy(), float(np.linalg.norm(f / d)))
        jac = raw_jacobian(engine, x, f) * d[None, :] / d[:, None]  # dF_y/dy = D^-1 J D
        f = f / d
        x = x / d
        if q.shape[1] == 0:
            return False, it
        reduced, rhs = q.T @ jac @ q, -(q.T @ f)
        if not (np.all(np.isfinite(reduced)) and np.all(np.isfinite(rhs))):
            return False, it  # overflowed (a compartment of 1e308): LAPACK's SVD would not converge
        # Least squares: a Jacobian singular beyond the conservation laws still gets a step.
        dy = np.linalg.lstsq(reduced, rhs, rcond=None)[0]
        dx = q @ dy
        norm0 = np.linalg.norm(f)
        damping = 1.0
        while damping > 1e-6:
            set_raw_state(engine, (x + damping * dx) * d)
            f_new = raw_rates(engine) / d
            if np.all(np.isfinite(f_new)) and np.linalg.norm(f_new) < norm0:
                break
            damping *= 0.5
        else:
            set_raw_state(engine, x * d)
            return engine._converged(options), it
        if polish < 2 and float(np.linalg.norm(f_new)) >= before[1]:
            set_raw_state(engine, before[0])  # polishing made it worse: keep the converged point
            return True, it
    return engine._converged(options), max_iter
