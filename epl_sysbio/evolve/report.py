"""What a run shows and leaves behind: reporters, a live progress bar, ``logbook.csv`` and PNG plots."""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from epl_sysbio.files import atomic_write, save_figure

__all__ = ["Reporter", "GenerationReport", "ProgressReporter", "write_logbook_csv", "plot_fitness", "plot_species"]


@dataclass(frozen=True)
class GenerationReport:
    """One evaluated generation, as the loop hands it to its reporters.

    ``population`` holds the genomes with their fitness set; ``seeds``,
    ``infos`` (what the fitness function returned in :class:`~.executors.Evaluation`,
    else None) and ``faults`` (the reason, "" if none) are by the same index;
    ``record`` is the generation's logbook row; ``evaluations`` counts every
    evaluation of the run so far; ``seconds`` is the wall time from the
    generation's start to this report.
    """

    generation: int
    population: list
    seeds: list[int]
    infos: list[Any]
    faults: list[str]
    species: list
    record: dict[str, Any]
    evaluations: int
    seconds: float

    @property
    def best_index(self) -> int:
        """Index of the generation's best genome (the first on ties)."""
        fitness = [g.fitness.values[0] for g in self.population]
        return int(np.argmax(fitness))


class Reporter:
    """Told about a run as it goes (neat-python's reporters are the model); override what you need.

    :func:`~epl_sysbio.evolve.evolve` and :func:`~epl_sysbio.evolve.resume`
    call :meth:`start_generation` before a generation is evaluated and
    :meth:`end_generation` once it is, before the next population is bred and
    its checkpoint written: a reporter that keeps files in step with the run
    is therefore never behind the newest checkpoint, and a resume (which
    repeats the generations after that checkpoint) calls it again for them.
    """

    def start_generation(self, generation: int) -> None:
        """Generation ``generation`` is about to be evaluated."""

    def end_generation(self, report: GenerationReport) -> None:
        """Generation ``report.generation`` has been evaluated and recorded."""


class ProgressReporter:
    """Live progress of a run: one tick per finished evaluation, evaluations/s and an ETA for the run.

    A terminal gets a rich progress bar over the individuals of the current
    generation, with the generation number, evaluations per second (one
    decimal), the estimated time to the end of the run (remaining evaluations
    of this and the later generations at the rate measured so far) and the
    last generation's best/mean fitness and species. Elsewhere (a log file, CI)
    it prints one line per finished generation and, within a long generation,
    a line at most every ``line_seconds``. ``enabled=False`` prints nothing.

    Evaluations are counted by :meth:`advance`, which :meth:`wrap` calls for
    every result an :class:`~epl_sysbio.evolve.executors.Executor` returns.
    """

    def __init__(self, total: int, start: int = 0, *, enabled: bool = True, line_seconds: float = 15.0) -> None:
        self.enabled = enabled
        self.total = total
        self.generation = start  # the generation being evaluated (0-based)
        self.line_seconds = line_seconds
        self._t0 = time.perf_counter()
        self._last_line = self._t0
        self._evals = 0
        self._size = 0  # individuals in the current generation
        self._done = 0  # of them, finished
        self._info = ""
        self._progress = None
        if not enabled:
            return
        from rich.console import Console

        self._console = Console(stderr=True)
        if self._console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}  ETA {task.fields[eta]}  {task.fields[info]}"),
                console=self._console, refresh_per_second=4,
            )
            self._task = self._progress.add_task(self._description(), total=None, rate="", eta="-", info="")
            self._progress.start()

    def _description(self) -> str:
        return f"generation {self.generation + 1}/{self.total}"

    @property
    def rate(self) -> float:
        """Evaluations finished per second of wall time since the reporter started."""
        return self._evals / max(time.perf_counter() - self._t0, 1e-9)

    def eta_seconds(self) -> float | None:
        """Seconds to the end of the run at :attr:`rate` (None before the first evaluation)."""
        if not self._evals or not self._size:
            return None
        remaining = (self._size - self._done) + max(self.total - self.generation - 1, 0) * self._size
        return remaining / self.rate

    def _stats(self) -> tuple[str, str]:
        eta = self.eta_seconds()
        return f"{self.rate:.1f} evals/s", "-" if eta is None else _duration(eta)

    def begin(self, size: int) -> None:
        """A generation of ``size`` evaluations starts."""
        self._size, self._done = size, 0
        if self._progress is not None:
            rate, eta = self._stats()
            self._progress.reset(self._task, total=size, description=self._description(), rate=rate, eta=eta,
                                 info=self._info)

    def advance(self, n: int = 1) -> None:
        """``n`` evaluations finished."""
        if not self.enabled:
            return
        self._evals += n
        self._done += n
        rate, eta = self._stats()
        if self._progress is not None:
            self._progress.update(self._task, completed=self._done, rate=rate, eta=eta, info=self._info)
        elif time.perf_counter() - self._last_line >= self.line_seconds and self._done < self._size:
            self._last_line = time.perf_counter()
            print(f"{self._description()}  {self._done}/{self._size} evaluated  {rate}  ETA {eta}",
                  file=sys.stderr, flush=True)

    def update(self, generation: int, best: float, mean: float, n_species: int, evaluations: int) -> None:
        """Report a finished generation (``evaluations`` made in it; those not yet counted by :meth:`advance`
        are counted now)."""
        if not self.enabled:
            return
        if self._done < evaluations:  # the executor did not report each result
            self._evals += evaluations - self._done
        self._done = self._size = evaluations
        self.generation = generation + 1
        self._info = f"best {best:.4g}  mean {mean:.4g}  species {n_species}"
        rate, eta = self._stats()
        if self._progress is not None:
            self._progress.update(self._task, completed=evaluations, total=evaluations, rate=rate,
                                  eta=eta if self.generation < self.total else "0s", info=self._info)
        else:
            self._last_line = time.perf_counter()
            print(f"generation {generation + 1}/{self.total}  {self._info}  {rate}  ETA {eta}",
                  file=sys.stderr, flush=True)

    def wrap(self, executor):
        """``executor`` whose ``map`` starts a generation and ticks :meth:`advance` for every result
        (``executor`` itself when the reporter is disabled)."""
        return _TickingExecutor(executor, self) if self.enabled else executor

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class _TickingExecutor:
    """An executor seen through a :class:`ProgressReporter` (used by the generation loops)."""

    def __init__(self, executor, progress: ProgressReporter) -> None:
        self.executor, self.progress = executor, progress

    def map(self, fn, *iterables, on_done=None):
        args = [list(it) for it in iterables]
        self.progress.begin(len(args[0]) if args else 0)

        def tick(index: int) -> None:
            self.progress.advance()
            if on_done is not None:
                on_done(index)

        return self.executor.map(fn, *args, on_done=tick)

    def __getattr__(self, name):
        return getattr(self.executor, name)


