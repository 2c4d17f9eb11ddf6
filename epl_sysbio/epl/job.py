"""The main job: HyperNEAT over EPL learners, with a run directory that tells the whole story.

:func:`run_job` checks everything before any compute (config, task, run
directory writable, not overwriting a previous run without ``force``, a
resume only under the same config), then runs the generic generation loop
(:mod:`epl_sysbio.evolve.loop`) once, with :func:`epl_fitness` as its fitness
(each evaluation hands back its report, network, learned state and first
output traces as the loop's ``info``) and the job as its reporter
(:class:`~epl_sysbio.evolve.report.Reporter`: per generation, the champion's
Eq. 4 alignment and its line in ``generations.jsonl``). It writes::

    <out>/config.toml        the exact job config (all six sections)
    <out>/logbook.csv        a row per generation: gen, best_fitness, mean_fitness, species,
                             evaluations, wall_s, and the best learner's details
    <out>/summary.json       headline figures (:func:`~.summary.summarise`)
    <out>/generations.jsonl  per generation: the best genome, its learner report, network and learned state
    <out>/neat/              the generation loop's own files: checkpoints/, faults.csv, best.json
    <out>/plots/             fitness.png, training_time.png, network_gen<g>.png, trace.png
    <out>/best/              the champion as model.xml (SBML), model.ant, model.omex, genome.json,
                             learner.json (report, learned state, libRoadRunner re-check), trace.npz
    <out>/ablations.csv      lifetime tasks: the champion, its ablations and the reference policies
                             on held-out lifetimes (:mod:`.held_out`; also plots/learning_curves.png)

Export and plots read what the evaluations recorded; nothing is re-evaluated.

The run directory has one writer (:class:`~epl_sysbio.evolve.rundir.RunLock`:
a second run, ``--resume`` or ``--force`` on a live run is refused) and one
journal, ``generations.jsonl``, rewritten atomically after each generation:
generation ``g`` is committed when the journal holds its line. The loop tells
its reporters before it writes the checkpoint that follows, so the journal is
never behind the newest checkpoint; a resume continues from that checkpoint,
repeating (evaluations are pure) and re-journalling the generations after it,
and ``logbook.csv`` and ``summary.json`` are derived from the journal. A kill
at any moment therefore leaves a directory that ``--resume`` continues to the
logbook an uninterrupted run writes (``tests/epl/test_kill_resume.py`` kills
runs at random moments to prove it).

The logbook's training time is that of :mod:`.summary`; on lifetime tasks it
also holds the lowest and the mean learning speed of each generation's learners.
"""

from __future__ import annotations

import io
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
from epl_sysbio.evolve import Evaluation, Genome, evolve, genome_to_dict, make_executor, resume
from epl_sysbio.evolve.checkpoint import atomic_write, list_checkpoints
from epl_sysbio.evolve.genome import genomes_from_arrays, genomes_to_arrays
from epl_sysbio.evolve.report import GenerationReport, Reporter, write_logbook_csv
from epl_sysbio.evolve.rundir import LOCK_NAME, RunLock
from epl_sysbio.isolation import run_isolated

from .config import EplJobConfig, job_config_hash, job_config_to_toml, load_job_config
from .fitness import LearnerReport
from .learner import LEARNER_STATUSES
from .lifetime_tasks import LIFETIME_TASKS
from .plots import write_plots
from .substrate import evaluate_genome_fully, network_from_info
from .summary import summarise

__all__ = ["JobResult", "run_job", "prepare_run_dir", "summarise", "epl_fitness", "RUN_FILES"]

#: What a run directory holds; ``force`` removes exactly these before a new run.
RUN_FILES = ("config.toml", "logbook.csv", "summary.json", "generations.jsonl", "neat", "plots", "best",
             "ablations.csv")


def epl_fitness(genome: Genome, seed: int, config: EplJobConfig) -> Evaluation:
    """The generation loop's fitness (picklable through ``partial``): :func:`evaluate_genome_fully`'s fitness,
    with the rest of the evaluation (report, network, learned state, first traces) as the loop's ``info``."""
    evaluation = evaluate_genome_fully(genome, seed, config)
    return Evaluation(evaluation.report.fitness, info=evaluation.to_info())


