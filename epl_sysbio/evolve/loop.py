"""The generation loop: NEAT on a DEAP toolbox, checkpointed every generation.

Each generation:

1. speciate the population against last generation's representatives;
2. evaluate every genome through ``toolbox.map(toolbox.evaluate, genomes, seeds)``
   with ``seed = SeedSequence([run seed, generation, index])`` (a pure function
   of its arguments, so executors, worker counts and retries do not change results);
   failures get ``worst_fitness`` and a line in ``faults.csv``;
3. record DEAP Statistics in the Logbook, update the HallOfFame and hand the
   generation (genomes, seeds, what the fitness returned beside the value) to
   the reporters (:class:`~.report.Reporter`);
4. stop if an evaluation reports ``solved`` or the best fitness reaches
   ``fitness_threshold``; otherwise reproduce (:func:`~.species.reproduce`;
   only the two best species when the population's best fitness has not
   improved for more than ``population_stagnation_generations``) and write a
   checkpoint holding the next population, the species, the generator state,
   the innovation counters and the population's stagnation clock.

A run directory has one writer (:class:`~.rundir.RunLock`) and advances by
atomic renames: the checkpoint of generation ``g + 1`` is the commit of
generation ``g``; ``logbook.csv`` and ``faults.csv`` are rewritten whole
(atomically) from the committed state plus the generation just evaluated, so
a kill at any moment leaves a directory that :func:`resume` continues to the
logbook an uninterrupted run writes (a run killed before its first checkpoint
starts again from generation 0, a pure function of its config). Loaded
checkpoints are range-checked like a config.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from deap import base, tools

from epl_sysbio.errors import CheckpointError, invalid_parameter_message
from epl_sysbio.seeds import derive_seed

from .checkpoint import atomic_write, latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from .config import EvolveConfig, config_hash, config_to_toml, load_config
from .executors import Executor, Outcome, TaskLost, evaluate_guarded, make_executor
from .genome import Genome, InnovationTracker, genomes_from_arrays, genomes_to_arrays, initial_genome, initial_tracker
from .report import GenerationReport, ProgressReporter, Reporter, plot_fitness, plot_species, write_logbook_csv
from .rundir import RunLock
from .species import Species, adjust_threshold, reproduce, speciate

__all__ = ["EvolveResult", "evolve", "resume", "genome_to_dict"]

Fitness = Callable[[Genome, int], "float | tuple[float, bool] | Evaluation"]


@dataclass
class EvolveResult:
    """The outcome of :func:`evolve` or :func:`resume`.

    ``best`` is the best genome ever evaluated (hall of fame's first);
    ``solution`` the first genome of the last generation whose evaluation
    reported ``solved`` (None if none did) and ``solution_index`` its index in
    that generation, so ``evaluations - len(population) + solution_index + 1``
    evaluations had been made when it was found (the NEAT paper's count);
    ``evaluation_seconds`` the time spent inside the fitness function in this
    call (summed over workers).
    """

    best: Genome
    best_fitness: float
    solved: bool
    generations: int
    evaluations: int
    logbook: tools.Logbook
    hall_of_fame: tools.HallOfFame
    population: list[Genome]
    species: list[Species]
    run_dir: Path | None
    solution: Genome | None = None
    solution_index: int | None = None
    evaluation_seconds: float = 0.0


@dataclass
class _State:
    generation: int
    population: list[Genome]
    species: list[Species]
    threshold: float
    next_species_id: int
    tracker: InnovationTracker
    rng: np.random.Generator
    logbook: tools.Logbook
    hof: tools.HallOfFame
    evaluations: int
    history: list[list[int]]
    best_ever: float = -np.inf  # the population's best fitness so far ...
    best_improved: int = 0      # ... and the generation it was reached (the refocus clock)


def _fitness_value(genome: Genome) -> float:
    return genome.fitness.values[0]


def _statistics() -> tools.Statistics:
    stats = tools.Statistics(key=_fitness_value)
    stats.register("best", np.max)
    stats.register("mean", np.mean)
    stats.register("std", np.std)
    stats.register("min", np.min)
    return stats


def _initial_state(config: EvolveConfig) -> _State:
    rng = np.random.default_rng(config.run.seed)
    population = [initial_genome(config.neat, rng) for _ in range(config.neat.population_size)]
    return _State(0, population, [], config.neat.compatibility_threshold, 0, initial_tracker(config.neat), rng,
                  tools.Logbook(), tools.HallOfFame(config.run.hall_of_fame), 0, [])


def genome_to_dict(genome: Genome) -> dict[str, Any]:
    """A JSON-ready description of a genome (nodes, connections, fitness)."""
    return {
        "n_inputs": genome.n_inputs,
        "n_outputs": genome.n_outputs,
        "fitness": genome.fitness.values[0] if genome.fitness.valid else None,
        "nodes": [{"id": n.id, "kind": n.kind, "activation": n.activation} for n in genome.nodes.values()],
        "connections": [{"innovation": c.innovation, "src": c.src, "dst": c.dst, "weight": c.weight,
                         "enabled": c.enabled} for c in genome.connections.values()],
    }


# -- checkpoint state ---------------------------------------------------------------------------

def _prefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}_{k}": v for k, v in arrays.items()}


def _unprefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k[len(prefix) + 1:]: v for k, v in arrays.items() if k.startswith(prefix + "_")}


def _save(state: _State, config: EvolveConfig, run_dir: Path) -> None:
    document = {
        "rng": state.rng.bit_generator.state,
        "tracker": state.tracker.state(),
        "threshold": state.threshold,
        "next_species_id": state.next_species_id,
        "evaluations": state.evaluations,
        "best_ever": state.best_ever,
        "best_improved": state.best_improved,
        "species": [{"id": s.id, "created": s.created, "best_fitness": s.best_fitness,
                     "last_improved": s.last_improved} for s in state.species],
        "logbook": list(state.logbook),
    }
    arrays = {
        **_prefixed("pop", genomes_to_arrays(state.population)),
        **_prefixed("rep", genomes_to_arrays([s.representative for s in state.species])),
        **_prefixed("hof", genomes_to_arrays(list(state.hof))),
        "species_history": np.asarray(state.history, dtype=np.int64).reshape(-1, 3),
    }
    save_checkpoint(run_dir / "checkpoints", state.generation, config_hash(config), document, arrays,
                    keep=config.run.keep_checkpoints)


def _load(path: Path, config: EvolveConfig) -> _State:
    document, arrays = load_checkpoint(path, config_hash(config))
    doc = document["state"]
    try:
        rng = np.random.default_rng()
        rng.bit_generator.state = doc["rng"]
        reps = genomes_from_arrays(_unprefixed("rep", arrays))
        species = [Species(s["id"], rep, s["created"], s["best_fitness"], s["last_improved"])
                   for s, rep in zip(doc["species"], reps, strict=True)]
        logbook = tools.Logbook()
        for record in doc["logbook"]:
            logbook.record(**record)
        hof = tools.HallOfFame(config.run.hall_of_fame)
        hof.update(genomes_from_arrays(_unprefixed("hof", arrays)))
        state = _State(document["generation"], genomes_from_arrays(_unprefixed("pop", arrays)), species,
                       doc["threshold"], doc["next_species_id"], InnovationTracker(**doc["tracker"]), rng,
                       logbook, hof, doc["evaluations"], arrays["species_history"].tolist(),
                       doc["best_ever"], doc["best_improved"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"Checkpoint {str(path)!r} lacks run state ({exc!r}); it is not from evolve().") from exc
    _check_state(state, config, path)
    return state


def _check_state(state: _State, config: EvolveConfig, path: Path) -> None:
    """Range checks of a loaded state, as a config gets: a value edited under a recomputed checksum is refused."""
    neat = config.neat

    def require(name: str, ok: bool, constraint: str, got: object) -> None:
        if not ok:
            raise CheckpointError(f"Checkpoint {str(path)!r}: " + invalid_parameter_message(
                "the saved run state", name, constraint, got) + " Resume from an older checkpoint.")

    def count(x: object) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    require("generation", count(state.generation) and state.generation >= 1, "an int >= 1", state.generation)
    require("threshold", isinstance(state.threshold, (int, float)) and math.isfinite(state.threshold)
            and state.threshold >= min(neat.min_threshold, neat.compatibility_threshold),
            f"a finite float >= {min(neat.min_threshold, neat.compatibility_threshold)} (min_threshold)",
            state.threshold)
    for name in ("next_species_id", "evaluations"):
        require(name, count(getattr(state, name)), "an int >= 0", getattr(state, name))
    require("best_improved", count(state.best_improved) and state.best_improved <= state.generation,
            f"an int in [0, generation = {state.generation}]", state.best_improved)
    require("best_ever", isinstance(state.best_ever, (int, float)) and not math.isnan(state.best_ever),
            "a float (not NaN)", state.best_ever)
    for name in ("next_innovation", "next_node_id"):
        require(f"tracker.{name}", count(getattr(state.tracker, name)), "an int >= 0", getattr(state.tracker, name))
    require("population size", len(state.population) == neat.population_size,
            f"population_size = {neat.population_size}", len(state.population))
    ids = [s.id for s in state.species]
    require("species ids", all(count(i) and i < state.next_species_id for i in ids) and len(set(ids)) == len(ids),
            f"distinct ints in [0, next_species_id = {state.next_species_id})", ids)
    for s in state.species:
        require(f"species {s.id} created/last_improved",
                count(s.created) and count(s.last_improved) and s.last_improved <= state.generation,
                f"ints in [0, generation = {state.generation}]", (s.created, s.last_improved))
    genomes = state.population + [s.representative for s in state.species] + list(state.hof)
    for g in genomes:
        require("genome shape", (g.n_inputs, g.n_outputs) == (neat.n_inputs, neat.n_outputs),
                f"({neat.n_inputs}, {neat.n_outputs}) inputs and outputs", (g.n_inputs, g.n_outputs))
        weights = [c.weight for c in g.connections.values()]
        require("connection weights", all(math.isfinite(w) and abs(w) <= neat.weight_max for w in weights),
                f"finite floats in [-{neat.weight_max}, {neat.weight_max}] (weight_max)",
                next((w for w in weights if not (math.isfinite(w) and abs(w) <= neat.weight_max)), None))


# -- the loop -----------------------------------------------------------------------------------

_FAULTS_HEADER = ["generation", "index", "seed", "reason"]


def _committed_faults(run_dir: Path | None, generation: int) -> list[list]:
    """The rows of ``faults.csv`` for generations before ``generation`` (later ones were never committed)."""
    path = None if run_dir is None else run_dir / "faults.csv"
    if path is None or not path.exists():
        return []
    rows = []
    for row in list(csv.reader(io.StringIO(path.read_text(errors="replace"))))[1:]:
        try:
            if len(row) == 4 and int(row[0]) < generation:
                rows.append([int(row[0]), int(row[1]), int(row[2]), row[3]])
        except ValueError:
            continue  # a torn line from a non-atomic writer of old
    return rows


def _write_faults(run_dir: Path | None, rows: list[list]) -> None:
    if run_dir is None or not rows:
        return
    out = io.StringIO(newline="")
    csv.writer(out).writerows([_FAULTS_HEADER, *rows])
    atomic_write(run_dir / "faults.csv", out.getvalue().encode())


def _run(fitness: Fitness, config: EvolveConfig, state: _State, run_dir: Path | None,
         executor: Executor | None, reporters: Sequence[Reporter] = ()) -> EvolveResult:
    neat, run = config.neat, config.run
    own_executor = executor is None
    executor = make_executor(run) if own_executor else executor
    progress = ProgressReporter(run.generations, state.generation, enabled=run.progress)
    toolbox = base.Toolbox()
    toolbox.register("map", progress.wrap(executor).map)  # ticks the progress bar per finished evaluation
    toolbox.register("evaluate", partial(evaluate_guarded, fitness, time_limit=run.time_limit,
                                         worst=run.worst_fitness))
    stats = _statistics()
    evaluated: list[Genome] = state.population
    solution, solution_index, solved, seconds = None, None, False, 0.0
    all_faults = _committed_faults(run_dir, state.generation)
    try:
        while state.generation < run.generations:
            gen = state.generation
            started = time.perf_counter()
            for reporter in reporters:
                reporter.start_generation(gen)
            state.species, state.next_species_id = speciate(state.population, state.species, state.threshold,
                                                            neat, gen, state.next_species_id)
            seeds = [derive_seed(run.seed, gen, i) for i in range(len(state.population))]
            outcomes = toolbox.map(toolbox.evaluate, state.population, seeds)
            faults, infos, reasons = [], [], []
            for i, (genome, outcome) in enumerate(zip(state.population, outcomes, strict=True)):
                if isinstance(outcome, TaskLost):
                    outcome = Outcome(run.worst_fitness, False, outcome.reason)
                genome.fitness.values = (outcome.fitness,)
                infos.append(outcome.info)
                reasons.append(outcome.reason)
                seconds += outcome.seconds
                if outcome.solved and solution is None:
                    solution, solution_index = genome.copy(), i
                if outcome.reason:
                    faults.append([gen, i, seeds[i], outcome.reason])
            all_faults += faults
            _write_faults(run_dir, all_faults)
            state.evaluations += len(outcomes)
            evaluated = state.population
            best = max(evaluated, key=_fitness_value)
            state.logbook.record(gen=gen, nevals=len(outcomes), evaluations=state.evaluations,
                                 species=len(state.species), threshold=state.threshold, faults=len(faults),
                                 best_hidden=best.n_hidden, best_connections=best.n_enabled,
                                 **stats.compile(evaluated))
            state.hof.update(evaluated)
            state.history.extend([gen, s.id, len(s.members)] for s in state.species)
            record = state.logbook[-1]
            progress.update(gen, record["best"], record["mean"], len(state.species), len(outcomes))
            if run_dir is not None:
                write_logbook_csv(run_dir / "logbook.csv", state.logbook)
            report = GenerationReport(gen, evaluated, seeds, infos, reasons, state.species, dict(record),
                                      state.evaluations, time.perf_counter() - started)
            for reporter in reporters:
                reporter.end_generation(report)
            if solution is not None or (run.fitness_threshold is not None
                                        and record["best"] >= run.fitness_threshold):
                solved = True
                break
            state.threshold = adjust_threshold(state.threshold, len(state.species), neat)
            if record["best"] > state.best_ever:
                state.best_ever, state.best_improved = float(record["best"]), gen
            refocus = 0 < neat.population_stagnation_generations < gen - state.best_improved
            if refocus:  # once; then the clock restarts, as in Stanley's code
                state.best_improved = gen
            fit = np.asarray([_fitness_value(g) for g in evaluated])
            state.population, state.species = reproduce(evaluated, fit, state.species, gen, neat, state.rng,
                                                        state.tracker, refocus=refocus)
            state.generation += 1
            if run_dir is not None and run.checkpoint_every and state.generation % run.checkpoint_every == 0:
                _save(state, config, run_dir)
    finally:
        progress.close()
        if own_executor:
            executor.close()
    best = state.hof[0]
    if run_dir is not None:
        atomic_write(run_dir / "best.json", json.dumps(genome_to_dict(best), indent=1).encode())
        if run.plots and len(state.logbook):
            plot_fitness(run_dir / "fitness.png", state.logbook)
            plot_species(run_dir / "species.png", np.asarray(state.history))
    return EvolveResult(best, _fitness_value(best), solved, len(state.logbook), state.evaluations, state.logbook,
                        state.hof, evaluated, state.species, run_dir, solution, solution_index, seconds)


def evolve(fitness: Fitness, config: EvolveConfig | None = None, *, run_dir: str | Path | None = None,
           executor: Executor | None = None, reporters: Sequence[Reporter] = ()) -> EvolveResult:
    """Evolve NEAT genomes that maximise ``fitness(genome, seed)``.

    Parameters
    ----------
    fitness : callable
        A picklable (module-level) function of ``(genome, seed)`` returning a
        float, ``(float, solved)`` or an :class:`~.executors.Evaluation` (whose
        ``info`` reaches the reporters); it must be pure in its arguments.
    config : EvolveConfig
        Options (defaults: the NEAT paper's).
    run_dir : path, optional
        Directory for config.toml, logbook.csv, faults.csv, checkpoints/,
        best.json and the plots. Without it nothing is written and the run cannot be resumed.
    executor : Executor, optional
        Overrides ``config.run.executor`` (and is not closed by the run).
    reporters : sequence of Reporter
        Told when each generation starts and ends (:class:`~.report.Reporter`).
    """
    config = config or EvolveConfig()
    if run_dir is None:
        return _run(fitness, config, _initial_state(config), None, executor, reporters)
    run_dir = Path(run_dir)
    with RunLock(run_dir):
        if list_checkpoints(run_dir / "checkpoints"):
            raise CheckpointError(f"Run directory {str(run_dir)!r} already holds checkpoints; "
                                  "use resume() to continue it or choose a new directory.")
        atomic_write(run_dir / "config.toml", config_to_toml(config).encode())
        return _run(fitness, config, _initial_state(config), run_dir, executor, reporters)


def resume(run_dir: str | Path, fitness: Fitness, *, config: EvolveConfig | None = None,
           generations: int | None = None, executor: Executor | None = None,
           checkpoint: str | Path | None = None, reporters: Sequence[Reporter] = ()) -> EvolveResult:
    """Continue a run from its newest (or the given) checkpoint.

    The result, logbook included, is identical to an uninterrupted run. The
    config is the run's ``config.toml`` unless given; it must hash equal to the
    one the checkpoint was written under (``generations``, executor and display
    options excepted). ``generations`` extends or shortens the horizon and is
    written back to ``config.toml``. A run directory whose run was killed
    before its first checkpoint (it holds ``config.toml`` and no checkpoint)
    starts again from generation 0. ``reporters`` are told about the
    generations run from the checkpoint on.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"No checkpoint in {str(run_dir)!r}: the directory does not exist. "
                              "Start a new run with evolve().")
    with RunLock(run_dir):
        if config is None:
            config = load_config(run_dir / "config.toml")
        if generations is not None:
            config = config.replace(run={"generations": generations})
        if checkpoint is None and not list_checkpoints(run_dir / "checkpoints") and (run_dir / "config.toml").exists():
            if config_hash(load_config(run_dir / "config.toml")) != config_hash(config):
                raise CheckpointError(f"Cannot resume {str(run_dir)!r} with another config: its config.toml "
                                      "differs in fields that change results.")
            state = _initial_state(config)
        else:
            path = Path(checkpoint) if checkpoint is not None else latest_checkpoint(run_dir / "checkpoints")
            state = _load(path, config)
        atomic_write(run_dir / "config.toml", config_to_toml(config).encode())  # the horizon may have changed
        return _run(fitness, config, state, run_dir, executor, reporters)

