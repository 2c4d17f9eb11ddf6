"""Continuation scan + control coefficients: epl_sysbio.analysis vs COPASI (through basico), side by side.

Model: BIOMD0000000033 (Brown 2004, 32 species). Scan: kSos from 0.5x to 2x its
value in N points (default 200), every point warm-started from the previous one.
epl_sysbio's scan_1d sweeps up AND down (2N solves, plus fold checks); COPASI's
scan task (basico.run_scan, subtask steady state, continue from the current
state) sweeps once. Then one full concentration control-coefficient matrix:
epl_sysbio.analysis.control_coefficients (given its SpeciesNetwork, whose one-off
compilation is timed apart) vs COPASI's MCA task (which re-solves the steady state). Times exclude
model loading/compilation on both sides.

Run: .venv/bin/python benchmarks/analysis.py [--points 200]
Last line: one JSON object with seconds and ratios (COPASI / ours: > 1 means we are faster).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000033.xml"
PARAMETER = "kSos"


def ours(grid: np.ndarray) -> dict:
    from epl_sysbio import Engine, Model
    from epl_sysbio.analysis.mca import control_coefficients
    from epl_sysbio.analysis.network import SpeciesNetwork
    from epl_sysbio.analysis.scan import scan_1d

    engine = Engine(Model.from_sbml_file(MODEL))
    engine.steady_state()  # warm-up: compile paths, first solve
    t0 = time.perf_counter()
    scan = scan_1d(engine, PARAMETER, grid)
    t_scan = time.perf_counter() - t0
    engine.steady_state(start="reset")
    t0 = time.perf_counter()
    network = SpeciesNetwork(engine)  # compiles the model once more, without moiety analysis
    t_network = time.perf_counter() - t0
    t0 = time.perf_counter()
    cc = control_coefficients(engine, network)
    t_cc = time.perf_counter() - t0
    solved = int(np.isfinite(scan.sweep_values["up"]).all(axis=1).sum())
    return {"scan_s": t_scan, "cc_s": t_cc, "network_s": t_network, "solved": solved, "branches": len(scan.branches),
            "cc_shape": list(cc.concentration_unscaled.shape)}


def copasi_scan_seconds(grid: np.ndarray) -> float:
    """One COPASI scan task over ``grid`` (basico.run_scan, steady-state subtask, warm start)."""
    import basico

    dm = basico.load_model(str(MODEL))
    basico.set_scan_settings(subtask="Steady-State", continue_from_current_state=True, model=dm)
    basico.set_scan_items([{"item": f"Values[{PARAMETER}]", "num_steps": len(grid) - 1,
                            "min": float(grid[0]), "max": float(grid[-1])}], model=dm)
    t0 = time.perf_counter()
    basico.run_scan(model=dm)
    seconds = time.perf_counter() - t0
    basico.remove_datamodel(dm)
    return seconds


def copasi(grid: np.ndarray) -> dict:
    import basico
    import COPASI

    t_scan = copasi_scan_seconds(grid)
    # basico 0.92 returned no rows from run_scan(output=...) here; that COPASI solves every
    # point shows in the time growing with the number of points:
    t_tenth = copasi_scan_seconds(grid[:: max(1, len(grid) // 20)])
    dm = basico.load_model(str(MODEL))
    task = dm.getTask("Metabolic Control Analysis")
    task.getProblem().getParameter("Steady-State").setBoolValue(True)
    t0 = time.perf_counter()
    task.initializeRaw(COPASI.CCopasiTask.OUTPUT_UI)
    task.processRaw(True)
    t_cc = time.perf_counter() - t0
    basico.remove_datamodel(dm)
    return {"scan_s": t_scan, "cc_s": t_cc, "scan_20_points_s": t_tenth}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    args = parser.parse_args()
    from epl_sysbio import Engine, Model

    base = Engine(Model.from_sbml_file(MODEL)).get_value(PARAMETER)
    grid = np.linspace(0.5 * base, 2.0 * base, args.points)
    a, b = ours(grid), copasi(grid)
    print(f"scan ({args.points} points): ours {a['scan_s']:.3f} s (up + down), COPASI {b['scan_s']:.3f} s (one sweep)",
          file=sys.stderr)
    print(f"control coefficients: ours {a['cc_s']:.4f} s, COPASI MCA (re-solves) {b['cc_s']:.4f} s", file=sys.stderr)
    print(json.dumps({
        "model": "BIOMD0000000033", "points": args.points,
        "ours_scan_up_down_s": round(a["scan_s"], 4), "copasi_scan_one_sweep_s": round(b["scan_s"], 4),
        "scan_speedup_copasi_over_ours": round(b["scan_s"] / a["scan_s"], 2),
        "ours_cc_s": round(a["cc_s"], 5), "ours_network_compile_s": round(a["network_s"], 3), "copasi_mca_s": round(b["cc_s"], 5),
        "cc_speedup_copasi_over_ours": round(b["cc_s"] / a["cc_s"], 2),
        "ours_points_solved_up": a["solved"], "copasi_scan_20_points_s": round(b["scan_20_points_s"], 4),
    }))


if __name__ == "__main__":
    main()
