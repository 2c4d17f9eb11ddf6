"""The last resort of a moiety-reduced engine: solve on an unreduced twin, check on the reduced model."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.simulate.results import SteadyStateOptions
from epl_sysbio.simulate.solvers.base import Snapshot, Solved, Solver

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["UnreducedTwin"]


class UnreducedTwin(Solver):
    """Solve on a twin compiled without moiety analysis, then copy the answer back.

    With femtolitre compartments the reduced system (dependent species as a
    total minus others) can defeat CVODE where the unreduced one does not
    (BIOMD0000000183). The twin is compiled once, on first need, and kept on
    the engine.
    """

    def skip(self, engine: Engine) -> str | None:
        return None if engine.moiety_analysis else ""

    def solve(self, engine: Engine, options: SteadyStateOptions, origin: Snapshot,
              reasons: list[str]) -> Solved | None:
        if engine._twin is None:
            engine._twin = type(engine)(engine.model, options=engine.options, conserved_moiety_analysis=False)
        twin = engine._twin
        rr = engine.roadrunner
        twin.set_values({p: rr.getValue(p) for p in engine._settable_ids()})
        amounts = engine.amounts()
        twin.write_amounts(np.array([amounts[s] for s in twin.floating_ids]))
        for sid in engine.rate_rule_ids:
            twin.roadrunner.setValue(sid, rr.getValue(sid))
        twin.roadrunner.model.setTime(0.0)
        result = twin.steady_state(options=dataclasses.replace(options, stability=False))
        if not result.converged:
            reasons.append(f"unreduced twin: {result.message}")
            return None
        engine.write_amounts(np.array([result.amounts[s] for s in engine.floating_ids]))
        for sid in engine.rate_rule_ids:
            rr.setValue(sid, result.values[sid])
        if not engine._converged(options):
            reasons.append("unreduced twin converged, but the reduced model does not pass the residual test there")
            return None
        return Solved(result.method, result.iterations,
                      f"moiety-reduced routes failed; solved without moiety analysis ({result.method.value}), "
                      "checked on the reduced model")
