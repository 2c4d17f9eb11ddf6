"""What a run shows and leaves behind: a live progress bar, ``logbook.csv`` and PNG plots."""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from epl_sysbio.files import atomic_write, save_figure

__all__ = ["ProgressReporter", "write_logbook_csv", "plot_fitness", "plot_species"]


class ProgressReporter:
    """A rich progress bar: generation, best/mean fitness, species, evaluations/s and ETA.

    When stderr is not a terminal it prints one plain line per generation
    instead; with ``enabled=False`` it prints nothing.
    """

    def __init__(self, total: int, start: int = 0, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.total = total
        self._t0 = time.perf_counter()
        self._evals = 0
        self._progress = None
        if not enabled:
            return
        from rich.console import Console

        self._console = Console(stderr=True)
        if self._console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("generation"), MofNCompleteColumn(), BarColumn(),
                TextColumn("{task.fields[info]}"), TimeRemainingColumn(), console=self._console,
            )
            self._task = self._progress.add_task("evolve", total=total, completed=start, info="")
            self._progress.start()

    def update(self, generation: int, best: float, mean: float, n_species: int, evaluations: int) -> None:
        """Report a finished generation (``evaluations`` made in it)."""
        if not self.enabled:
            return
        self._evals += evaluations
        rate = self._evals / max(time.perf_counter() - self._t0, 1e-9)
        info = f"best {best:.4g}  mean {mean:.4g}  species {n_species}  {rate:.0f} evals/s"
        if self._progress is not None:
            self._progress.update(self._task, completed=generation + 1, info=info)
        else:
            print(f"generation {generation + 1}/{self.total}  {info}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


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
        ax.stackplot(gens, sizes, linewidth=0)
    ax.set_xlabel("generation")
    ax.set_ylabel("individuals")
    ax.set_title(f"Species sizes ({len(ids)} species over the run)")
    ax.margins(x=0, y=0)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
