"""One steady-state solve of an :class:`~epl_sysbio.simulate.Engine`: start, chain, verdict, result.

``model -> Engine -> run_chain (solvers) -> StoppingRule -> judge (stability) -> SteadyStateResult``
(docs/architecture.md draws it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.errors import (
    InstanceOf,
    NativeCrashError,
    Options,
    SteadyStateError,
    TimeLimitError,
    format_ids,
    validate,
)
from epl_sysbio.simulate import forked
from epl_sysbio.simulate.results import BatchResult, Method, SteadyStateOptions, SteadyStateResult, Status
from epl_sysbio.simulate.solvers import run_chain
from epl_sysbio.simulate.stability import judge

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["solve", "solve_batch"]


def solve(engine: Engine, values: Mapping[str, float] | None, start: str,
          options: SteadyStateOptions | None, throw: bool) -> SteadyStateResult:
    """:meth:`Engine.steady_state` (its docstring says what it does)."""
    opts = options or engine.options
    validate("steady_state", {"start": Options("current", "reset"), "options": InstanceOf(SteadyStateOptions)},
             {"start": start, "options": opts})
    if values is not None:
        engine._require(engine._mapping(values, "steady_state"))
    if engine.isolation is not None:
        try:
            return forked.call(engine, "steady_state", values, start=start, options=options, throw=throw)
        except (TimeLimitError, NativeCrashError) as exc:
            # The solve never ran here: do what it was asked to do first, and report the failure.
            if start == "reset":
                engine.reset()
            if values:
                engine.set_values(values)
            return _finish(_result(engine, Status.NOT_CONVERGED, Method.NONE, 0, start, opts, str(exc)), throw)
    if start == "reset":
        engine.reset()
    if values:
        engine.set_values(values)
    if engine.event_ids:
        return _finish(_result(
            engine, Status.UNSUPPORTED, Method.NONE, 0, start, opts,
            f"model has events {format_ids(engine.event_ids)}: their discontinuous resets leave no "
            "steady state for Newton to solve. Use time_course() or relax() to follow it.",
        ), throw)
    solved, reasons = run_chain(engine, opts)
    if solved is None:
        return _finish(_result(engine, Status.NOT_CONVERGED, Method.NONE, 0, start, opts,
                               "no method reached norm(F) <= atol + rtol*norm(x): " + "; ".join(reasons)), throw)
    return _finish(_result(engine, None, solved.method, solved.iterations, start, opts, solved.message), throw)


def _result(engine: Engine, status: Status | None, method: Method, iterations: int, start: str,
            opts: SteadyStateOptions, message: str) -> SteadyStateResult:
    """The engine's current state as a result; ``status=None`` means converged: :func:`judge` decides."""
    rr, m = engine.roadrunner, engine.roadrunner.model
    eig = None
    if status is None:
        status, eig, message = judge(engine, opts, message)
    values = dict(zip(engine.floating_ids, m.getFloatingSpeciesConcentrations().tolist()))
    if engine.boundary_ids:
        values.update(zip(engine.boundary_ids, m.getBoundarySpeciesConcentrations().tolist()))
    for sid in engine.rate_rule_ids:
        values[sid] = float(rr.getValue(sid))
    return SteadyStateResult(
        model=engine.model_id,
        status=status,
        message=message,
        method=method,
        residual=engine.residual(),
        iterations=iterations,
        values=values,
        amounts=dict(zip(engine.floating_ids, m.getFloatingSpeciesAmounts().tolist())),
        fluxes=dict(zip(engine.reaction_ids, m.getReactionRates().tolist())),
        eigenvalues=eig,
        start=start,
        notes=tuple(engine.notes),
    )


def _finish(result: SteadyStateResult, throw: bool) -> SteadyStateResult:
    # `unchecked` passes: the caller switched the check off, so it is no reason to raise.
    if throw and result.status not in (Status.STABLE, Status.UNCHECKED):
        raise SteadyStateError(f"Model {result.model!r}: no stable steady state ({result.status.value}): {result.message}")
    return result


def solve_batch(engine: Engine, inputs: Sequence[Mapping[str, float]], outputs: Sequence[str] | None,
                start: str, options: SteadyStateOptions | None) -> BatchResult:
    """:meth:`Engine.steady_state_batch` (its docstring says what it does)."""
    validate("steady_state_batch", {"start": Options("reset", "warm")}, {"start": start})
    outputs = tuple(outputs) if outputs is not None else tuple(f"[{s}]" for s in engine.floating_ids)
    engine._require(outputs)
    for sample in inputs:
        engine._require(sample)
    values = np.full((len(inputs), len(outputs)), np.nan)
    statuses, methods, residuals = [], [], np.full(len(inputs), np.nan)
    rr = engine.roadrunner
    for i, sample in enumerate(inputs):
        result = engine.steady_state(sample, start="reset" if start == "reset" else "current", options=options)
        statuses.append(result.status)
        methods.append(result.method)
        residuals[i] = result.residual
        if result.converged:
            values[i] = [rr.getValue(o) for o in outputs]
    return BatchResult(outputs, values, tuple(statuses), residuals, tuple(methods), start)
