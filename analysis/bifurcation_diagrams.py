"""Bifurcation diagrams of the models with exact answers, and of Kholodenko 2000.

One- and two-parameter continuation (epl_sysbio.analysis.continue_equilibria,
continue_two_parameters) on:

* Schloegl's switch (sbml_models/schloegl_bistable.ant): the S-shaped branch in k4 with both
  folds, and the fold curve in (k4, k3) through the cusp at (8, 12);
* the Brusselator (sbml_models/brusselator.ant, A = 1): the Hopf point at B = 2, supercritical,
  and the Hopf curve B = 1 + A^2;
* the Bogdanov-Takens normal form (tests/data/bogdanov_takens.ant): fold and Hopf curves meeting
  at the BT point (0, 0);
* BIOMD0000000010 (Kholodenko 2000, local parameters promoted): two supercritical Hopf points in
  the MAPKKK activation rate J0_V1 bounding the oscillations, and their Hopf curves in (J0_V1, J0_Ki).

Writes PNG diagrams and CSV tables into --out (the figures in docs/continuation.md come from here).

    .venv/bin/python analysis/bifurcation_diagrams.py --out runs/bifurcation

Last line: one JSON object with the special points found and the seconds each diagram took.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))

from _script import start_run  # noqa: E402

from epl_sysbio import Engine, Model  # noqa: E402
from epl_sysbio.analysis import continue_equilibria, continue_two_parameters, promote_local_parameters  # noqa: E402
from epl_sysbio.analysis.continuation_report import (  # noqa: E402
    plot_continuation,
    plot_two_parameter,
    write_continuation_csv,
    write_two_parameter_csv,
)

CASES = [
    # name, model loader, one-parameter (id, window), two-parameter (ids, windows) or None
    ("schloegl", lambda: Model.from_antimony_file(ROOT / "sbml_models" / "schloegl_bistable.ant"),
     ("k4", (5.0, 7.0)), (("k4", "k3"), ((5.0, 9.0), (10.0, 13.0)))),
    ("brusselator", lambda: Model.from_antimony_file(ROOT / "sbml_models" / "brusselator.ant"),
     ("B", (1.0, 3.0)), (("B", "A"), ((1.0, 6.0), (0.3, 2.0)))),
    ("bogdanov_takens", lambda: Model.from_antimony_file(ROOT / "tests" / "data" / "bogdanov_takens.ant"),
     ("b1", (-1.0, 1.0)), (("b1", "b2"), ((-1.0, 1.0), (-1.5, 0.5)))),
    ("kholodenko2000", lambda: promote_local_parameters(
        Model.from_sbml_file(ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000010.xml")),
     ("J0_V1", (0.1, 10.0)), (("J0_V1", "J0_Ki"), ((0.1, 10.0), (2.0, 40.0)))),
]


def main(argv: list[str] | None = None) -> dict:
    args, _, _ = start_run(__doc__.splitlines()[0], argv, {}, {})
    summary = {}
    for name, load, (parameter, window), two in CASES:
        engine = Engine(load())
        t0 = time.perf_counter()
        branch = continue_equilibria(engine, parameter, window)
        t1 = time.perf_counter()
        plot_continuation(branch, args.out / f"{name}_{parameter}.png")
        write_continuation_csv(branch, args.out / f"{name}_{parameter}.csv")
        diagram = continue_two_parameters(engine, two[0], two[1])
        t2 = time.perf_counter()
        plot_two_parameter(diagram, args.out / f"{name}_{'_'.join(two[0])}.png")
        write_two_parameter_csv(diagram, args.out / f"{name}_{'_'.join(two[0])}.csv")
        summary[name] = {
            "one_parameter": [p.to_dict() for p in branch.special_points if p.kind != "EP"],
            "points": branch.n_points, "one_parameter_s": round(t1 - t0, 3),
            "curves": [f"{c.kind} ({len(c.values)} points)" for c in diagram.curves],
            "two_parameter": [p.to_dict() for p in diagram.special_points], "two_parameter_s": round(t2 - t1, 3),
        }
        print(f"{name}: {json.dumps(summary[name])}", file=sys.stderr)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
