"""The steady-state solver chain: small solvers tried in order, each from the start state.

1. :class:`Newton`: libRoadRunner's NLEQ2 (guarded: :func:`guarded_nleq2`);
2. :class:`Presimulation`: a time course to each presimulation time, then NLEQ2;
3. :class:`Relaxation`: a time course until a looser test passes, polished by a
   damped Newton on the raw state (:func:`state_newton`);
4. :class:`UnreducedTwin`: for a moiety-reduced engine, the same on a twin
   compiled without moiety analysis.

A solver that does not apply says why (or nothing) in :meth:`Solver.skip`. The
first answer that passes the options' one
:class:`~epl_sysbio.simulate.stopping.StoppingRule` wins; after each failure
the engine returns to the start state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from epl_sysbio.simulate.results import SteadyStateOptions
from epl_sysbio.simulate.solvers.base import Solved, Solver
from epl_sysbio.simulate.solvers.nleq2 import Newton, Presimulation, guarded_nleq2
from epl_sysbio.simulate.solvers.relaxation import Relaxation, state_newton
from epl_sysbio.simulate.solvers.unreduced import UnreducedTwin

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["CHAIN", "Newton", "Presimulation", "Relaxation", "Solved", "Solver", "UnreducedTwin", "guarded_nleq2",
           "run_chain", "state_newton"]

#: The order the engine tries its solvers in.
CHAIN: tuple[Solver, ...] = (Newton(), Presimulation(), Relaxation(), UnreducedTwin())


def run_chain(engine: Engine, options: SteadyStateOptions,
              chain: tuple[Solver, ...] = CHAIN) -> tuple[Solved | None, list[str]]:
    """The first solver's answer that passes the stopping rule (None if none did), and why the others failed.

    A failed chain leaves the engine at the state it started from.
    """
    origin = engine._snapshot()
    reasons: list[str] = []
    for solver in chain:
        why = solver.skip(engine)
        if why is not None:
            if why:
                reasons.append(why)
            continue
        solved = solver.solve(engine, options, origin, reasons)
        if solved is not None:
            return solved, reasons
        engine._restore(origin)
    return None, reasons
