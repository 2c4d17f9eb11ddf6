"""Cost of one EPL learner step on both engines, on the same networks and injections.

    .venv/bin/python benchmarks/epl_step.py [--preset paper] [--seed 0] [--population 100] [--rtol R] [--out DIR]

Generation 0 of a preset (its population drawn from ``--seed`` as the main
job draws it): every genome that expresses a learner is evaluated with the
preset's task, seed and learner options (``--rtol`` overrides the integration
tolerance, with an absolute tolerance 100 times smaller) twice, on the native kernel and on
libRoadRunner, one right after the other (so machine load hits both alike).
CPU time of the whole evaluation (learning and evaluation epochs, initial
relaxation included; building the learner excluded) divided by the learner
steps it made is the cost per step. Each evaluation runs in a forked child with a time limit
(``--timeout``): libRoadRunner's NLEQ2 loops for ever on some states, and
such an evaluation is reported as ``hung``. Prints a table by network size (species:
node amounts and momenta), the individuals whose fitness differs with the
side that stopped and why, and one JSON line:

    native_ms_per_step, roadrunner_ms_per_step   all steps of all networks (what a run pays)
    ratio                                         roadrunner / native
    native_ms_per_step_median_network             median over networks of the median-size bin
    fitness_identical_fraction                    over all individuals (unbuilt ones count as equal)
    jit_cold_s, jit_warm_s                        the kernel's first compile, and loading it from the cache
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from epl_sysbio.dynamics.native import jit_warmup
from epl_sysbio.epl.config import preset
from epl_sysbio.epl.fitness import evaluate_learner
from epl_sysbio.epl.substrate import build_network, make_learner, quiet_native_stderr, task_for
from epl_sysbio.errors import NativeCrashError, TimeLimitError
from epl_sysbio.evolve import initial_genome
from epl_sysbio.seeds import derive_seed
from epl_sysbio.isolation import run_isolated

BINS = ((0, 15), (16, 25), (26, 35), (36, 10**6))


def jit_seconds() -> tuple[float, float]:
    """Seconds to compile the kernel into an empty cache, then to load it from that cache (fresh processes)."""
    code = "from epl_sysbio.dynamics.native import jit_warmup; print(jit_warmup())"
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [float(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                                     text=True).stdout.split()[-1]) for _ in range(2)]
    return runs[0], runs[1]


def _evaluate(network, config, seed: int, backend: str) -> dict:
    with quiet_native_stderr():
        learner = make_learner(network, config, backend=backend)
        t0 = time.process_time()
        report = evaluate_learner(learner, task_for(config.task), seed, size=network.size, weights=config.fitness)
        seconds = time.process_time() - t0
    return {"fitness": report.fitness, "status": report.status, "message": report.message,
            "steps": learner.steps, "cpu_s": seconds, "species": len(learner.dynamics.ids)}


def evaluate(network, config, seed: int, backend: str, timeout: float) -> dict:
    """One evaluation in a child process (:func:`~epl_sysbio.isolation.run_isolated`): libRoadRunner's NLEQ2
    can loop for ever (in ``deccon``) on some states, and a hang is a result here ("hung"), not a stalled
    benchmark."""
    try:
        return run_isolated(_evaluate, network, config, seed, backend, timeout=timeout,
                            label=f"a {backend} evaluation")
    except (TimeLimitError, NativeCrashError) as exc:
        status = "hung" if isinstance(exc, TimeLimitError) else "crashed"
        return {"fitness": 0.0, "status": status, "message": str(exc), "steps": 0, "cpu_s": 0.0, "species": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--population", type=int, default=None, help="default: the preset's")
    parser.add_argument("--out", default=None, help="directory for rows.json")
    parser.add_argument("--rtol", type=float, default=None,
                        help="integration relative tolerance of both engines (default: the preset's); atol = rtol/100")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per evaluation before it counts as hung")
    args = parser.parse_args()
    config = preset(args.preset).replace(run={"seed": args.seed})
    if args.rtol is not None:
        config = config.replace(learner={"integrator_rtol": args.rtol, "integrator_atol": args.rtol / 100})
    size = args.population or config.neat.population_size
    jit_cold, jit_warm = jit_seconds()
    jit_warmup()
    rng = np.random.default_rng(args.seed)
    population = [initial_genome(config.neat, rng) for _ in range(config.neat.population_size)][:size]
    rows, unbuilt = [], 0
    t_start = time.perf_counter()
    for index, genome in enumerate(population):
        network = build_network(genome, config)
        if isinstance(network, str):
            unbuilt += 1
            continue
        seed = derive_seed(args.seed, 0, index)
        row = {"index": index, "native": evaluate(network, config, seed, "native", args.timeout),
               "roadrunner": evaluate(network, config, seed, "roadrunner", args.timeout)}
        row["species"] = row["native"]["species"] or row["roadrunner"]["species"]
        rows.append(row)
        print(f"[{time.perf_counter() - t_start:7.1f} s] individual {index:3d}: {row['species']:2d} species, "
              f"native {row['native']['status']} {row['native']['fitness']:.4g}, "
              f"roadrunner {row['roadrunner']['status']} {row['roadrunner']['fitness']:.4g}", file=sys.stderr)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "rows.json"), "w") as f:
            json.dump(rows, f, indent=1)

    def pooled(kind: str, rs) -> float | None:
        steps = sum(r[kind]["steps"] for r in rs)
        return 1e3 * sum(r[kind]["cpu_s"] for r in rs) / steps if steps else None

    stepping = [r for r in rows if r["native"]["steps"] and r["roadrunner"]["steps"]]
    print(f"\n{args.preset} preset, generation 0, seed {args.seed}: {len(rows)} networks of {size} genomes "
          f"({unbuilt} too small); CPU ms per learner step (each side's own steps)")
    print(f"{'species':>9} {'networks':>8} {'steps':>9} {'native':>8} {'roadrunner':>10} {'ratio':>6}")
    for lo, hi in BINS:
        rs = [r for r in stepping if lo <= r["species"] <= hi]
        if rs:
            n, rr = pooled("native", rs), pooled("roadrunner", rs)
            print(f"{lo:>3}-{hi if hi < 10**6 else '':<5} {len(rs):>8} {sum(r['native']['steps'] for r in rs):>9} "
                  f"{n:>8.3f} {rr:>10.3f} {rr / n:>6.2f}")
    native, reference = pooled("native", stepping), pooled("roadrunner", stepping)
    print(f"{'all':>9} {len(stepping):>8} {sum(r['native']['steps'] for r in stepping):>9} {native:>8.3f} "
          f"{reference:>10.3f} {reference / native:>6.2f}")
    differ = [r for r in rows if r["native"]["fitness"] != r["roadrunner"]["fitness"]]
    print(f"\nfitness differs for {len(differ)} of {size} individuals:")
    for r in differ:
        sides = "; ".join(f"{k} {r[k]['status']} fitness {r[k]['fitness']:.4g} after {r[k]['steps']} steps"
                          + (f" ({r[k]['message'][:90]})" if r[k]["message"] else "") for k in ("native", "roadrunner"))
        why = ("both ran: actions parted at a near tie of two outputs (see tests/epl/test_generation_agreement.py)"
               if r["native"]["status"] == r["roadrunner"]["status"] == "ok" else "one side stopped")
        print(f"  individual {r['index']} ({r['species']} species): {sides}; {why}")
    species = sorted(r["species"] for r in stepping)
    median = species[len(species) // 2] if species else None
    median_bin = next(((lo, hi) for lo, hi in BINS if median is not None and lo <= median <= hi), None)
    per_network = [1e3 * r["native"]["cpu_s"] / r["native"]["steps"] for r in stepping
                   if median_bin and median_bin[0] <= r["species"] <= median_bin[1]]
    print(json.dumps({
        "preset": args.preset, "networks": len(rows), "individuals": size,
        "integrator_rtol": config.learner.integrator_rtol,
        "native_ms_per_step": round(native, 4), "roadrunner_ms_per_step": round(reference, 4),
        "ratio": round(reference / native, 2), "median_network_species": median,
        "native_ms_per_step_median_network": round(float(np.median(per_network)), 4) if per_network else None,
        "fitness_identical_fraction": round(1 - len(differ) / size, 3),
        "jit_cold_s": round(jit_cold, 2), "jit_warm_s": round(jit_warm, 2),
    }))


if __name__ == "__main__":
    main()