def _lost(fitness: float, reason: str) -> dict:
    """The info of an evaluation that returned none (its worker lost, or it raised: see neat/faults.csv)."""
    report = LearnerReport(fitness=fitness, performance=0.0, epoch_scores=(), eval_scores=(), steps_to_goal=None,
                           learning_steps=0, size=0, status="lost",
                           message=f"the evaluation was lost ({reason or 'no report'}; see neat/faults.csv)")
    return {"report": report.to_dict(), "network": None, "learned_state": None, "traces": []}


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


def _record(generation: GenerationReport, infos: list[dict], alignment: float | None) -> dict[str, Any]:
    """One logbook row from the generation and its evaluations' infos (lost ones as :func:`_lost` gives).
    ``best_learning_speed`` and ``mean_learning_speed`` (lifetime tasks: trials to criterion) are the lowest
    and the mean over the generation's learners that ran."""
    fit = np.array([g.fitness.values[0] for g in generation.population])
    statuses: dict[str, int] = {}
    speeds = []
    for info in infos:
        report = info["report"]
        statuses[report["status"]] = statuses.get(report["status"], 0) + 1
        if report.get("learning_speed") is not None:
            speeds.append(report["learning_speed"])
    report = infos[generation.best_index]["report"]
    return {
        "gen": generation.generation, "best_fitness": float(fit.max()), "mean_fitness": float(fit.mean()),
        "std_fitness": float(fit.std()), "species": len(generation.species), "evaluations": generation.evaluations,
        "wall_s": generation.seconds, "best_performance": report["performance"],
        "best_steps_to_goal": report["steps_to_goal"], "best_size": report["size"], "best_status": report["status"],
        "best_alignment": alignment, "best_seed": generation.seeds[generation.best_index],
        **{status: statuses.get(status, 0) for status in LEARNER_STATUSES},
        "stopped": sum(n for k, n in statuses.items() if k not in ("ok", "too_small")),
        "best_learning_speed": float(min(speeds)) if speeds else None,
        "mean_learning_speed": float(np.mean(speeds)) if speeds else None,
    }


# ---------------------------------------------------------------------------------- the job

def _load_journal(out: Path) -> tuple[list[str], list[dict]]:
    """The committed generations: the lines of generations.jsonl and their records.

    A torn last line (a journal appended by older versions, killed mid-write) is dropped and the
    file rewritten without it; a damaged line before the last is refused."""
    path = out / "generations.jsonl"
    raw = [line for line in (path.read_bytes().decode("utf-8", "replace") if path.exists() else "").split("\n")
           if line.strip()]
    lines, records = [], []
    for i, line in enumerate(raw):
        try:
            entry = json.loads(line)
            record = entry["record"]
            for key in ("best_learning_speed", "mean_learning_speed"):  # rows written before these columns
                record.setdefault(key, None)
            _genome_of(entry)
            if record["gen"] != len(records):
                raise ValueError(f"generation {record['gen']!r} where {len(records)} belongs")
        except (ValueError, KeyError, TypeError, IndexError, CheckpointError) as exc:
            if i == len(raw) - 1:
                break  # the torn tail of an interrupted append: that generation is re-done
            raise CheckpointError(f"{str(path)!r}: line {i + 1} is damaged ({exc}); the run cannot be resumed "
                                  "past it. Start a new run, or repair the file.") from None
        lines.append(line)
        records.append(record)
    if len(lines) != len(raw):
        atomic_write(path, "".join(line + "\n" for line in lines).encode())
    return lines, records


def _genome_of(entry: dict) -> Genome:
    return genomes_from_arrays({k: np.asarray(v) for k, v in entry["genome_arrays"].items()})[0]


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


