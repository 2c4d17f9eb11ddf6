"""The engine against COPASI on every real model in tests/data/biomodels.

For each model: COPASI's steady-state status and stability, the engine's
status, method and largest real eigenvalue, and the largest relative difference
of the values matched by SBML id. Models that need a documented recipe get it
(the same ones tests/test_real_models.py pins; why each is needed is in
docs/biomodels_findings.md). Writes real_models.csv into --out, prints a
Markdown table and ends with one JSON line.

COPASI (python-copasi) is a dev dependency: run with the project's .venv,
    .venv/bin/python analysis/real_models_vs_copasi.py --out runs/real_models [--skip-large]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from copasi_reference import (  # noqa: E402  (test helper: COPASI's answer by SBML id)
    BIOMODELS_DIR,
    copasi_steady_state,
    kinetic_laws_to_assignment_rules,
    max_relative_difference,
)

from epl_sysbio import Engine, Model  # noqa: E402

_183_LAWS = ["reaction_129", "reaction_130", "reaction_131", "reaction_132"]

# model -> (changes, engine options, COPASI input override, note)
CASES = {
    "BIOMD0000000009": (None, {}, None, "rules on species: moiety analysis refused; unreduced route"),
    "BIOMD0000000010": (None, {}, None, "unstable focus (oscillator): not a rest state"),
    "BIOMD0000000020": (None, {}, None, "rate rules (Hodgkin-Huxley): state-space Newton"),
    "BIOMD0000000033": (None, {}, None, "NLEQ2 fails from the start: presimulation"),
    "BIOMD0000000127": (None, {"ignore_events": True}, None, "events: unsupported by default; event-free ODE shown"),
    "BIOMD0000000183": (None, {}, lambda p: kinetic_laws_to_assignment_rules(p, _183_LAWS),
                        "COPASI mis-imports 4 rate laws; compared with them rewritten"),
    "BIOMD0000000569": (None, {}, None, "1e-16 L synapse: NLEQ2's negative root rejected"),
    "BIOMD0000000628": ({"parameter_2": 1e9}, {"ignore_events": True}, None,
                        "events, stimulus off; libRoadRunner's Jacobian corrected by central differences"),
    "BIOMD0000000635": (None, {}, None, "plain"),
    "BIOMD0000000853": (None, {}, None, "time-dependent stimulus: long-time limit"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/real_models")
    parser.add_argument("--skip-large", action="store_true", help="skip BIOMD0000000628 (about 20 s: 135 species, two compilations)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, (changes, options, copasi_input, note) in CASES.items():
        if args.skip_large and name == "BIOMD0000000628":
            continue
        path = BIOMODELS_DIR / f"{name}.xml"
        t0 = time.perf_counter()
        model = Model.from_sbml_file(path)
        if changes:
            model.set_values(changes)
        default = Engine(model).steady_state() if options else None
        ours = Engine(model, **options).steady_state()
        seconds = time.perf_counter() - t0
        cop = copasi_steady_state(copasi_input(path) if copasi_input else path, changes, mca=False)
        reference = {**cop.concentrations, **cop.ode_values}
        common = {k: v for k, v in ours.values.items() if k in reference}
        worst, where = max_relative_difference(common, {k: reference[k] for k in common}) if common else (None, "")
        rows.append({
            "model": name,
            "copasi": f"{cop.status}, {cop.stability}",
            "copasi_max_re": cop.max_real_eigenvalue,
            "engine_default": default.status.value if default else ours.status.value,
            "engine": f"{ours.status.value} ({ours.method.value})",
            "engine_max_re": ours.max_real_eigenvalue,
            "shared_ids": len(common),
            "max_rel_diff": worst,
            "worst_id": where,
            "engine_s": round(seconds, 2),
            "note": note,
        })
        print(f"{name}: {rows[-1]['engine']} vs COPASI {rows[-1]['copasi']}, max rel diff {worst}", file=sys.stderr)
    with open(out / "real_models.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("| model | COPASI | engine (default) | engine (shown) | max Re(λ) engine / COPASI | ids | max rel diff | note |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        eig = f"{r['engine_max_re']:.4g} / {r['copasi_max_re']:.4g}" if r["engine_max_re"] is not None else "-"
        diff = f"{r['max_rel_diff']:.1e}" if r["max_rel_diff"] is not None else "-"
        print(f"| {r['model']} | {r['copasi']} | {r['engine_default']} | {r['engine']} | {eig} | {r['shared_ids']} | {diff} | {r['note']} |")
    agreeing = [r for r in rows if r["max_rel_diff"] is not None and r["max_rel_diff"] <= 1e-6]
    print(json.dumps({
        "models": len(rows),
        "agree_within_1e-6": len(agreeing),
        "max_rel_diff_by_model": {r["model"]: r["max_rel_diff"] for r in rows},
        "engine_s_by_model": {r["model"]: r["engine_s"] for r in rows},
    }))


if __name__ == "__main__":
    main()
