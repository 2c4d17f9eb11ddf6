"""Continuation side by side: epl_sysbio.analysis against PyCont-Lite (and the natural-parameter scan).

Part 1, exact answers (Schloegl: folds at k4 = 6 -+ 2/(3 sqrt 3) in k4 = 5..7; Brusselator
with A = 2: Hopf at B = 1 + A^2 = 5 in B = 3..7): the points each tool reports, their error
and the seconds each takes. PyCont-Lite (`pycont-lite`, matrix-free pseudo-arclength with
Newton-Krylov) gets the same right-hand side, the reduced residual of the same compiled model
(tests/pycont_reference.py), at two maximal steps (its fold is
interpolated on the chord between two branch points, so its error falls like the step squared).

Part 2, speed (BIOMD0000000033, Brown 2004, 32 species): one 1-D continuation of kSos from
0.5x to 2x its value, best of --repeats runs each. Points per second of ours (pseudo-arclength with exact Jacobians,
stability and fold/Hopf/branch-point tests at every point), of the existing natural-parameter
scan `scan_1d` (every grid point a libRoadRunner steady state, up and down sweeps; --points
grid points) and of PyCont-Lite on the same residual, in the same run. Times exclude compiling
the model; ours is given with and without building the rate evaluator with its derivatives.

PyDSTool 0.91.0 (the last release) installs here but does not import under NumPy 2
(`from numpy import Inf`): it is not compared.

Run: .venv/bin/python benchmarks/continuation.py [--points 200]
Last line: one JSON object (seconds, points per second, errors).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from epl_sysbio.analysis.continuation import ContinuationOptions

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # pycont_reference: PyCont-Lite on the same compiled model
SCHLOEGL = ROOT / "sbml_models" / "schloegl_bistable.ant"
BRUSSELATOR = ROOT / "sbml_models" / "brusselator.ant"
BROWN = ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000033.xml"
FOLDS = [6 + 2 / (3 * math.sqrt(3)), 6 - 2 / (3 * math.sqrt(3))]

from pycont_reference import pycont_continuation  # noqa: E402 (after the sys.path entry)


def ours(engine, parameter: str, bounds) -> tuple[object, float]:
    """Our whole continuation, compiling the rate evaluator included; (result, seconds)."""
    from epl_sysbio.analysis.continuation_diagram import continue_equilibria

    t0 = time.perf_counter()
    result = continue_equilibria(engine, parameter, bounds)
    return result, time.perf_counter() - t0


def exact_answers() -> dict:
    from epl_sysbio import Engine, Model

    out: dict = {}
    schloegl = Engine(Model.from_antimony_file(SCHLOEGL))
    result, seconds = ours(schloegl, "k4", (5.0, 7.0))
    folds = [p.parameters["k4"] for p in result.points("LP")]
    out["schloegl"] = {"ours_folds": folds, "ours_max_error": max(abs(a - b) for a, b in zip(folds, FOLDS)),
                       "ours_s": seconds, "ours_points": result.n_points}
    for ds in (0.05, 0.01):
        events, points, seconds, failed = pycont_continuation(schloegl, "k4", (5.0, 7.0), ds, hopf=False)
        found = sorted((p for kind, p in events if kind == "LP"), reverse=True)
        # the nearest reported fold to each exact one; None: not reported within 0.1
        errors = [min((abs(p - f) for p in found if abs(p - f) < 0.1), default=None) for f in FOLDS]
        out["schloegl"][f"pycont_ds{ds}"] = {"folds": found, "error_per_exact_fold": errors, "s": seconds,
                                             "points": points, "failed": failed}
    brusselator = Engine(Model.from_antimony_file(BRUSSELATOR))
    brusselator.set_values({"A": 2.0, "B": 4.0})
    result, seconds = ours(brusselator, "B", (3.0, 7.0))
    (hopf,) = result.points("H")
    out["brusselator"] = {"ours_hopf": hopf.parameters["B"], "ours_error": abs(hopf.parameters["B"] - 5.0),
                          "ours_l1": hopf.coefficient, "ours_s": seconds, "ours_points": result.n_points}
    for ds in (0.05, 0.01):
        events, points, seconds, failed = pycont_continuation(brusselator, "B", (3.0, 7.0), ds, hopf=True)
        found = [p for kind, p in events if kind == "HB"]
        error = min((abs(p - 5.0) for p in found), default=None)
        out["brusselator"][f"pycont_ds{ds}"] = {"hopf": found, "error": error, "s": seconds, "points": points,
                                                "failed": failed}
    return out


def speed(points: int, repeats: int) -> dict:
    """Points per second on BIOMD0000000033, best of ``repeats`` runs of each contender."""
    from epl_sysbio import Engine, Model
    from epl_sysbio.analysis.continuation import EquilibriumSystem
    from epl_sysbio.analysis.continuation_diagram import _OneParameter
    from epl_sysbio.analysis.scan import scan_1d

    engine = Engine(Model.from_sbml_file(BROWN))
    engine.steady_state()
    base = engine.get_value("kSos")
    bounds = (0.5 * base, 2.0 * base)
    t0 = time.perf_counter()
    system = EquilibriumSystem.at_steady_state(engine, ["kSos"], [bounds[1] - bounds[0]])
    build = time.perf_counter() - t0
    y0 = system.solve(np.zeros(system.n), np.zeros(1))
    tracing = []
    for _ in range(repeats):  # the tracing alone, on the evaluator built once
        result = _OneParameter(system, 0, ["kSos"], bounds, np.zeros(1), ContinuationOptions()).run(y0)
        tracing.append(result.seconds)
    _, total = ours(engine, "kSos", bounds)  # once with everything: steady state, evaluator, tracing
    scans = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scan = scan_1d(engine, "kSos", np.linspace(*bounds, points))
        scans.append(time.perf_counter() - t0)
    solved = int(sum(np.isfinite(v).all(axis=1).sum() for v in scan.sweep_values.values()))
    runs = []
    for _ in range(repeats):
        engine.reset()
        runs.append(pycont_continuation(engine, "kSos", bounds, 0.05, hopf=False))
    events, pc_points, _, pc_failed = runs[0]
    t_pc = min(r[2] for r in runs)
    return {
        "ours_points": result.n_points, "ours_tracing_s": min(tracing), "ours_total_s": total,
        "ours_build_evaluator_s": build,
        "ours_points_per_s": result.n_points / min(tracing),
        "ours_points_per_s_incl_build": result.n_points / total,
        "scan_points_solved": solved, "scan_s": min(scans), "scan_points_per_s": solved / min(scans),
        "pycont_points": pc_points, "pycont_s": t_pc, "pycont_points_per_s": pc_points / t_pc if pc_points else None,
        "ours_special_points": [p.kind for p in result.special_points if p.kind != "EP"],
        "pycont_events": [kind for kind, _ in events], "pycont_failed": pc_failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200, help="grid points of scan_1d on BIOMD0000000033")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs for each speed figure")
    args = parser.parse_args()
    exact = exact_answers()
    fast = speed(args.points, args.repeats)
    for name, block in exact.items():
        print(f"{name}: {json.dumps(block)}", file=sys.stderr)
    print(f"BIOMD0000000033: {json.dumps(fast)}", file=sys.stderr)
    s, b = exact["schloegl"], exact["brusselator"]
    print(json.dumps({
        "schloegl_fold_error_ours": s["ours_max_error"], "schloegl_s_ours": round(s["ours_s"], 3),
        "schloegl_fold_errors_pycont_ds0.05": s["pycont_ds0.05"]["error_per_exact_fold"],
        "schloegl_s_pycont_ds0.05": round(s["pycont_ds0.05"]["s"], 3),
        "schloegl_fold_errors_pycont_ds0.01": s["pycont_ds0.01"]["error_per_exact_fold"],
        "schloegl_s_pycont_ds0.01": round(s["pycont_ds0.01"]["s"], 3),
        "brusselator_hopf_error_ours": b["ours_error"], "brusselator_s_ours": round(b["ours_s"], 3),
        "brusselator_hopf_error_pycont_ds0.05": b["pycont_ds0.05"]["error"],
        "brusselator_s_pycont_ds0.05": round(b["pycont_ds0.05"]["s"], 3),
        "brusselator_hopf_error_pycont_ds0.01": b["pycont_ds0.01"]["error"],
        "brusselator_s_pycont_ds0.01": round(b["pycont_ds0.01"]["s"], 3),
        "pycont_failures": {f"{m}_ds{d}": x[f"pycont_ds{d}"]["failed"] for m, x in exact.items() for d in (0.05, 0.01)
                            if x[f"pycont_ds{d}"]["failed"]},
        "brown2004_points_per_s_ours": round(fast["ours_points_per_s"], 1),
        "brown2004_points_per_s_ours_incl_build": round(fast["ours_points_per_s_incl_build"], 1),
        "brown2004_points_per_s_scan_1d": round(fast["scan_points_per_s"], 1),
        "brown2004_points_per_s_pycont": fast["pycont_points_per_s"] and round(fast["pycont_points_per_s"], 1),
        "brown2004_pycont_failed": fast["pycont_failed"],
        "brown2004_points": {"ours": fast["ours_points"], "scan_1d": fast["scan_points_solved"],
                             "pycont": fast["pycont_points"]},
        "pydstool": "0.91.0 installs but fails to import under NumPy 2 (numpy.Inf removed)",
    }))


if __name__ == "__main__":
    main()
