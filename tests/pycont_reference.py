"""PyCont-Lite (`pycont-lite`, a dev dependency) on the same compiled model as epl_sysbio's continuation.

PyCont-Lite continues ``G(u, p) = 0`` from a user function. It gets the reduced residual of the
engine's model (:meth:`EquilibriumSystem.residual`, libRoadRunner's rates), the parameter in its
own units. Its Hopf test differentiates ``G`` along complex eigenvectors by evaluating it at
complex ``u``, which only an analytic ``G`` survives (a residual computed by libRoadRunner is
real: without care it silently drops the imaginary part and reports false Hopf points); at
``u = x + i z`` the residual is therefore extended to first order, ``G(x) + i G_u(x) z``, with
``G_u(x) z`` by central differences of ``G`` (no Jacobian of ours is used).
"""

from __future__ import annotations

import contextlib
import io
import time

import numpy as np


def pycont_continuation(engine, parameter: str, bounds: tuple[float, float], ds_max: float, *, hopf: bool):
    """PyCont-Lite from the engine's steady state in ``parameter`` over ``bounds``.

    Returns (events as [(kind, parameter value)] for LP, HB and BP, number of branch points,
    seconds of the continuation, error message or "" when it ran)."""
    import pycont

    from epl_sysbio.analysis.continuation import EquilibriumSystem

    engine.steady_state()
    system = EquilibriumSystem.at_steady_state(engine, [parameter], [bounds[1] - bounds[0]])
    y0 = system.solve(np.zeros(system.n), np.zeros(1))

    def residual(y: np.ndarray, p: float) -> np.ndarray:
        pi = system.scaled_parameters([p])
        if not np.iscomplexobj(y) or not np.any(y.imag):
            return system.residual(np.real(y), pi)
        x, z = y.real, y.imag
        h = 1e-6 / max(float(np.linalg.norm(z)), 1e-300)
        slope = (system.residual(x + h * z, pi) - system.residual(x - h * z, pi)) / (2 * h)
        return system.residual(x, pi) + 1j * slope

    settings = {"param_min": bounds[0], "param_max": bounds[1], "tolerance": 1e-10, "hopf_detection": hopf,
                "limit_cycle_continuation": False,
                "analyze_stability": system.n > 1}  # its stability check fails on one-variable systems
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its Newton-Krylov prints every iteration
            result = pycont.arclengthContinuation(residual, y0, float(system.p_ref[0]), 1e-8, ds_max, ds_max / 2,
                                                  100000, settings, verbosity="off")
    except Exception as exc:  # noqa: BLE001 (a failure of the other tool is a result here)
        return [], 0, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - t0
    events = [(e.kind, float(e.p)) for e in result.events if e.kind in ("LP", "HB", "BP")]
    return events, int(sum(len(b.p_path) for b in result.branches)), seconds, ""
