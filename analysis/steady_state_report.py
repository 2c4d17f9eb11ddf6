"""Steady-state report of one model, cross-checked against COPASI.

Runs epl_sysbio.analysis.analyze_model (steady state, kind of fixed point,
control coefficients, multi-start, optional scans), compares the steady state
and the scaled concentration control coefficients with COPASI (python-copasi,
a dev dependency, through tests/copasi_reference.py) and writes report.md +
PNGs into --out. Real models that need a documented recipe (the stimulus of
BIOMD0000000628 switched off; COPASI's mis-import of 4 laws of
BIOMD0000000183) get the one analysis/real_models_vs_copasi.py uses.

    .venv/bin/python analysis/steady_state_report.py tests/data/biomodels/BIOMD0000000010.xml --out runs/report_0010
    .venv/bin/python analysis/steady_state_report.py sbml_models/schloegl_bistable.ant --out runs/schloegl --scan k4=5:7:201

The last line is one JSON object: model, status, stable, kind, n_steady_states,
copasi_status, copasi_max_rel_diff (steady state, null where COPASI finds
none), copasi_cc_max_rel_diff and copasi_cc_entrywise (scaled concentration
control coefficients, see compare_with_copasi), seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "analysis"))

from epl_sysbio.analysis.report import analyze_model, write_report  # noqa: E402
from epl_sysbio.analysis.scan import parse_scan  # noqa: E402
from epl_sysbio.model import load_model  # noqa: E402


def compare_with_copasi(path: Path, report, changes, copasi_input=None) -> dict:
    """COPASI's steady state and scaled concentration CCs against the report's, by SBML id.

    CCs, over the pairs where both are finite (ours is NaN for species at concentration
    <= 0, where COPASI prints 0): ``copasi_cc_max_rel_diff`` = ``max|a - b| / max|b|``
    (matrix-relative: COPASI's finite-difference elasticities leave ~1e-8 absolute noise
    on every entry), ``copasi_cc_entrywise`` = ``max |a - b| / |b|`` over ``|b| >= 1e-3 max|b|``."""
    from copasi_reference import copasi_steady_state, max_relative_difference

    text = copasi_input if copasi_input is not None else path.read_text(encoding="utf-8")
    if path.suffix not in (".xml", ".sbml"):
        text = load_model(path).to_sbml()
    cop = copasi_steady_state(text, changes or None)
    out = {"copasi_status": f"{cop.status}, {cop.stability}", "copasi_max_rel_diff": None,
           "copasi_cc_max_rel_diff": None, "copasi_cc_entrywise": None, "copasi_max_re": cop.max_real_eigenvalue if cop.found else None}
    if not cop.found or not report.steady_state.converged:
        return out
    reference = {**cop.concentrations, **cop.ode_values}
    common = {k: v for k, v in report.steady_state.values.items() if k in reference}
    if common:
        out["copasi_max_rel_diff"] = max_relative_difference(common, {k: reference[k] for k in common})[0]
    if cop.scaled_cc and report.control is not None:
        ours = report.control.as_dict()
        pairs = [(ours[k], b) for k, b in cop.scaled_cc.items() if k in ours and math.isfinite(ours[k]) and math.isfinite(b)]
        scale = max((abs(b) for _, b in pairs), default=0.0)
        if pairs and scale > 0:
            out["copasi_cc_max_rel_diff"] = max(abs(a - b) for a, b in pairs) / scale
            out["copasi_cc_entrywise"] = max(abs(a - b) / abs(b) for a, b in pairs if abs(b) >= 1e-3 * scale)
    if "Summation Theorems is violated" in cop.message:  # COPASI's own verdict on its MCA (BIOMD0000000628)
        out["copasi_mca_warning"] = "COPASI: numerical instabilities, a summation theorem is violated"
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--scan", action="append", default=[], metavar="ID=LO:HI:N")
    parser.add_argument("--starts", type=int, default=8, help="multi-start starts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-copasi", action="store_true")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    changes, copasi_input, recipe = None, None, None
    try:
        from real_models_vs_copasi import CASES

        case = CASES.get(args.model.stem)
        if case is not None:
            changes, _, make_input, recipe = case
            copasi_input = make_input(args.model) if make_input else None
    except ImportError:
        pass
    report, _ = analyze_model(load_model(args.model), changes=changes,
                              scans=[parse_scan(s) for s in args.scan], n_starts=args.starts, seed=args.seed)
    summary = {"model": args.model.stem, **{k: v for k, v in report.summary().items() if k != "model"},
               "model_id": report.model}
    rows = []
    if recipe:
        rows.append(f"| known recipe | {recipe}; changes {changes or 'none'} |")
    if not args.no_copasi:
        cmp = compare_with_copasi(args.model, report, changes, copasi_input)
        summary.update(cmp)
        rows += [f"| COPASI | {cmp['copasi_status']} |",
                 f"| max rel diff vs COPASI (steady state) | {cmp['copasi_max_rel_diff']} |",
                 f"| max diff vs COPASI, scaled concentration CCs (matrix-relative / entry-wise above 1e-3) | "
                 f"{cmp['copasi_cc_max_rel_diff']} / {cmp['copasi_cc_entrywise']} |"]
        if "copasi_mca_warning" in cmp:
            rows.append(f"| COPASI MCA warning | {cmp['copasi_mca_warning']}: its coefficients are not a reference here |")
    write_report(report, args.out, extra_rows=rows)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(summary, default=str))
    return summary


if __name__ == "__main__":
    main()
