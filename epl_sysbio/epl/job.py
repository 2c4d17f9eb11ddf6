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
    <out>/ablations.csv      lifetime tasks: the champion, its ablations and the reference policies
                             on held-out lifetimes (:mod:`.held_out`; also plots/learning_curves.png)

The run directory has one writer (:class:`~epl_sysbio.evolve.rundir.RunLock`:
a second run, ``--resume`` or ``--force`` on a live run is refused) and one
journal, ``generations.jsonl``, rewritten atomically after each generation:
generation ``g`` is committed when the journal holds its line. The generic
loop's checkpoint of ``g + 1`` is written just before, so a resume continues
from the checkpoint of the first generation the journal lacks (re-evaluating
it: evaluations are pure), and ``logbook.csv`` and ``summary.json`` are
derived from the journal. A kill at any moment therefore leaves a directory
that ``--resume`` continues to the logbook an uninterrupted run writes
(``tests/epl/test_kill_resume.py`` kills runs at random moments to prove it).

Training time (the paper's Fig. 3) is the best learner's learning steps to
the goal (feedback injections until the end of its first epoch scoring >=
``task.goal``); the reduction per generation is minus the slope of a
least-squares line through ``100 * steps(g) / steps(g0)`` over the
generations ``g >= g0`` whose best learner reached the goal, ``g0`` the first.
On lifetime tasks the training time is the learning speed (mean trials to
the criterion, :mod:`.ablations`), "reached" meaning in at least half of the
lifetimes; the logbook also holds the lowest and the mean learning speed of
each generation's learners.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from epl_sysbio.errors import CheckpointError, ConfigError, NativeCrashError, TimeLimitError
from epl_sysbio.evolve import Genome, evaluation_seed, evolve, genome_to_dict, make_executor, resume
from epl_sysbio.evolve.checkpoint import atomic_write, list_checkpoints
from epl_sysbio.evolve.genome import genomes_from_arrays, genomes_to_arrays
from epl_sysbio.evolve.report import ProgressReporter, write_logbook_csv
from epl_sysbio.evolve.rundir import LOCK_NAME, RunLock
from epl_sysbio.isolation import run_isolated

from .config import EplJobConfig, job_config_hash, job_config_to_toml, load_job_config
from .fitness import LearnerReport
from .learner import LEARNER_STATUSES
from .lifetime_tasks import LIFETIME_TASKS
from .substrate import evaluate_genome

__all__ = ["JobResult", "run_job", "prepare_run_dir", "summarise", "epl_fitness", "RUN_FILES"]

#: What a run directory holds; ``force`` removes exactly these before a new run.
RUN_FILES = ("config.toml", "logbook.csv", "summary.json", "generations.jsonl", "neat", "plots", "best",
             "ablations.csv")


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


def _take_reports(reports: Path, seed: int, population: int,
                  fitness: float) -> tuple[LearnerReport, dict[str, int], list[float]]:
    """The best's report from the side channel, the generation's learner statuses and the learning speeds
    of its learners that ran (lifetime tasks); the reports are then removed.

    An evaluation that was lost (its worker killed at the time limit, or dying) wrote no report: it counts
    as ``lost``, and if it is the best (every evaluation lost), its report says so."""
    path = reports / f"{seed}.json"
    if path.exists():
        best = LearnerReport.from_dict(json.loads(path.read_text()))
    else:
        best = LearnerReport(fitness=fitness, performance=0.0, epoch_scores=(), eval_scores=(), steps_to_goal=None,
                             learning_steps=0, size=0, status="lost",
                             message="the evaluation was lost (see neat/faults.csv)")
    statuses: dict[str, int] = {}
    speeds: list[float] = []
    for path in sorted(reports.glob("*.json")):
        report = json.loads(path.read_text())
        statuses[report["status"]] = statuses.get(report["status"], 0) + 1
        if report.get("learning_speed") is not None:
            speeds.append(report["learning_speed"])
        path.unlink()
    if sum(statuses.values()) < population:
        statuses["lost"] = population - sum(statuses.values())
    return best, dict(sorted(statuses.items())), speeds


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
    :func:`job_config_hash`). Call it holding the directory's
    :class:`~epl_sysbio.evolve.rundir.RunLock` (:func:`run_job` does).
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
        "learning_speed_reduction_pct_per_gen": reduction if config.task.name in LIFETIME_TASKS else None,
        "training_time_final_pct": rel[-1] if rel else None,
        "alignment_mean": float(np.mean(alignments)) if alignments else None,
        "seed": config.run.seed,
    }


