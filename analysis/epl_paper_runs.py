"""EPL main job at the paper's scale, and baselines on the same evaluation budget.

    python analysis/epl_paper_runs.py --out runs/epl_paper [--quick] [--seed 0]
        [--task cartpole|frozenlake] [--from-run DIR] [--skip-main] [--skip-baselines]

(1) The main job with the ``paper`` preset (population 100, 50 generations,
    10 learning epochs; ``frozenlake-paper`` with ``--task frozenlake``), or the
    figures of an existing run directory (``--from-run``): wall time, best
    fitness per generation, first generation with best >= 99, mean fitness at
    the last generation, training-time reduction per generation after the goal.
(2) Baselines, each given the same number of evaluations ``B = population x
    generations`` (16 x 4; 6 x 2 with ``--quick``) and the same task, seeds and fitness:

    * ``epl``: HyperNEAT over EPL learners (feedback on: the state learns);
    * ``epl_no_feedback``: the same HyperNEAT with every feedback amount 0 (the
      evolved network is a fixed controller; nothing is learned in an episode);
    * ``rates_es``: direct DEAP evolution of the log rate constants of one
      fixed network (the best structure of the ``epl`` run's first generation,
      whose evaluations are not counted), feedback 0: a (mu, lambda) strategy with ``deap.tools.mutGaussian`` and
      ``deap.tools.selBest``, mu = lambda / 4, parameters set on one compiled
      model (no recompiling);
    * ``random_search``: B random CPPN genomes (NEAT's minimal topology,
      uniform weights), feedback on, best of all.

    * ``deq_gd_xor``, ``deq_gd_regression``: the supervised toys, gradient
      training of the same network through the equilibrium layer: the network
      ``rates_es`` uses, expressed with the toy's roles, its potentials ``a_*``
      trained by ``epl_sysbio.deq.train_params`` (Adam, full batch; inputs
      injected into the input nodes, targets ``s (1 - y, y)`` on the output
      concentrations, ``s`` their initial total; rate constants do not move an
      EPL steady state), one Adam step per evaluation of the budget, scored by
      the toy's fitness with feedback 0 after each block of ``population``
      steps. Other task than the rows above: compare it with the EPL run of
      that toy, not with the cartpole figures. Each layer solve runs in a
      forked child with ``SOLVE_TIMEOUT`` seconds (libRoadRunner's NLEQ2 can
      loop for ever on these networks): a hang is a failed sample, left out
      of that step's loss; a step where no sample settles stops the training
      and the last parameters that settled are the result.

Writes baselines.csv, baselines.png and the main run's directory into --out,
and prints one JSON line of headline figures last.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import random
import sys

import numpy as np
from _script import save_figure, start_run, write_csv  # noqa: E402  (sibling module)

from deap import base, tools

from epl_sysbio.deq import TrainingOptions, train_params
from epl_sysbio.epl.alignment import equilibrium_layer, node_inputs
from epl_sysbio.epl.config import EplJobConfig, preset
from epl_sysbio.epl.fitness import evaluate_learner
from epl_sysbio.epl.job import run_job
from epl_sysbio.epl.learner import EplLearner
from epl_sysbio.epl.substrate import build_network, evaluate_genome, make_learner, task_for
from epl_sysbio.evolve import initial_genome
from epl_sysbio.seeds import derive_seed
from epl_sysbio.evolve.genome import genomes_from_arrays
from epl_sysbio.isolation import Isolation

FULL = {"budget_population": 16, "budget_generations": 4}
QUICK = {"budget_population": 6, "budget_generations": 2}
#: Budget of one equilibrium-layer solve (in its own child): solves take milliseconds, but NLEQ2 looped for ever at
#: step 16 of the XOR training on the paper preset's seed-0 network (and in regression's).
SOLVE_TIMEOUT = 5.0
NO_FEEDBACK = {"step_feedback": 0.0, "failure_feedback": 0.0, "success_feedback": 0.0, "feedback_scale": 0.0}


class _Max(base.Fitness):
    weights = (1.0,)


class _Individual(list):
    """Log rate constants with a DEAP fitness (module level: no global ``creator`` classes)."""

    def __init__(self, values) -> None:
        super().__init__(values)
        self.fitness = _Max()


def rate_ids(learner: EplLearner) -> list[str]:
    """Rate constants of the dynamics' SBML: chemical/diffusion k, Hamiltonian v, reservoir h."""
    return [p for p in learner.engine.parameter_ids if p.split("_")[0] in ("k", "v", "h")]


