"""Generated EPL networks: time to generate + compile, steady-state solves per second, superset vs own model.

For specs of 10, 50 and 200 nodes (random_spec, friction > 0):

* generate_s: spec_to_model (libsbml document + annotation); compile_s: Engine(model)
  (libRoadRunner compiles the model, then again when moiety analysis is switched on);
  one_compile_s: roadrunner.RoadRunner(sbml, LoadSBMLOptions with conservedMoieties),
  the same model compiled once; cached_s: the same SBML text loaded again while that
  instance is alive (libRoadRunner then reuses its compiled model); solves/s: Engine.steady_state
  after an injection into one node (alternating +10 % / back), warm start, the way
  the EPL learner uses it.
* Individuals of one substrate: a "superset" spec holds every possible edge
  (edge_probability 1); an individual keeps each edge with probability 1/2. Either
  it gets its own model (generate + compile + solve), or the superset model is
  compiled once and the individual only sets its rates (absent edges at 0), then
  solves from the reset state. Reported: seconds per individual, steady-state
  success, and the largest relative difference between the two answers (sizes up to
  --superset-max nodes: an own model of 200 nodes takes minutes to compile).

Run: .venv/bin/python benchmarks/dynamics.py [--sizes 10 50 200] [--specs 2] [--individuals 5] [--seconds 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import roadrunner

from epl_sysbio.dynamics import random_spec, spec_to_model
from epl_sysbio.simulate import Engine


def time_solves(engine: Engine, species: str, seconds: float) -> tuple[float, float]:
    """Steady states per second after alternating injections into ``species``; fraction stable."""
    base = engine.amounts()[species]
    calls = stable = 0
    t0 = time.perf_counter()
    while calls < 1 or time.perf_counter() - t0 < seconds:
        engine.set_amounts({species: base * (1.1 if calls % 2 == 0 else 1.0)})
        stable += engine.steady_state().status.value == "stable"
        calls += 1
    return calls / (time.perf_counter() - t0), stable / calls


def rate_values(spec) -> dict[str, float]:
    """Every edge rate of a spec by SBML parameter id."""
    values = {f"k_{e.id}": e.rate for e in spec.reactions + spec.diffusion}
    values.update({f"v_{e.id}": e.rate for e in spec.hamiltonian})
    return values


def individual(superset, rng: np.random.Generator):
    """The superset with each edge kept with probability 1/2 (the others removed)."""
    def keep(edges):
        return tuple(e for e in edges if rng.random() < 0.5)
    return dataclasses.replace(superset, reactions=keep(superset.reactions), diffusion=keep(superset.diffusion),
                               hamiltonian=keep(superset.hamiltonian))


def superset_vs_own(n_nodes: int, n_individuals: int, rng: np.random.Generator) -> dict:
    superset = random_spec(rng, n_nodes=n_nodes, edge_probability=1.0, reservoir_probability=0.1)
    t0 = time.perf_counter()
    shared = Engine(spec_to_model(superset))
    shared_compile = time.perf_counter() - t0
    all_rates = {k: 0.0 for k in rate_values(superset)}
    own_s, shared_s, own_ok, shared_ok, diffs = [], [], 0, 0, []
    for _ in range(n_individuals):
        ind = individual(superset, rng)
        t0 = time.perf_counter()
        own = Engine(spec_to_model(ind)).steady_state()
        own_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        shared.set_values({**all_rates, **rate_values(ind)})
        res = shared.steady_state(start="reset")
        shared_s.append(time.perf_counter() - t0)
        own_ok += own.status.value == "stable"
        shared_ok += res.status.value == "stable"
        if own.converged and res.converged:
            diffs.append(max(abs(res.values[s] - v) / max(abs(v), 1e-12)
                             for s, v in own.values.items() if s.startswith("x_")))
    return {
        "superset_edges": len(all_rates), "superset_compile_s": shared_compile,
        "own_s_per_individual": float(np.mean(own_s)), "shared_s_per_individual": float(np.mean(shared_s)),
        "own_stable": own_ok / n_individuals, "shared_stable": shared_ok / n_individuals,
        "max_rel_diff": max(diffs) if diffs else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--specs", type=int, default=2, help="random specs per size")
    parser.add_argument("--individuals", type=int, default=5, help="individuals per size (superset vs own)")
    parser.add_argument("--superset-max", type=int, default=50, help="largest size of the superset comparison")
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget of each solve-rate measurement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    rows = {}
    for n in args.sizes:
        gen, comp, once, cached, rate, stable, species, reactions = [], [], [], [], [], [], [], []
        for _ in range(args.specs):
            spec = random_spec(rng, n_nodes=n, edge_probability=0.5)
            t0 = time.perf_counter()
            model = spec_to_model(spec)
            t1 = time.perf_counter()
            engine = Engine(model)
            t2 = time.perf_counter()
            # The same model with moiety analysis at load (one compile), after a no-op edit
            # so that libRoadRunner's in-process cache of compiled models does not answer.
            model.set_values({"momentum_space" if "momentum_space" in model.compartment_ids
                              else spec.spaces[0].name: 1.0 + 1e-15})
            options = roadrunner.LoadSBMLOptions()
            options.conservedMoieties = True
            t3 = time.perf_counter()
            alive = roadrunner.RoadRunner(model.to_sbml(), options)
            t4 = time.perf_counter()
            # Identical text while the first instance is alive: libRoadRunner reuses its compiled model.
            roadrunner.RoadRunner(model.to_sbml(), options)
            del alive
            t5 = time.perf_counter()
            once.append(t4 - t3)
            cached.append(t5 - t4)
            engine.steady_state()
            r, s = time_solves(engine, spec.nodes[0].species_id, args.seconds)
            gen.append(t1 - t0)
            comp.append(t2 - t1)
            rate.append(r)
            stable.append(s)
            species.append(len(model.species_ids))
            reactions.append(len(model.reaction_ids))
        rows[n] = {"generate_s": float(np.mean(gen)), "compile_s": float(np.mean(comp)),
                   "one_compile_s": float(np.mean(once)), "cached_s": float(np.mean(cached)),
                   "solves_per_s": float(np.mean(rate)), "stable": float(np.mean(stable)),
                   "species": float(np.mean(species)), "reactions": float(np.mean(reactions))}
        if n <= args.superset_max:
            rows[n].update(superset_vs_own(n, args.individuals, rng))

    print(f"{'nodes':>6}{'species':>9}{'reactions':>11}{'generate s':>12}{'compile s':>11}{'one compile s':>15}"
          f"{'cached s':>10}{'solves/s':>10}{'stable':>8}")
    for n, r in rows.items():
        print(f"{n:>6}{r['species']:>9.0f}{r['reactions']:>11.0f}{r['generate_s']:>12.4f}{r['compile_s']:>11.3f}"
              f"{r['one_compile_s']:>15.3f}{r['cached_s']:>10.4f}{r['solves_per_s']:>10.1f}{r['stable']:>8.2f}")
    compared = {n: r for n, r in rows.items() if "superset_edges" in r}
    print("\nindividuals of one substrate: own model (generate + compile + solve) vs shared superset "
          "(set rates + solve from reset)")
    print(f"{'nodes':>6}{'edges':>7}{'superset compile s':>20}{'own s/ind':>11}{'shared s/ind':>14}{'speed-up':>10}"
          f"{'own stable':>12}{'shared stable':>15}{'max rel diff':>14}")
    for n, r in compared.items():
        print(f"{n:>6}{r['superset_edges']:>7}{r['superset_compile_s']:>20.3f}{r['own_s_per_individual']:>11.3f}"
              f"{r['shared_s_per_individual']:>14.4f}{r['own_s_per_individual'] / r['shared_s_per_individual']:>10.1f}"
              f"{r['own_stable']:>12.2f}{r['shared_stable']:>15.2f}{r['max_rel_diff']:>14.2e}")
    print(json.dumps({
        "compile_s_by_nodes": {str(n): round(r["compile_s"], 4) for n, r in rows.items()},
        "generate_s_by_nodes": {str(n): round(r["generate_s"], 5) for n, r in rows.items()},
        "solves_per_s_by_nodes": {str(n): round(r["solves_per_s"], 1) for n, r in rows.items()},
        "one_compile_s_by_nodes": {str(n): round(r["one_compile_s"], 4) for n, r in rows.items()},
        "cached_load_s_by_nodes": {str(n): round(r["cached_s"], 5) for n, r in rows.items()},
        "own_model_s_per_individual_by_nodes": {str(n): round(r["own_s_per_individual"], 4)
                                                for n, r in compared.items()},
        "shared_superset_s_per_individual_by_nodes": {str(n): round(r["shared_s_per_individual"], 5)
                                                      for n, r in compared.items()},
        "own_stable_by_nodes": {str(n): r["own_stable"] for n, r in compared.items()},
        "shared_stable_by_nodes": {str(n): r["shared_stable"] for n, r in compared.items()},
    }))


if __name__ == "__main__":
    main()