def _record(gen: int, population: list[Genome], species: int, evaluations: int, wall_s: float,
            report: LearnerReport, seed: int, alignment: float | None, statuses: dict[str, int],
            speeds: list[float] = ()) -> dict[str, Any]:
    """One logbook row; ``best_`` and ``mean_learning_speed`` (lifetime tasks: trials to criterion) are the
    lowest and the mean over the generation's learners that ran."""
    fit = np.array([g.fitness.values[0] for g in population])
    return {
        "gen": gen, "best_fitness": float(fit.max()), "mean_fitness": float(fit.mean()),
        "std_fitness": float(fit.std()), "species": species, "evaluations": evaluations, "wall_s": wall_s,
        "best_performance": report.performance, "best_steps_to_goal": report.steps_to_goal,
        "best_size": report.size, "best_status": report.status, "best_alignment": alignment,
        "best_seed": seed, **{status: statuses.get(status, 0) for status in LEARNER_STATUSES},
        "stopped": sum(n for k, n in statuses.items() if k not in ("ok", "too_small")),
        "best_learning_speed": float(min(speeds)) if len(speeds) else None,
        "mean_learning_speed": float(np.mean(speeds)) if len(speeds) else None,
    }


# ---------------------------------------------------------------------------------- the job

def _load_journal(out: Path) -> tuple[list[str], list[dict], list[Genome]]:
    """The committed generations: the lines of generations.jsonl, their records and best genomes.

    A torn last line (a journal appended by older versions, killed mid-write) is dropped and the
    file rewritten without it; a damaged line before the last is refused."""
    path = out / "generations.jsonl"
    raw = [line for line in (path.read_bytes().decode("utf-8", "replace") if path.exists() else "").split("\n")
           if line.strip()]
    lines, records, bests = [], [], []
    for i, line in enumerate(raw):
        try:
            entry = json.loads(line)
            record = entry["record"]
            for key in ("best_learning_speed", "mean_learning_speed"):  # rows written before these columns
                record.setdefault(key, None)
            genome = genomes_from_arrays({k: np.asarray(v) for k, v in entry["genome_arrays"].items()})[0]
            if record["gen"] != len(records):
                raise ValueError(f"generation {record['gen']!r} where {len(records)} belongs")
        except (ValueError, KeyError, TypeError, IndexError, CheckpointError) as exc:
            if i == len(raw) - 1:
                break  # the torn tail of an interrupted append: that generation is re-done
            raise CheckpointError(f"{str(path)!r}: line {i + 1} is damaged ({exc}); the run cannot be resumed "
                                  "past it. Start a new run, or repair the file.") from None
        lines.append(line)
        records.append(record)
        bests.append(genome)
    if len(lines) != len(raw):
        atomic_write(path, "".join(line + "\n" for line in lines).encode())
    return lines, records, bests


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
    """Run (or resume) the main job into ``out``, holding its lock; see the module docstring for what it writes.

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
    out = Path(out)
    started_before = (out / LOCK_NAME).exists()  # a run started here (and perhaps was killed)
    with RunLock(out):
        if resume_run and started_before and not any((out / name).exists() for name in RUN_FILES):
            resume_run = False  # killed before it wrote its config: nothing to continue, so start it
        out = prepare_run_dir(out, config, force=force, resume_run=resume_run)
        return _run_job(config, out, resume_run, executor)


def _resume_point(out: Path, resume_run: bool) -> tuple[list[str], list[dict], list[Genome]]:
    """The journal to continue from, with the inner loop's files made to match it."""
    if not resume_run or not (out / "config.toml").exists():
        return [], [], []
    lines, records, bests = _load_journal(out)
    checkpoints = out / "neat" / "checkpoints"
    if not records:  # nothing committed: the loop starts again from generation 0
        shutil.rmtree(out / "neat", ignore_errors=True)
    elif not (checkpoints / f"gen-{len(records):06d}.json").exists():
        raise CheckpointError(f"Cannot resume {str(out)!r}: generations.jsonl holds {len(records)} generations but "
                              f"{str(checkpoints / f'gen-{len(records):06d}.json')!r} is missing (were checkpoints "
                              "deleted, or keep_checkpoints = 1?). Start a new run.")
    write_logbook_csv(out / "logbook.csv", records)
    return lines, records, bests


