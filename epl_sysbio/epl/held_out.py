"""A run's champion on held-out lifetimes: its score, its ablations, the reference policies, its learning curves.

Held-out lifetimes have seeds ``derive_seed(seed, 2, i)`` (any ``seed`` a user
picks; 0 by default) from which every seed the run used during evolution is
dropped (:func:`used_seeds`: the lifetime seeds of every evaluation of every
generation; the evaluation seeds themselves for the tasks without lifetimes).
Lifetimes are split into chunks evaluated by the run's executor; each chunk
compiles the champion's network once.

Written into a run directory of a lifetime task (:func:`write_lifetime_report`,
called at the end of ``epl-sysbio evolve``)::

    ablations.csv               a row per agent (the champion, its ablations, the reference
                                policies): lifetimes, mean_score, sem, learning_speed,
                                reached_fraction, stopped
    plots/learning_curves.png   score by trial index, champion vs ablations vs references

The report also measures :func:`~.ablations.order_dependence` of the
champion on the feedback of its first held-out lifetime (the first 40
injections): which of DESIGN.md section 9's two routes it learns by.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epl_sysbio.errors import ConfigError, EplSysbioError, InvalidValueError, check_parameter
from epl_sysbio.evolve import Genome, SerialExecutor
from epl_sysbio.seeds import derive_seed
from epl_sysbio.evolve.checkpoint import atomic_write
from epl_sysbio.evolve.genome import genomes_from_arrays

from .ablations import ABLATIONS, LifetimeEvaluation, donor_sequences, held_out_seeds, learner_lifetimes, \
    lifetime_seeds, order_dependence
from .config import EplJobConfig, load_job_config
from .lifetime_tasks import LifetimeTask
from .references import REFERENCE_POLICIES, reference_lifetimes

__all__ = ["Champion", "load_champion", "used_seeds", "evaluate_champion", "write_lifetime_report",
           "plot_learning_curves", "DEFAULT_HELD_OUT_SEED"]

DEFAULT_HELD_OUT_SEED = 0
#: Lifetimes per chunk handed to one worker (one compile each).
CHUNK = 50


@dataclass(frozen=True)
class Champion:
    """A run's best genome, the config it was evolved under, and where it came from."""

    run_dir: Path
    config: EplJobConfig
    genome: Genome
    generation: int
    generations: int


def load_champion(run_dir: str | Path) -> Champion:
    """The best genome of a run directory (``summary.json``'s best generation, from ``generations.jsonl``)."""
    run_dir = Path(run_dir)
    missing = sorted(name for name in ("config.toml", "summary.json", "generations.jsonl")
                     if not (run_dir / name).exists())
    if missing:
        raise ConfigError(f"{str(run_dir)!r} is not a finished run directory: {', '.join(missing)} missing. "
                          "Pass the --out directory of an `epl-sysbio evolve` run.")
    config = load_job_config(run_dir / "config.toml")
    summary = json.loads((run_dir / "summary.json").read_text())
    lines = (run_dir / "generations.jsonl").read_text().splitlines()
    gen = summary.get("best_generation")
    if gen is None or gen >= len(lines):
        raise ConfigError(f"Run {str(run_dir)!r} has no evaluated generation yet; run or resume it first.")
    entry = json.loads(lines[gen])
    genome = genomes_from_arrays({k: np.asarray(v) for k, v in entry["genome_arrays"].items()})[0]
    return Champion(run_dir, config, genome, gen, len(lines))


def used_seeds(config: EplJobConfig, generations: int) -> set[int]:
    """Every lifetime seed (or, without lifetimes, evaluation seed) the run used in ``generations`` generations."""
    from .substrate import task_for

    lifetimes = config.task.lifetimes if isinstance(task_for(config.task), LifetimeTask) else 0
    used: set[int] = set()
    for gen in range(generations):
        for index in range(config.neat.population_size):
            seed = derive_seed(config.run.seed, gen, index)
            used.update(lifetime_seeds(seed, lifetimes) if lifetimes else [seed])
    return used


