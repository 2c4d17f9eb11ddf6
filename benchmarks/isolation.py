"""What the reliability guarantees cost: isolated commands and solves, and the load-limit scan.

- command line: ``epl-sysbio steady`` runs in a forked child with a budget; the same command's
  work timed in-process, side by side (``main()`` vs the command function called directly);
- library: ``Engine(..., isolation=Isolation())`` forks per solve; the same solves without it;
- load limits: the expat scan that checks depth and element count before libsbml parses,
  against the libsbml parse itself, on the largest curated BioModels.

Both sides of each ratio are timed in the same run, interleaved (the machine is shared: absolute
times drift, ratios much less). Run: .venv/bin/python benchmarks/isolation.py [--repeats 20]
Prints one JSON line of headline figures last.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def best_of(fn, repeats: int) -> float:
    """Median wall seconds of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import libsbml

    from epl_sysbio.cli import _cmd_steady, build_parser, main as cli_main
    from epl_sysbio.isolation import Isolation
    from epl_sysbio.model import Model, load_model
    from epl_sysbio.limits import DEFAULT_LIMITS, scan_sbml
    from epl_sysbio.simulate import Engine

    model_path = str(ROOT / "sbml_models" / "receptor_synapse.ant")
    argv = ["steady", model_path, "--format", "json"]
    parsed = build_parser().parse_args(argv)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        cli_isolated = best_of(lambda: cli_main(argv), args.repeats)
        cli_direct = best_of(lambda: _cmd_steady(parsed), args.repeats)

    model = load_model(model_path)
    isolated, direct = Engine(model, isolation=Isolation(timeout=60)), Engine(model)
    values = iter(range(10**9))
    solve_isolated = best_of(lambda: isolated.steady_state({"kon": 1.0 + next(values) % 2}), args.repeats)
    solve_direct = best_of(lambda: direct.steady_state({"kon": 1.0 + next(values) % 2}), args.repeats * 50)

    scans = {}
    for name in ("BIOMD0000000628", "BIOMD0000000183"):
        text = (ROOT / "tests" / "data" / "biomodels" / f"{name}.xml").read_text()
        scan = best_of(lambda: scan_sbml(text, DEFAULT_LIMITS, name), max(3, args.repeats // 4))
        parse = best_of(lambda: libsbml.readSBMLFromString(text), max(3, args.repeats // 4))
        load = best_of(lambda: Model.from_sbml(text, validate=False), max(3, args.repeats // 4))
        scans[name] = (len(text), scan, parse, load)
        print(f"{name} ({len(text) / 1e6:.2f} MB): expat scan {scan * 1e3:.1f} ms, libsbml parse "
              f"{parse * 1e3:.1f} ms, Model.from_sbml {load * 1e3:.1f} ms")
    print(f"steady on the command line: isolated {cli_isolated * 1e3:.1f} ms, in-process {cli_direct * 1e3:.1f} ms")
    print(f"Engine.steady_state: isolated {solve_isolated * 1e3:.2f} ms, direct {solve_direct * 1e3:.3f} ms")
    big = scans["BIOMD0000000628"]
    print(json.dumps({
        "cli_steady_isolated_ms": round(cli_isolated * 1e3, 1),
        "cli_steady_in_process_ms": round(cli_direct * 1e3, 1),
        "cli_isolation_overhead_ms": round((cli_isolated - cli_direct) * 1e3, 1),
        "engine_solve_isolated_ms": round(solve_isolated * 1e3, 2),
        "engine_solve_direct_ms": round(solve_direct * 1e3, 3),
        "engine_isolation_overhead_ms": round((solve_isolated - solve_direct) * 1e3, 2),
        "limit_scan_ms_biomd628": round(big[1] * 1e3, 1),
        "libsbml_parse_ms_biomd628": round(big[2] * 1e3, 1),
        "limit_scan_share_of_load_biomd628": round(big[1] / big[3], 3),
        "load_average": round(os.getloadavg()[0], 1),
    }))


if __name__ == "__main__":
    main()
