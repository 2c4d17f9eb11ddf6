"""libRoadRunner's NLEQ2 Newton, guarded, from the start state or after a presimulation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.simulate.results import Method, SteadyStateOptions
from epl_sysbio.simulate.solvers.base import Snapshot, Solved, Solver
from epl_sysbio.simulate.state_space import unreduced_laws

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["NLEQ2_LARGEST", "guarded_nleq2", "Newton", "Presimulation"]

#: Largest magnitude of a state, rate or parameter value NLEQ2 is started with (see :func:`guarded_nleq2`).
NLEQ2_LARGEST = 1e300


def guarded_nleq2(engine: Engine) -> str | None:
    """libRoadRunner's NLEQ2 from the current state; None when it reports success, else the reason.

    Never started where a rate is not finite, or where a state, rate or parameter
    value is within a factor 1e8 of the largest double: NLEQ2 then loops for ever in
    its linear algebra (``deccon``), out of reach of Ctrl-C (receptor_synapse with
    kon = 1e308; homeostatic_unit with h = 1e308 or ATP = 1e308, whose rates are
    finite; values up to 1e307 failed cleanly, measured).
    """
    rr = engine.roadrunner
    m = rr.model
    rates = rr.getRatesOfChange()
    if not np.all(np.isfinite(rates)):
        return "not started: the rates of change are not finite here (an overflow)"
    largest = max((float(np.max(np.abs(v), initial=0.0)) for v in (
        rates, m.getFloatingSpeciesAmounts(), m.getGlobalParameterValues(), m.getCompartmentVolumes(),
        m.getBoundarySpeciesAmounts())), default=0.0)
    if not largest <= NLEQ2_LARGEST:
        return f"not started: a value of magnitude {largest:.3g} would overflow NLEQ2's linear algebra"
    try:
        rr.steadyState()
    except RuntimeError as exc:
        return str(exc).strip() or "NLEQ2 failed"
    return None


def _nleq2_unusable(engine: Engine) -> bool:
    # NLEQ2 ignores rate rules, evaluates `time` at 0, and cannot solve an unreduced system
    # with conservation laws (its Jacobian is singular).
    return bool(engine.rate_rule_ids) or engine.time_dependent or unreduced_laws(engine)


class Newton(Solver):
    """NLEQ2 from the start state."""

    def skip(self, engine: Engine) -> str | None:
        if unreduced_laws(engine):
            return "newton: skipped, conservation laws without moiety analysis make its Jacobian singular"
        return "" if _nleq2_unusable(engine) else None

    def solve(self, engine: Engine, options: SteadyStateOptions, origin: Snapshot,
              reasons: list[str]) -> Solved | None:
        err = guarded_nleq2(engine)
        if err is None and engine._converged(options):
            return Solved(Method.NEWTON, 1, "Newton converged")
        reasons.append(f"newton: {err or 'residual above tolerance'}")
        return None


class Presimulation(Solver):
    """A time course to each of ``options.presimulation_times`` in turn (from the start state), then NLEQ2."""

    def skip(self, engine: Engine) -> str | None:
        return "" if _nleq2_unusable(engine) else None

    def solve(self, engine: Engine, options: SteadyStateOptions, origin: Snapshot,
              reasons: list[str]) -> Solved | None:
        for attempt, t in enumerate(options.presimulation_times, start=2):
            engine._restore(origin)
            try:
                # oneStep ends where simulate(0, t, 2) ends (bit for bit, measured), without
                # simulate()'s leak of ~120 bytes per call in libRoadRunner 2.10.
                engine.roadrunner.oneStep(0.0, t)
            except RuntimeError as exc:
                reasons.append(f"presimulation to {t:g}: integrator: {exc}")
                return None
            err = guarded_nleq2(engine)
            if err is None and engine._converged(options):
                return Solved(Method.PRESIMULATION, attempt, f"presimulated to t={t:g}, then Newton")
            reasons.append(f"presimulation to {t:g}: {err or 'residual above tolerance'}")
        return None
