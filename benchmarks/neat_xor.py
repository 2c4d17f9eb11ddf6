"""XOR, the NEAT paper's benchmark: epl_sysbio.evolve next to neat-python, in one run, one criterion.

Protocol (Stanley & Miikkulainen 2002, section 4.1): population 150, at most
100 generations. ONE success criterion for both libraries, checked after every
generation's evaluation: some network puts all four outputs on the correct
side of 0.5 (``xor_solved``). Each library keeps its own fitness:

- ours: the paper's ``(4 - sum|output - target|)^2`` with NeatConfig's
  defaults (the paper's parameters, docs/evolve.md);
- neat-python: its own XOR example, unchanged: the configuration file
  ``examples/xor/config-feedforward`` of neat-python 2.0.0 (verbatim below,
  population 150, its own stop at fitness 3.9, which implies the criterion)
  and the example's fitness ``4 - sum (output - target)^2``. The script only
  drives ``Population.run`` one generation at a time to check the criterion.

Evaluations are counted as the paper does: networks evaluated up to and
including the first one that meets the criterion (``mean_evaluations``);
``mean_evaluations_whole_generations`` counts every network of every
evaluated generation. Seeds run in a process pool (one worker per core; the
two libraries' runs interleaved), each run evaluating serially, so
``evals_per_s`` is per core over the whole evolution loop (wall clock),
``evals_per_cpu_s`` the same per CPU second of the run's own process (what a
shared, loaded machine distorts least), and ``fitness_calls_per_s`` inside
the fitness function only (build the network from the genome and run the
four XOR cases).

    python benchmarks/neat_xor.py                 # 100 runs each
    python benchmarks/neat_xor.py --runs 10       # a quick check
    python benchmarks/neat_xor.py --neat '{"add_connection_rate": 0.2}'   # a tuned variant of ours

The last line printed is a JSON object of headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from epl_sysbio.evolve import EvolveConfig, evolve, xor_fitness
from epl_sysbio.evolve.xor import XOR_INPUTS, XOR_TARGETS, xor_solved

PAPER = {"runs": 100, "success_rate": 1.0, "mean_generations": 32, "mean_evaluations": 4755,
         "mean_hidden_nodes": 2.35}
CRITERION = ("all four outputs on the correct side of 0.5, checked after every generation, "
             "at most {generations} generations")

# neat-python 2.0.0, examples/xor/config-feedforward, verbatim (comments dropped).
NEAT_PYTHON_EXAMPLE_CONFIG = """
[NEAT]
fitness_criterion     = max
fitness_threshold     = 3.9
pop_size              = 150
reset_on_extinction   = False
no_fitness_termination         = False

[DefaultGenome]
activation_default      = sigmoid
activation_mutate_rate  = 0.0
activation_options      = sigmoid
aggregation_default     = sum
aggregation_mutate_rate = 0.0
aggregation_options     = sum
bias_init_mean          = 0.0
bias_init_stdev         = 1.0
bias_max_value          = 30.0
bias_min_value          = -30.0
bias_mutate_power       = 0.5
bias_mutate_rate        = 0.7
bias_replace_rate       = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient   = 0.5
conn_add_prob           = 0.5
conn_delete_prob        = 0.5
enabled_default         = True
enabled_mutate_rate     = 0.01
feed_forward            = True
initial_connection      = full_direct
node_add_prob           = 0.2
node_delete_prob        = 0.2
num_hidden              = 0
num_inputs              = 2
num_outputs             = 1
response_init_mean      = 1.0
response_init_stdev     = 0.0
response_max_value      = 30.0
response_min_value      = -30.0
response_mutate_power   = 0.0
response_mutate_rate    = 0.0
response_replace_rate   = 0.0
weight_init_mean        = 0.0
weight_init_stdev       = 1.0
weight_max_value        = 30
weight_min_value        = -30
weight_mutate_power     = 0.5
weight_mutate_rate      = 0.8
weight_replace_rate     = 0.1
single_structural_mutation     = false
structural_mutation_surer      = default
bias_init_type                 = gaussian
response_init_type             = gaussian
weight_init_type               = gaussian
enabled_rate_to_true_add       = 0.0
enabled_rate_to_false_add      = 0.0

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation       = 20
species_elitism      = 2