def _chunk_lifetimes(genome: Genome, config: EplJobConfig, seeds: list[int], ablation: str,
                     donors: list | None) -> LifetimeEvaluation:
    """A worker's share: the genome's learner on ``seeds`` under ``ablation`` (picklable, module level)."""
    from .substrate import build_network, make_learner, quiet_native_stderr, task_for

    network = build_network(genome, config)
    if isinstance(network, str):
        raise InvalidValueError(f"The champion has no learner network for task {config.task.name!r}: {network}.")
    with quiet_native_stderr():
        learner = make_learner(network, config)
        return learner_lifetimes(learner, task_for(config.task), seeds, ablation=ablation, donors=donors)


def _order_dependence(genome: Genome, config: EplJobConfig, feedback: np.ndarray) -> float | None:
    from .substrate import build_network, make_learner, quiet_native_stderr

    network = build_network(genome, config)
    with quiet_native_stderr():
        return order_dependence(make_learner(network, config), feedback)


def _lifetimes(genome: Genome, config: EplJobConfig, seeds: list[int], ablation: str, executor,
               donors: list | None = None) -> LifetimeEvaluation:
    chunks = [seeds[i:i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    donor_chunks = [donors[i:i + CHUNK] if donors is not None else None for i in range(0, len(seeds), CHUNK)]
    parts = executor.map(_chunk_lifetimes, [genome] * len(chunks), [config] * len(chunks), chunks,
                         [ablation] * len(chunks), donor_chunks)
    lost = [i for i, p in enumerate(parts) if p is None]
    if lost:
        raise EplSysbioError(f"Held-out evaluation ({ablation}): the workers of chunks {lost} were lost.")
    return LifetimeEvaluation.concatenate(parts)


def evaluate_champion(champion: Champion, *, task: str | None = None, lifetimes: int = 1000,
                      seed: int = DEFAULT_HELD_OUT_SEED, ablations: Sequence[str] = ("none",),
                      executor=None) -> tuple[dict[str, LifetimeEvaluation], dict]:
    """The champion on ``lifetimes`` held-out lifetimes under each of ``ablations``.

    ``task`` evaluates it on another task (its roles are re-assigned for
    that task). Returns the evaluations by ablation and a dict describing
    the lifetimes (task, seed, lifetimes, skipped seeds).
    """
    bad = sorted(set(ablations) - set(ABLATIONS))
    if bad:
        raise InvalidValueError(f"Unknown ablations {bad}; choose among {list(ABLATIONS)}.")
    least = 2 if "shuffled" in ablations else 1
    check_parameter("evaluate_champion", "lifetimes", isinstance(lifetimes, int) and lifetimes >= least,
                    f"an int >= {least}" + (" (shuffled needs a donor lifetime)" if least == 2 else ""), lifetimes)
    check_parameter("evaluate_champion", "seed", isinstance(seed, int) and seed >= 0, "an int >= 0", seed)
    config = champion.config if task is None else champion.config.replace(task={"name": task})
    seeds, skipped = held_out_seeds(seed, lifetimes, used_seeds(champion.config, champion.generations))
    executor = executor or SerialExecutor()
    out: dict[str, LifetimeEvaluation] = {}
    if "none" in ablations or "shuffled" in ablations:
        out["none"] = _lifetimes(champion.genome, config, seeds, "none", executor)
    for ablation in ablations:
        if ablation != "none":
            donors = donor_sequences(out["none"]) if ablation == "shuffled" else None
            out[ablation] = _lifetimes(champion.genome, config, seeds, ablation, executor, donors)
    about = {"task": config.task.name, "seed": seed, "lifetimes": len(seeds), "skipped_seeds": skipped,
             "run_dir": str(champion.run_dir), "generation": champion.generation}
    return {a: out[a] for a in ablations}, about


_CSV_FIELDS = ("agent", "kind", "lifetimes", "mean_score", "sem", "learning_speed", "reached_fraction", "stopped")


def write_lifetime_report(champion: Champion, *, executor=None, lifetimes: int | None = None,
                          seed: int = DEFAULT_HELD_OUT_SEED, out: Path | None = None) -> dict:
    """Evaluate the champion, its ablations and the references on held-out lifetimes; write the CSV and plot.

    Returns the headline figures (``held_out_<agent>_score`` and ``_sem``, the
    seeds used). ``lifetimes`` defaults to the config's ``held_out_lifetimes``;
    ``out`` (default: the run directory) receives ablations.csv and plots/learning_curves.png.
    """
    config, out = champion.config, Path(out or champion.run_dir)
    n = lifetimes or config.task.held_out_lifetimes
    evaluations, about = evaluate_champion(champion, lifetimes=n, seed=seed, ablations=ABLATIONS, executor=executor)
    seeds = list(evaluations["none"].seeds)
    references = {name: reference_lifetimes(name, config.task, seeds)
                  for name in REFERENCE_POLICIES.get(config.task.name, ())}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for kind, group in (("learner", evaluations), ("reference", references)):
        for name, ev in group.items():
            s = ev.summary()
            writer.writerow({"agent": "champion" if name == "none" else name,
                             "kind": kind if name == "none" or kind == "reference" else "ablation",
                             **{k: s[k] for k in _CSV_FIELDS[2:]}})
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "ablations.csv", buffer.getvalue().encode())
    (out / "plots").mkdir(parents=True, exist_ok=True)
    plot_learning_curves(out / "plots" / "learning_curves.png", config.task.name, evaluations, references,
                         title=f"{config.task.name}: champion of generation {champion.generation} on {n} held-out "
                               "lifetimes")
    figures = {f"held_out_{name}_score": ev.mean_score for name, ev in {**evaluations, **references}.items()}
    figures.update({f"held_out_{name}_sem": ev.sem for name, ev in evaluations.items()})
    figures.update({f"held_out_{name}_learning_speed": ev.learning_speed for name, ev in evaluations.items()})
    recorded = evaluations["none"].feedback[0][:40]
    order = _order_dependence(champion.genome, config, recorded) if len(recorded) else None
    figures.update(order_dependence=order,
                   held_out_lifetimes=about["lifetimes"], held_out_seed=seed, held_out_skipped=about["skipped_seeds"],
                   held_out_reached_fraction=evaluations["none"].reached_fraction,
                   held_out_reset_reached_fraction=evaluations["reset"].reached_fraction)
    return figures


#: colour, line style, marker, label (off and reset often coincide: told apart by style and marker)
_STYLES = {"none": ("tab:red", "-", "o", "champion"), "off": ("tab:blue", "--", "s", "feedback off"),
           "shuffled": ("tab:purple", ":", "^", "feedback shuffled"), "reset": ("tab:green", "-.", "x", "state reset")}


def plot_learning_curves(path: Path, task: str, evaluations: dict[str, LifetimeEvaluation],
                         references: dict[str, LifetimeEvaluation] | None = None, *, title: str = "") -> None:
    """Mean score by trial index (with a one-SEM band) of the champion, its ablations and the references."""
    from .plots import _pyplot
    from .registry import TASKS

    plt = _pyplot()
    n_points = next(iter(evaluations.values())).curves.shape[1]
    label = TASKS[task].curve_label
    bandit = task.startswith("bandit")
    x = (np.arange(n_points) + 1) * (10 if bandit else 1)
    fig, ax = plt.subplots(figsize=(8.4, 4.2), dpi=110)
    for name, ev in evaluations.items():
        colour, style, marker, text = _STYLES.get(name, ("black", "-", "o", name))
        mean = ev.curves.mean(axis=0)
        sem = ev.curves.std(axis=0, ddof=1) / np.sqrt(ev.n) if ev.n > 1 else np.zeros(n_points)
        ax.plot(x, mean, style, color=colour, marker=marker, ms=4, label=f"{text} ({ev.mean_score:.1f})")
        ax.fill_between(x, mean - sem, mean + sem, color=colour, alpha=0.15)
    # references: thin lines, each its own colour and dash, none of the champion's or the ablations' colours
    colours = ("tab:gray", "tab:orange", "tab:brown", "tab:olive", "tab:cyan", "tab:pink", "black")
    dashes = ((0, (1, 1)), (0, (4, 2)), (0, (6, 2, 1, 2)), (0, (2, 2)), (0, (8, 3)), (0, (1, 3)), (0, (3, 1, 1, 1)))
    for i, (name, ev) in enumerate((references or {}).items()):
        ax.plot(x, ev.curves.mean(axis=0), ls=dashes[i % len(dashes)], color=colours[i % len(colours)],
                lw=1.3, label=f"{name} ({ev.mean_score:.1f})")
    ax.set_xlabel("pulls (end of each window of 10)" if bandit else "episode")
    ax.set_ylabel(label)
    ax.set_ylim(-2, 102)
    ax.set_title(title or task, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              title="mean score", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
