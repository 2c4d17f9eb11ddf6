"""The main job: HyperNEAT over EPL learners, with a run directory that tells the whole story.

:func:`run_job` checks everything before any compute (config, task, run
directory writable, not overwriting a previous run without ``force``, a
resume only under the same config), then steps the generic generation loop
(:mod:`epl_sysbio.evolve.loop`) one generation at a time through its
checkpoints, records each generation's best learner's details (workers write
every evaluation's report to ``neat/reports/<seed>.json``; the best's is kept
in generations.jsonl) and its Eq. 4 alignment, and writes::

    <out>/config.toml        the exact job config (all six sections)
    <out>/logbook.csv        a row per generation: gen, best_fitness, mean_fitness, species,
                             evaluations, wall_s, and the best learner's details
    <out>/summary.json       headline figures (see :func:`summarise`)
    <out>/generations.jsonl  per generation: the best genome and its learner report
    <out>/neat/              the generation loop's own files: checkpoints/, faults.csv, best.json
    <out>/plots/             fitness.png, training_time.png, network_gen<g>.png, trace.png
    <out>/best/              the champion as model.xml (SBML), model.ant, model.omex, genome.json

Training time (the paper's Fig. 3) is the best learner's learning steps to
the goal (feedback injections until the end of its first epoch scoring >=
``task.goal``); the reduction per generation is minus the slope of a
least-squares line through ``100 * steps(g) / steps(g0)`` over the
generations ``g >= g0`` whose best learner reached the goal, ``g0`` the first.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from epl_sysbio.errors import CheckpointError, ConfigError
from epl_sysbio.evolve import Genome, evaluation_seed, evolve, genome_to_dict, make_executor, resume
from epl_sysbio.evolve.checkpoint import atomic_write, list_checkpoints
from epl_sysbio.evolve.genome import genomes_from_arrays, genomes_to_arrays
from epl_sysbio.evolve.report import ProgressReporter, write_logbook_csv

from .config import EplJobConfig, job_config_hash, job_config_to_toml, load_job_config
from .fitness import LearnerReport
from .learner import LEARNER_STATUSES
from .substrate import evaluate_genome

__all__ = ["JobResult", "run_job", "prepare_run_dir", "summarise", "epl_fitness", "RUN_FILES"]

#: What a run directory holds; ``force`` removes exactly these before a new run.
RUN_FILES = ("config.toml", "logbook.csv", "summary.json", "generations.jsonl", "neat", "plots", "best")


def epl_fitness(genome: Genome, seed: int, config: EplJobConfig, reports: Path | None = None) -> float:
    """The generation loop's fitness: :func:`evaluate_genome`'s (picklable through ``partial``).

    With ``reports``, the full report is also written to ``reports/<seed>.json``
    (atomically; a retried evaluation writes the same text), so that the main
    process learns the details of a generation's best without re-evaluating it.
    """
    report = evaluate_genome(genome, seed, config)
    if reports is not None:
        atomic_write(Path(reports) / f"{seed}.json", json.dumps(report.to_dict()).encode())
    return report.fitness


def _take_reports(reports: Path, seed: int) -> tuple[LearnerReport, dict[str, int]]:
    """The best's report from the side channel and the generation's learner statuses (reports then removed)."""
    best = LearnerReport.from_dict(json.loads((reports / f"{seed}.json").read_text()))
    statuses: dict[str, int] = {}
    for path in sorted(reports.glob("*.json")):
        status = json.loads(path.read_text())["status"]
        statuses[status] = statuses.get(status, 0) + 1
        path.unlink()
    return best, dict(sorted(statuses.items()))


@dataclass
class JobResult:
    """What :func:`run_job` returns: the run directory and the summary it wrote."""

    run_dir: Path
    summary: dict[str, Any]
    records: list[dict[str, Any]]


def prepare_run_dir(out: str | Path, config: EplJobConfig, *, force: bool = False, resume_run: bool = False) -> Path:
    """Check the run directory before any compute; write the config unless resuming.

    Refuses: an unwritable directory; an existing run without ``force`` or
    ``resume_run``; a resume whose directory holds another config (by
    :func:`job_config_hash`) or no checkpoint.
    """
    out = Path(out)
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if resume_run:
        if not (out / "config.toml").exists():
            raise CheckpointError(f"Cannot resume {str(out)!r}: it holds no config.toml (not a run directory). "
                                  "Start a new run without --resume.")
        previous = load_job_config(out / "config.toml")
        if job_config_hash(previous) != job_config_hash(config):
            raise CheckpointError(
                f"Cannot resume {str(out)!r} with another config: its config.toml differs in fields that change "
                "results. Resume with that config (omit CONFIG and --preset), or start a new run directory.")
        if not list_checkpoints(out / "neat" / "checkpoints"):
            raise CheckpointError(f"Cannot resume {str(out)!r}: no checkpoint in {str(out / 'neat' / 'checkpoints')!r}.")
    elif existing and not force:
        raise ConfigError(f"Run directory {str(out)!r} already holds a run ({', '.join(existing)}); it is never "
                          "overwritten: pass --force to replace it, --resume to continue it, or choose another --out.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"Run directory {str(out)!r} is not writable ({exc.strerror or exc}); choose another --out.") \
            from None
    if not resume_run:
        for name in existing:
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    atomic_write(out / "config.toml", job_config_to_toml(config).encode())
    return out


# ---------------------------------------------------------------------------------- figures

def _slope(x: list[float], y: list[float]) -> float:
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    return float(np.polyfit(xa, ya, 1)[0])


def training_time_curve(records: list[dict]) -> tuple[list[int], list[float]]:
    """Generations from the first whose best learner reached the goal, and its training time relative to that one (%)."""
    goal = [r for r in records if r["best_steps_to_goal"] is not None]
    if not goal:
        return [], []
    ref = goal[0]["best_steps_to_goal"]
    return [r["gen"] for r in goal], [100.0 * r["best_steps_to_goal"] / ref for r in goal]


def summarise(config: EplJobConfig, records: list[dict], wall_s: float) -> dict[str, Any]:
    """The headline figures of a run (what summary.json holds)."""
    best = max(records, key=lambda r: r["best_fitness"]) if records else None
    gens, rel = training_time_curve(records)
    reduction = -_slope(gens, rel) if len(gens) >= 2 else None
    first99 = next((r["gen"] for r in records if r["best_fitness"] >= 99.0), None)
    evaluations = records[-1]["evaluations"] if records else 0
    alignments = [r["best_alignment"] for r in records if r.get("best_alignment") is not None]
    return {
        "task": config.task.name,
        "population": config.neat.population_size,
        "generations": len(records),
        "generations_planned": config.run.generations,
        "epochs": config.task.epochs,
        "evaluations": evaluations,
        "backend": config.learner.backend,
        "wall_s": wall_s,
        "generation_wall_s": [r["wall_s"] for r in records],
        "wall_s_per_evaluation": wall_s / evaluations if evaluations else None,
        "best_fitness": best["best_fitness"] if best else None,
        "best_generation": best["gen"] if best else None,
        "best_performance": best["best_performance"] if best else None,
        "first_gen_best_at_least_99": first99,
        "first_gen_goal_reached": gens[0] if gens else None,
        "best_fitness_final": records[-1]["best_fitness"] if records else None,
        "mean_fitness_final": records[-1]["mean_fitness"] if records else None,
        "training_time_reduction_pct_per_gen": reduction,
        "training_time_final_pct": rel[-1] if rel else None,
        "alignment_mean": float(np.mean(alignments)) if alignments else None,
        "seed": config.run.seed,
    }


def _record(gen: int, population: list[Genome], species: int, evaluations: int, wall_s: float,
            report: LearnerReport, seed: int, alignment: float | None, statuses: dict[str, int]) -> dict[str, Any]:
    fit = np.array([g.fitness.values[0] for g in population])
    return {
        "gen": gen, "best_fitness": float(fit.max()), "mean_fitness": float(fit.mean()),
        "std_fitness": float(fit.std()), "species": species, "evaluations": evaluations, "wall_s": wall_s,
        "best_performance": report.performance, "best_steps_to_goal": report.steps_to_goal,
        "best_size": report.size, "best_status": report.status, "best_alignment": alignment,
        "best_seed": seed, **{status: statuses.get(status, 0) for status in LEARNER_STATUSES},
        "stopped": sum(n for k, n in statuses.items() if k not in ("ok", "too_small")),
    }


# ---------------------------------------------------------------------------------- the job

def _load_history(out: Path, generations: int) -> tuple[list[dict], list[Genome]]:
    """The first ``generations`` entries of generations.jsonl (later ones are re-done), rewritten to match."""
    path = out / "generations.jsonl"
    lines = path.read_text().splitlines()[:generations] if path.exists() else []
    atomic_write(path, "".join(line + "\n" for line in lines).encode())
    records, bests = [], []
    for line in lines:
        entry = json.loads(line)
        records.append(entry["record"])
        bests.extend(genomes_from_arrays({k: np.asarray(v) for k, v in entry["genome_arrays"].items()}))
    return records, bests


def _genome_arrays(genome: Genome) -> dict[str, list]:
    return {k: v.tolist() for k, v in genomes_to_arrays([genome]).items()}


def _prepare_kernel(*, enabled: bool) -> None:
    """Compile (a machine's first run) or load the compiled kernel here, before any worker starts: spawned
    workers then load it from numba's disk cache instead of each compiling it at the same time."""
    from epl_sysbio.dynamics.native import jit_warmup

    if enabled:
        print("preparing the compiled EPL kernel (a machine's first run compiles it, about a minute)",
              file=sys.stderr, flush=True)
    seconds = jit_warmup()
    if enabled:
        print(f"kernel ready in {seconds:.1f} s", file=sys.stderr, flush=True)


def run_job(config: EplJobConfig, out: str | Path, *, force: bool = False, resume_run: bool = False,
            executor=None) -> JobResult:
    """Run (or resume) the main job into ``out``; see the module docstring for what it writes.

    Parameters
    ----------
    config : EplJobConfig
    out : path
        Run directory.
    force : bool
        Replace an existing run in ``out`` (only the files of :data:`RUN_FILES`).
    resume_run : bool
        Continue the run in ``out`` from its newest checkpoint (same config, up to ``run.generations``).
    executor : Executor, optional
        Overrides ``config.run.executor``.
    """
    from .alignment import best_learner_alignment
    from .plots import write_plots
    from .substrate import export_champion

    out = prepare_run_dir(out, config, force=force, resume_run=resume_run)
    records, bests = [], []
    if resume_run:  # the newest checkpoint holds generation `done`, not yet evaluated
        done = max(int(p.name[4:10]) for p in list_checkpoints(out / "neat" / "checkpoints"))
        records, bests = _load_history(out, done)
    ecfg = config.evolve_config
    reports = out / "neat" / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    fitness = partial(epl_fitness, config=config, reports=reports)
    own = executor is None
    if config.learner.backend == "native":
        _prepare_kernel(enabled=config.run.progress)
    executor = executor or make_executor(config.run)
    progress = ProgressReporter(config.run.generations, len(records), enabled=config.run.progress)
    ticking = progress.wrap(executor)  # the loop's evaluations tick the progress bar one by one
    wall0 = time.perf_counter() - sum(r["wall_s"] for r in records)
    try:
        for gen in range(len(records), config.run.generations):
            t0 = time.perf_counter()
            horizon = ecfg.replace(run={"generations": gen + 1, "progress": False, "plots": False})
            if gen == 0:
                result = evolve(fitness, horizon, run_dir=out / "neat", executor=ticking)
            else:
                result = resume(out / "neat", fitness, config=horizon, executor=ticking)
            evaluated_s = time.perf_counter() - t0
            population = result.population
            index = int(np.argmax([g.fitness.values[0] for g in population]))
            champion = population[index]
            seed = evaluation_seed(config.run.seed, gen, index)
            report, statuses = _take_reports(reports, seed)
            alignment = best_learner_alignment(champion, seed, config)
            record = _record(gen, population, result.logbook[-1]["species"], result.evaluations,
                             evaluated_s, report, seed, alignment, statuses)
            records.append(record)
            bests.append(champion.copy())
            with (out / "generations.jsonl").open("a") as f:
                f.write(json.dumps({"record": record, "report": report.to_dict(),
                                    "genome": genome_to_dict(champion),
                                    "genome_arrays": _genome_arrays(champion)}) + "\n")
            write_logbook_csv(out / "logbook.csv", records)
            summary = summarise(config, records, time.perf_counter() - wall0)
            atomic_write(out / "summary.json", json.dumps(summary, indent=1).encode())
            progress.update(gen, record["best_fitness"], record["mean_fitness"], record["species"],
                            len(population))
    finally:
        progress.close()
        if own:
            executor.close()
    summary = summarise(config, records, time.perf_counter() - wall0)
    best_gen = summary["best_generation"]
    if best_gen is not None:
        entry = json.loads((out / "generations.jsonl").read_text().splitlines()[best_gen])
        export_champion(bests[best_gen], records[best_gen]["best_seed"], config, out / "best",
                        report=LearnerReport.from_dict(entry["report"]))
        learner_file = out / "best" / "learner.json"
        if learner_file.exists():
            summary["champion_recheck"] = json.loads(learner_file.read_text())["recheck"]
    if config.run.plots:
        write_plots(out, config, records, bests)
    atomic_write(out / "summary.json", json.dumps(summary, indent=1).encode())
    return JobResult(out, summary, records)