def _duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def write_logbook_csv(path: Path, records: Sequence[dict]) -> None:
    """Write logbook records (dicts with the same keys) as CSV, atomically."""
    if not records:
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    atomic_write(Path(path), out.getvalue().encode())


def plot_fitness(path: Path, records: Sequence[dict]) -> None:
    """PNG of best and mean fitness per generation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen = [r["gen"] for r in records]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    ax.plot(gen, [r["best"] for r in records], label="best", color="tab:red")
    ax.plot(gen, [r["mean"] for r in records], label="mean", color="tab:blue")
    std = np.asarray([r["std"] for r in records])
    mean = np.asarray([r["mean"] for r in records])
    ax.fill_between(gen, mean - std, mean + std, color="tab:blue", alpha=0.15, label="mean ± std")
    ax.set_xlabel("generation")
    ax.xaxis.set_major_locator(integer_ticks())
    ax.set_ylabel("fitness")
    ax.set_title("Fitness per generation")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_species(path: Path, history: np.ndarray) -> None:
    """PNG of species sizes stacked over generations; ``history`` rows are ``[generation, species_id, size]``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = np.asarray(history, dtype=np.int64).reshape(-1, 3)
    gens = np.unique(history[:, 0])
    ids = np.unique(history[:, 1])
    sizes = np.zeros((len(ids), len(gens)))
    gi = np.searchsorted(gens, history[:, 0])
    si = np.searchsorted(ids, history[:, 1])
    sizes[si, gi] = history[:, 2]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    if len(ids):
        ax.stackplot(gens, sizes, linewidth=0.3, edgecolor="white")  # colours repeat: keep species apart
    ax.set_xlabel("generation")
    ax.xaxis.set_major_locator(integer_ticks())
    ax.set_ylabel("individuals")
    ax.set_title(f"Species sizes ({len(ids)} species over the run)")
    ax.margins(x=0, y=0)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def integer_ticks():
    """Generations are whole numbers: no 0.5 ticks."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)