class _JobReporter(Reporter):
    """The main job as the generation loop's reporter: after each generation, the champion's alignment, the
    journal line (the commit), ``logbook.csv``, ``summary.json`` and, when the champion is the best so far,
    its output traces (``best/trace.npz``).

    A resume repeats the generations after the loop's checkpoint: :meth:`start_generation` drops the journal
    lines of those generations, which :meth:`end_generation` then writes again (evaluations are pure).
    """

    def __init__(self, config: EplJobConfig, out: Path, lines: list[str], records: list[dict]) -> None:
        self.config, self.out, self.lines, self.records = config, out, lines, records
        self.wall0 = time.perf_counter() - sum(r["wall_s"] for r in records)

    def start_generation(self, generation: int) -> None:
        if generation > len(self.records):
            raise CheckpointError(
                f"Cannot resume {str(self.out)!r}: the loop continues from generation {generation} but "
                f"generations.jsonl holds only {len(self.records)}. Start a new run.")
        del self.lines[generation:], self.records[generation:]

    def end_generation(self, generation: GenerationReport) -> None:
        config, out = self.config, self.out
        index = generation.best_index
        champion = generation.population[index]
        infos = [info or _lost(genome.fitness.values[0], fault)
                 for info, genome, fault in zip(generation.infos, generation.population, generation.faults)]
        info = infos[index]
        alignment = None if info["network"] is None else _guarded(
            config, "the champion's alignment", _alignment, info["network"], generation.seeds[index], config)
        record = _record(generation, infos, alignment)
        best_so_far = all(record["best_fitness"] > r["best_fitness"] for r in self.records)
        self.records.append(record)
        self.lines.append(json.dumps({"record": record, "report": info["report"], "network": info["network"],
                                      "learned_state": info["learned_state"], "genome": genome_to_dict(champion),
                                      "genome_arrays": _genome_arrays(champion)}))
        if best_so_far:
            (out / "best").mkdir(exist_ok=True)
            buffer = io.BytesIO()
            np.savez(buffer, *info["traces"])
            atomic_write(out / "best" / "trace.npz", buffer.getvalue())
        atomic_write(out / "generations.jsonl", "".join(line + "\n" for line in self.lines).encode())  # the commit
        write_logbook_csv(out / "logbook.csv", self.records)
        atomic_write(out / "summary.json", json.dumps(self.summary(), indent=1).encode())

    def summary(self) -> dict[str, Any]:
        return summarise(self.config, self.records, time.perf_counter() - self.wall0)


def _covered_checkpoint(out: Path, journalled: int) -> Path | None:
    """The newest checkpoint of a generation the journal reaches (a journal cut short by hand resumes from an
    older checkpoint while one is kept); None for the loop's own choice."""
    covered = [p for p in list_checkpoints(out / "neat" / "checkpoints") if int(p.name[4:10]) <= journalled]
    return covered[-1] if covered else None


def _alignment(network: dict, seed: int, config: EplJobConfig) -> float | None:
    """Eq. 4 of the champion's network as its evaluation recorded it (no rebuild from the genome)."""
    from . import alignment  # looked up at the call: tests replace it

    return alignment.network_alignment(network_from_info(network), seed, config)


def _run_job(config: EplJobConfig, out: Path, resume_run: bool, executor) -> JobResult:
    from . import substrate  # looked up at the call: tests replace export_champion
    from .held_out import load_champion, write_lifetime_report

    lines, records = _load_journal(out) if resume_run else ([], [])
    write_logbook_csv(out / "logbook.csv", records)
    journal = _JobReporter(config, out, lines, records)
    ecfg = config.evolve_config.replace(run={"plots": False})  # the job draws its own
    fitness = partial(epl_fitness, config=config)
    own = executor is None
    if config.learner.backend == "native":
        _prepare_kernel(enabled=config.run.progress)
    executor = executor or make_executor(config.run)
    try:
        if resume_run and (out / "neat" / "config.toml").exists():
            resume(out / "neat", fitness, config=ecfg, executor=executor, reporters=[journal],
                   checkpoint=_covered_checkpoint(out, len(records)))
        else:  # a new run, or one killed before the loop wrote anything
            shutil.rmtree(out / "neat", ignore_errors=True)
            evolve(fitness, ecfg, run_dir=out / "neat", executor=executor, reporters=[journal])
    finally:
        if own:
            executor.close()
    summary = journal.summary()
    best_gen = summary["best_generation"]
    if best_gen is not None:
        entry = json.loads(lines[best_gen])
        _guarded(config, "the champion's export", substrate.export_champion, _genome_of(entry), entry,
                 records[best_gen]["best_seed"], config, out / "best")
        learner_file = out / "best" / "learner.json"
        if learner_file.exists():
            summary["champion_recheck"] = json.loads(learner_file.read_text())["recheck"]
    if config.run.plots:
        write_plots(out / "plots", config, records, summary, [json.loads(line)["network"] for line in lines],
                    out / "best" / "trace.npz")
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