def _guarded(config: EplJobConfig, label: str, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` in a forked child with twice ``config``'s time limit; None if it hangs or crashes.

    The champion's alignment and export run libRoadRunner in this process (its equilibrium layer, the
    re-check), where NLEQ2 can loop for ever or a model crash the job; the workers' supervision does
    not reach here. A hang or a crash costs the number, not the run: it is said on stderr.
    """
    budget = 2.0 * config.run.time_limit if config.run.time_limit > 0 else math.inf
    try:
        return run_isolated(fn, *args, timeout=budget, label=label, **kwargs)
    except (TimeLimitError, NativeCrashError) as exc:
        print(f"epl-sysbio evolve: {exc} Left out; the run goes on.", file=sys.stderr, flush=True)
        return None


def _run_job(config: EplJobConfig, out: Path, resume_run: bool, executor) -> JobResult:
    from .alignment import best_learner_alignment
    from .held_out import load_champion, write_lifetime_report
    from .plots import write_plots
    from .substrate import export_champion

    if config.run.keep_checkpoints == 1:  # the journal lags the newest checkpoint by one generation
        raise ConfigError("[run] keep_checkpoints must be 0 (all) or >= 2 for the main job: a resume may need the "
                          "checkpoint before the newest. Got 1 instead.")
    lines, records, bests = _resume_point(out, resume_run)
    ecfg = config.evolve_config
    reports = out / "neat" / "reports"
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
            shutil.rmtree(reports, ignore_errors=True)  # leftovers of an interrupted attempt at this generation
            reports.mkdir(parents=True)
            horizon = ecfg.replace(run={"generations": gen + 1, "progress": False, "plots": False})
            if gen == 0:
                result = evolve(fitness, horizon, run_dir=out / "neat", executor=ticking)
            else:
                result = resume(out / "neat", fitness, config=horizon, executor=ticking,
                                checkpoint=out / "neat" / "checkpoints" / f"gen-{gen:06d}.json")
            evaluated_s = time.perf_counter() - t0
            population = result.population
            index = int(np.argmax([g.fitness.values[0] for g in population]))
            champion = population[index]
            seed = evaluation_seed(config.run.seed, gen, index)
            report, statuses, speeds = _take_reports(reports, seed, len(population), champion.fitness.values[0])
            alignment = _guarded(config, "the champion's alignment", best_learner_alignment, champion, seed, config)
            record = _record(gen, population, result.logbook[-1]["species"], result.evaluations,
                             evaluated_s, report, seed, alignment, statuses, speeds)
            records.append(record)
            bests.append(champion.copy())
            lines.append(json.dumps({"record": record, "report": report.to_dict(),
                                     "genome": genome_to_dict(champion), "genome_arrays": _genome_arrays(champion)}))
            atomic_write(out / "generations.jsonl", "".join(line + "\n" for line in lines).encode())  # the commit
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
        entry = json.loads(lines[best_gen])
        _guarded(config, "the champion's export", export_champion, bests[best_gen], records[best_gen]["best_seed"],
                 config, out / "best", report=LearnerReport.from_dict(entry["report"]))
        learner_file = out / "best" / "learner.json"
        if learner_file.exists():
            summary["champion_recheck"] = json.loads(learner_file.read_text())["recheck"]
    if config.run.plots:
        write_plots(out, config, records, bests)
    if best_gen is not None and config.task.name in LIFETIME_TASKS:  # held-out lifetimes, ablations, references
        atomic_write(out / "summary.json", json.dumps(summary, indent=1).encode())
        pool = make_executor(config.run) if own else executor
        try:
            summary.update(write_lifetime_report(load_champion(out), executor=pool))
        finally:
            if own:
                pool.close()
    atomic_write(out / "summary.json", json.dumps(summary, indent=1).encode())
    return JobResult(out, summary, records)