[DefaultReproduction]
elitism            = 2
survival_threshold = 0.2
min_species_size               = 2
"""


def run_ours(seed: int, generations: int, neat: dict) -> dict:
    config = EvolveConfig().replace(
        neat=neat,
        run={"seed": seed, "generations": generations, "executor": "serial", "progress": False, "plots": False},
    )
    start, cpu = time.perf_counter(), time.process_time()
    result = evolve(xor_fitness, config)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    winner = result.solution or result.best
    found = result.evaluations
    if result.solution is not None:  # the paper counts up to the solver, not its whole generation
        found = result.evaluations - len(result.population) + result.solution_index + 1
    return {"solved": result.solved, "generations": result.generations, "evaluations": found,
            "evaluations_all": result.evaluations, "hidden": winner.n_hidden, "connections": winner.n_enabled,
            "seconds": seconds, "cpu_seconds": cpu, "eval_seconds": result.evaluation_seconds}


def run_neat_python(seed: int, generations: int, config_path: str) -> dict:
    import neat

    config = neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                         neat.DefaultStagnation, config_path)
    state = {"evaluations": 0, "found": None, "winner": None, "eval_seconds": 0.0}

    def eval_genomes(genomes: list, cfg: neat.Config) -> None:
        # neat-python's examples/xor/evolve-feedforward.py fitness, plus the shared criterion
        for _, genome in genomes:
            tick = time.perf_counter()
            net = neat.nn.FeedForwardNetwork.create(genome, cfg)
            out = [net.activate(x)[0] for x in XOR_INPUTS.tolist()]
            genome.fitness = 4.0 - sum((o - t) ** 2 for o, t in zip(out, XOR_TARGETS.tolist(), strict=True))
            state["eval_seconds"] += time.perf_counter() - tick
            state["evaluations"] += 1
            if state["found"] is None and xor_solved(out):
                state["found"], state["winner"] = state["evaluations"], genome

    population = neat.Population(config, seed=seed)
    done = 0
    start, cpu = time.perf_counter(), time.process_time()
    try:
        while done < generations and state["found"] is None:
            population.run(eval_genomes, 1)  # one generation; the population carries on at the next call
            done += 1
    except neat.CompleteExtinctionException:
        pass
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    winner = state["winner"] or population.best_genome
    hidden = sum(1 for k in winner.nodes if k not in config.genome_config.output_keys)
    enabled = sum(1 for c in winner.connections.values() if c.enabled)
    return {"solved": state["found"] is not None, "generations": done,
            "evaluations": state["found"] or state["evaluations"], "evaluations_all": state["evaluations"],
            "hidden": hidden, "connections": enabled, "seconds": seconds, "cpu_seconds": cpu,
            "eval_seconds": state["eval_seconds"]}


def summarise(runs: list[dict]) -> dict:
    solved = [r for r in runs if r["solved"]]
    mean = (lambda key: round(statistics.fmean(r[key] for r in solved), 2)) if solved else (lambda key: None)
    evaluations = sum(r["evaluations_all"] for r in runs)
    return {
        "runs": len(runs),
        "success_rate": round(len(solved) / len(runs), 3),
        "mean_generations": mean("generations"),
        "mean_evaluations": mean("evaluations"),
        "sd_evaluations": round(statistics.pstdev(r["evaluations"] for r in solved), 1) if solved else None,
        "mean_evaluations_whole_generations": mean("evaluations_all"),
        "mean_hidden_nodes": mean("hidden"),
        "mean_enabled_connections": mean("connections"),
        "worst_generations": max(r["generations"] for r in solved) if solved else None,
        "evals_per_s": round(evaluations / sum(r["seconds"] for r in runs), 1),
        "evals_per_cpu_s": round(evaluations / sum(r["cpu_seconds"] for r in runs), 1),
        "fitness_calls_per_s": round(evaluations / sum(r["eval_seconds"] for r in runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--neat", default="{}", help="JSON object of NeatConfig overrides for ours (tuning)")
    parser.add_argument("--skip-neat-python", action="store_true")
    args = parser.parse_args()
    overrides = json.loads(args.neat)
    seeds = range(args.runs)
    criterion = CRITERION.format(generations=args.generations)
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.workers) as pool:
        config_path = str(Path(tmp) / "config-feedforward")
        Path(config_path).write_text(NEAT_PYTHON_EXAMPLE_CONFIG)
        ours_f, theirs_f = [], []
        for s in seeds:  # interleaved, so that both libraries see the same load on a shared machine
            ours_f.append(pool.submit(run_ours, s, args.generations, overrides))
            if not args.skip_neat_python:
                theirs_f.append(pool.submit(run_neat_python, s, args.generations, config_path))
        ours = summarise([f.result() for f in ours_f])
        theirs = summarise([f.result() for f in theirs_f]) if theirs_f else None
    print(f"success criterion (both libraries): {criterion}")
    print("ours: NeatConfig defaults (the paper's)" + (f" with overrides {overrides}" if overrides else "")
          + "; neat-python: its examples/xor/config-feedforward and fitness, unchanged")
    rows = [("", "paper", "epl_sysbio", "neat-python")]
    for key in ours:
        rows.append((key, str(PAPER.get(key, "")), str(ours[key]), str(theirs[key]) if theirs else "-"))
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)))
    ratio = {k: round(ours[k] / theirs[k], 2) for k in ("evals_per_s", "evals_per_cpu_s", "fitness_calls_per_s")
             } if theirs else None
    print(json.dumps({"ours": ours, "neat_python": theirs, "paper": PAPER, "criterion": criterion,
                      "neat_overrides": overrides, "neat_python_config": "examples/xor/config-feedforward (2.0.0)",
                      "speed_ratio_ours_over_neat_python": ratio,
                      "units": {"mean_evaluations": "networks evaluated up to and including the first solver",
                                "evals_per_s": "evaluations per second per core, whole evolution loop (wall)",
                                "evals_per_cpu_s": "evaluations per CPU second of the run's process, whole loop",
                                "fitness_calls_per_s": "evaluations per second per core inside the fitness "
                                                       "function (build the network, run XOR)"}}))


if __name__ == "__main__":
    main()
