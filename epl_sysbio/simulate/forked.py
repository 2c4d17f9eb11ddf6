"""An engine call in a forked child (``Engine(..., isolation=Isolation(...))``); the parent adopts its final state.

A crash or hang of libRoadRunner's native code in the child becomes
:class:`~epl_sysbio.errors.TimeLimitError` or
:class:`~epl_sysbio.errors.NativeCrashError` here (:mod:`epl_sysbio.isolation`);
the engine's methods turn those into results with a status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from epl_sysbio.isolation import run_isolated

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["call"]


def call(engine: Engine, method: str, *args: Any, **kwargs: Any) -> Any:
    """``engine.<method>(*args, **kwargs)`` in a forked child under ``engine.isolation``; adopt its final state."""
    def in_child():
        engine.isolation = None  # in the child: compute directly
        return getattr(engine, method)(*args, **kwargs), _export_state(engine)

    value, state = run_isolated(in_child, timeout=engine.isolation.timeout,
                                label=f"Engine({engine.model_id!r}).{method}")
    _import_state(engine, state)
    return value


def _export_state(engine: Engine) -> dict:
    """Everything a call may change: values by id, species amounts, rate-rule variables, time."""
    rr = engine.roadrunner
    return {"values": {p: float(rr.getValue(p)) for p in engine._settable_ids()},
            "snapshot": engine._snapshot(), "time": float(rr.model.getTime())}


def _import_state(engine: Engine, state: dict) -> None:
    rr = engine.roadrunner
    for sid, v in state["values"].items():
        if rr.getValue(sid) != v:
            rr.setValue(sid, v)
    engine._restore(state["snapshot"])
    rr.model.setTime(state["time"])
