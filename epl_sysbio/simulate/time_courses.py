"""Time courses of an :class:`~epl_sysbio.simulate.Engine`: a fixed horizon, or until the stopping rule passes.

The bodies of :meth:`Engine.time_course` and :meth:`Engine.relax` (their
docstrings say what they do); isolation is handled by the engine before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.errors import Interval, validate
from epl_sysbio.simulate.results import RelaxResult
from epl_sysbio.simulate.stopping import StoppingRule

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["MAX_POINTS", "time_course", "relax"]

#: Most points one time course may hold (about 8 GB per 1000 selections beyond it).
MAX_POINTS = 1_000_000

_POSITIVE = Interval(Real, 0, None, closed="neither")
_POINTS = Interval(Integral, 2, MAX_POINTS, closed="both")


def time_course(engine: Engine, t_end: float, points: int, selections: Sequence[str] | None) -> np.ndarray:
    """:meth:`Engine.time_course`: shape (points, 1 + len(selections)), time first."""
    validate("time_course", {"t_end": _POSITIVE, "points": _POINTS}, {"t_end": t_end, "points": points})
    sel = list(selections) if selections is not None else [f"[{s}]" for s in engine.floating_ids] + list(engine.rate_rule_ids)
    engine._require([s for s in sel if s != "time" and s not in engine.reaction_ids])
    rr = engine.roadrunner
    t0 = rr.model.getTime()
    out = rr.simulate(t0, t0 + float(t_end), int(points), ["time"] + sel)
    return np.asarray(out)


def relax(engine: Engine, selections: Sequence[str], *, t_max: float | None, atol: float | None,
      rtol: float | None, first_step: float, points_per_chunk: int, restart_time: bool) -> RelaxResult:
    """:meth:`Engine.relax`: chunks doubling from ``first_step`` until the stopping rule passes or ``t_max``."""
    opts = engine.options
    validate("relax", {**dict.fromkeys(("t_max", "atol", "rtol"), [_POSITIVE, None]), "first_step": _POSITIVE,
                       "points_per_chunk": _POINTS},
             {"t_max": t_max, "atol": atol, "rtol": rtol, "first_step": first_step,
              "points_per_chunk": points_per_chunk})
    t_max = opts.relax_t_max if t_max is None else float(t_max)
    atol = opts.atol if atol is None else float(atol)
    rtol = opts.rtol if rtol is None else float(rtol)
    rule = StoppingRule(atol=atol, rtol=rtol)
    sel = ["time"] + list(selections)
    if selections:
        engine._require([s for s in selections])
    rr = engine.roadrunner
    if restart_time:
        rr.model.setTime(0.0)
    t0 = t = float(rr.model.getTime())
    start_row = np.array([[t, *(rr.getValue(s) for s in selections)]])
    t_max += t0
    step = float(first_step)
    chunks = []
    while True:
        residual = engine.residual()
        if not math.isfinite(residual):
            return RelaxResult("failed", t, residual, _stack(chunks, start_row), tuple(selections), "non-finite state")
        if rule.passes(residual, float(np.linalg.norm(engine.state()))):
            return RelaxResult("converged", t, residual, _stack(chunks, start_row), tuple(selections))
        if t >= t_max:
            return RelaxResult("time_cap", t, residual, _stack(chunks, start_row), tuple(selections),
                               f"residual {residual:.3g} still above tolerance at t = {t:g}")
        t_next = min(t + step, t_max)
        try:
            if selections:
                chunk = np.asarray(rr.simulate(t, t_next, points_per_chunk, sel))
            else:
                # No trace wanted: oneStep integrates to the same end point as simulate() without
                # the ~120 bytes libRoadRunner's simulate() leaks per call (measured, 2.10).
                rr.oneStep(t, t_next - t)
                chunk = np.array([[t_next]])
        except RuntimeError as exc:
            return RelaxResult("failed", t, residual, _stack(chunks, start_row), tuple(selections), f"integrator: {exc}")
        chunks.append(chunk if not chunks else chunk[1:])
        t = t_next
        step *= 2.0



def _stack(chunks: list[np.ndarray], start_row: np.ndarray) -> np.ndarray:
    return np.vstack(chunks) if chunks else start_row