def rates_es(config: EplJobConfig, genome, budget_pop: int, budget_gens: int, seed: int) -> list[float]:
    """(mu, lambda) evolution of log rate constants of ``genome``'s network; best fitness per generation."""
    cfg = config.replace(task=NO_FEEDBACK)
    network = build_network(genome, cfg)
    if isinstance(network, str):
        return [0.0] * budget_gens
    learner = make_learner(network, cfg, backend="roadrunner")  # edits a compiled model's parameters
    engine = learner.engine
    start = engine.amounts()
    ids = rate_ids(learner)
    base = np.log(np.maximum(engine.get_values(ids), 1e-12))
    rng = np.random.default_rng(seed)
    task = task_for(cfg.task)
    mu = max(1, budget_pop // 4)
    parents = [list(base)] + [list(base + rng.normal(0, 0.5, len(base))) for _ in range(mu - 1)]
    best = []
    for gen in range(budget_gens):
        offspring = []
        for i in range(budget_pop):
            child = list(parents[i % len(parents)])
            if gen or i:
                # deap's mutGaussian draws from the global `random`: seed it from our generator
                random.seed(int(rng.integers(2**32)))
                child = tools.mutGaussian(child, mu=0.0, sigma=0.5, indpb=0.3)[0]
            engine.set_values(dict(zip(ids, np.exp(child))))
            engine.set_amounts(start)
            fresh = EplLearner(engine, learner.inputs, learner.outputs, learner.feedback, cfg.learner,
                               signed=learner.signed)
            fit = evaluate_learner(fresh, task, derive_seed(seed, gen, i), size=network.size,
                                   weights=cfg.fitness).fitness
            offspring.append((fit, child))

        pool = []
        for fit, child in offspring:
            ind = _Individual(child)
            ind.fitness.values = (fit,)
            pool.append(ind)
        parents = [list(p) for p in tools.selBest(pool, mu)]
        best.append(max(f for f, _ in offspring))
    return best


def deq_gradient_baseline(config: EplJobConfig, genome, task_name: str, budget_pop: int, budget_gens: int,
                          seed: int) -> tuple[list[float], dict]:
    """Adam on the potentials of ``genome``'s network through the equilibrium layer; toy fitness per block.

    Also returns the training loss before and after, the Adam steps to the result, the samples whose solve failed
    (summed over steps), and the toy's score of the layer's own per-sample equilibrium predictions (each
    sample from the settled state) after training.
    """
    cfg = config.replace(task={**NO_FEEDBACK, "name": task_name})
    network = build_network(genome, cfg)
    if isinstance(network, str):
        print(f"deq_gd_{task_name}: no network ({network}); fitness 0", file=sys.stderr)
        return [0.0] * budget_gens, {}
    learner = make_learner(network, cfg, backend="roadrunner")  # edits a compiled model's parameters
    engine = learner.engine
    start = engine.amounts()
    potentials = [p for p in engine.parameter_ids if p.startswith("a_")]
    if learner.initialise() != "ok":
        print(f"deq_gd_{task_name}: the learner does not settle ({learner.message}); fitness 0", file=sys.stderr)
        return [0.0] * budget_gens, {}
    layer = equilibrium_layer(learner, network.model, params=potentials)
    layer.engine.isolation = Isolation(timeout=SOLVE_TIMEOUT)  # a hung NLEQ2 is a failed sample, not a hung script
    task = task_for(cfg.task)
    x, y = task.samples()
    z = node_inputs(layer, learner, x)  # each sample injected into the settled state, as the learner's first step
    first = layer.forward(z)
    scale = float(np.mean(first.values[first.ok].sum(axis=1))) if first.ok.any() else 1.0
    targets = scale * np.column_stack([1.0 - y, y])
    trained = train_params(layer, z, targets, TrainingOptions(steps=budget_pop * budget_gens, log_space=False,
                                                              seed=seed))
    # A step where no sample settles has a NaN loss and stops the training there: its parameters failed, the
    # result is the last ones that settled.
    settled = np.flatnonzero(np.isfinite(trained.loss))
    if not settled.size:
        print(f"deq_gd_{task_name}: no sample settles in the equilibrium layer; fitness 0", file=sys.stderr)
        return [0.0] * budget_gens, {}
    best = []
    for gen in range(budget_gens):
        step = settled[settled <= (gen + 1) * budget_pop][-1]
        engine.set_values(dict(zip(potentials, trained.history[step])))
        engine.set_amounts(start)
        fresh = EplLearner(engine, learner.inputs, learner.outputs, learner.feedback, cfg.learner,
                           signed=learner.signed)
        fitness = evaluate_learner(fresh, task, derive_seed(seed, gen, 0), size=network.size,
                                   weights=cfg.fitness).fitness
        best.append(max([fitness] + best[-1:]))  # best so far, like the other curves
    after = layer.forward(z, params=trained.history[settled[-1]])
    layer_score = task.score(np.array([task.predict(o) for o in after.values]), y) if after.ok.all() else None
    return best, {"loss_first": float(trained.loss[0]), "loss_final": float(trained.loss[settled[-1]]),
                  "adam_steps": int(settled[-1]), "failed_samples": int(trained.failed.sum()),
                  "layer_score": layer_score}


def random_search(config: EplJobConfig, budget_pop: int, budget_gens: int, seed: int) -> list[float]:
    """Best fitness after each block of ``budget_pop`` random genomes."""
    rng = np.random.default_rng(seed)
    best, running = [], 0.0
    for gen in range(budget_gens):
        for i in range(budget_pop):
            genome = initial_genome(config.neat, rng)
            running = max(running, evaluate_genome(genome, derive_seed(seed, gen, i), config).fitness)
        best.append(running)
    return best


def run_or_load(config: EplJobConfig, out: Path, from_run: Path | None) -> dict:
    if from_run is not None:
        summary = json.loads((from_run / "summary.json").read_text())
        return {"summary": summary, "run_dir": str(from_run)}
    result = run_job(config, out, force=True)
    return {"summary": result.summary, "run_dir": str(out)}


def main(argv: list[str] | None = None) -> None:
    import argparse

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--task", default="cartpole", choices=["cartpole", "frozenlake"])
    pre.add_argument("--from-run", type=Path)
    pre.add_argument("--skip-main", action="store_true", help="only the baselines")
    pre.add_argument("--skip-baselines", action="store_true", help="only the main run (or --from-run's figures)")
    extra, rest = pre.parse_known_args(argv)
    args, cfg, _ = start_run(__doc__.splitlines()[0], rest, FULL, QUICK)
    out: Path = args.out
    t0 = time.perf_counter()
    paper = preset("paper" if extra.task == "cartpole" else "frozenlake-paper").replace(run={"seed": args.seed})
    if args.quick:
        paper = paper.replace(neat={"population_size": 6}, run={"generations": 2}, task={"epochs": 2})
    headline: dict = {"task": extra.task}
    if not extra.skip_main:
        main_run = run_or_load(paper, out / "paper_run", extra.from_run)
        s = main_run["summary"]
        headline.update({
            "paper_wall_s": s["wall_s"], "paper_generations_done": s["generations"],
            "paper_population": s["population"], "paper_best_fitness": s["best_fitness"],
            "paper_first_gen_best_at_least_99": s["first_gen_best_at_least_99"],
            "paper_mean_fitness_final": s["mean_fitness_final"],
            "paper_training_time_reduction_pct_per_gen": s["training_time_reduction_pct_per_gen"],
            "paper_wall_s_per_evaluation": s["wall_s_per_evaluation"], "paper_run_dir": main_run["run_dir"],
        })

    if extra.skip_baselines:
        headline["wall_s"] = time.perf_counter() - t0
        print(json.dumps(headline))
        return
    # (2) baselines on one budget
    pop, gens = cfg["budget_population"], cfg["budget_generations"]
    small = paper.replace(neat={"population_size": max(pop, 2)}, run={"generations": gens})
    curves: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    epl = run_job(small, out / "baseline_epl", force=True)
    curves["epl"], seconds["epl"] = [r["best_fitness"] for r in epl.records], time.perf_counter() - t
    t = time.perf_counter()
    nofb = run_job(small.replace(task=NO_FEEDBACK), out / "baseline_no_feedback", force=True)
    curves["epl_no_feedback"] = [r["best_fitness"] for r in nofb.records]
    seconds["epl_no_feedback"] = time.perf_counter() - t
    first = json.loads((out / "baseline_epl" / "generations.jsonl").read_text().splitlines()[0])
    genome0 = genomes_from_arrays({k: np.asarray(v) for k, v in first["genome_arrays"].items()})[0]
    t = time.perf_counter()
    curves["rates_es"] = rates_es(small, genome0, pop, gens, args.seed)
    seconds["rates_es"] = time.perf_counter() - t
    t = time.perf_counter()
    curves["random_search"] = random_search(small, pop, gens, args.seed)
    seconds["random_search"] = time.perf_counter() - t
    for toy in ("xor", "regression"):
        t = time.perf_counter()
        curves[f"deq_gd_{toy}"], info = deq_gradient_baseline(small, genome0, toy, pop, gens, args.seed)
        seconds[f"deq_gd_{toy}"] = time.perf_counter() - t
        headline.update({f"baseline_deq_gd_{toy}_{k}": v for k, v in info.items()})
    means = {"epl": epl.records[-1]["mean_fitness"], "epl_no_feedback": nofb.records[-1]["mean_fitness"]}
    rows = [[name, pop * gens, curve[-1], max(curve), means.get(name, ""), round(seconds[name], 1)]
            for name, curve in curves.items()]
    write_csv(out / "baselines.csv", ["method", "evaluations", "best_fitness_final", "best_fitness_max",
                                      "mean_fitness_final", "wall_s"], rows)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for name, curve in curves.items():
        label = f"{name} (its own task)" if name.startswith("deq_gd_") else name
        ax.plot(np.arange(1, len(curve) + 1) * pop, curve, "o-", ms=3, label=label)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best fitness so far (0-100)")
    ax.set_title(f"{extra.task}: baselines on one budget ({pop} x {gens} evaluations)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, out / "baselines.png")
    headline.update({f"baseline_{name}_best_fitness": curve[-1] for name, curve in curves.items()})
    headline.update({"baseline_evaluations": pop * gens, "wall_s": time.perf_counter() - t0})
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
