"""The main job's figures: fitness, training time (the paper's Fig. 3), network diagrams, output traces.

All functions take plain data (records as written to logbook.csv, an
:class:`~epl_sysbio.dynamics.RdsSpec`, arrays) and write one PNG each.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from epl_sysbio.files import save_figure

__all__ = ["plot_fitness_curves", "plot_training_time", "plot_network", "plot_learning_trace", "write_plots",
           "ROLE_COLOURS"]

from epl_sysbio.dynamics.diagram import ROLE_COLOURS  # re-exported: it lived here first
from epl_sysbio.evolve.report import integer_ticks


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fitness_curves(path: Path, records: Sequence[dict], *, title: str = "") -> None:
    """(a) Best and mean fitness per generation (mean with a one-std band)."""
    plt = _pyplot()
    gen = np.array([r["gen"] for r in records])
    best = np.array([r["best_fitness"] for r in records])
    mean = np.array([r["mean_fitness"] for r in records])
    std = np.array([r["std_fitness"] for r in records])
    fig, ax = plt.subplots(figsize=(6.4, 4), dpi=110)
    ax.plot(gen, best, "o-", color="tab:red", label="best", ms=3)
    ax.plot(gen, mean, "o-", color="tab:blue", label="mean", ms=3)
    ax.fill_between(gen, np.clip(mean - std, 0, 100), np.clip(mean + std, 0, 100), color="tab:blue", alpha=0.15,
                    label="mean ± std")
    ax.axhline(99, color="grey", lw=0.8, ls=":", label="99")
    ax.set_ylim(-2, 102)
    ax.set_xlabel("generation")
    ax.xaxis.set_major_locator(integer_ticks())
    ax.set_ylabel("fitness (0-100)")
    ax.set_title(title or "EPL learners: fitness per generation")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_training_time(path: Path, generations: Sequence[int], relative: Sequence[float],
                       reduction_pct_per_gen: float | None) -> None:
    """(b) Training time of each generation's best learner relative to the first that reached the goal."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4), dpi=110)
    if len(generations):
        ax.plot(generations, relative, "o-", color="tab:orange", ms=4, label="best learner")
        if len(generations) >= 2 and reduction_pct_per_gen is not None:
            g = np.asarray(generations, float)
            fit = np.polyfit(g, np.asarray(relative, float), 1)
            ax.plot(g, np.polyval(fit, g), "--", color="black", lw=1,
                    label=f"fit: {reduction_pct_per_gen:+.2f} %/generation reduction")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no learner reached the goal", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("generation")
    ax.xaxis.set_major_locator(integer_ticks())
    ax.set_ylabel("training time (% of the first goal generation)")
    ax.set_title("Training time to the goal (learning steps)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_network(path: Path, spec, *, title: str = "") -> None:
    """(c) An RDS as a bipartite species/reaction diagram (:func:`epl_sysbio.dynamics.diagram.plot_network`)."""
    from epl_sysbio.dynamics.diagram import plot_network as draw

    draw(path, spec, title=title)


def plot_learning_trace(path: Path, traces: Sequence[np.ndarray], labels: Sequence[str], *,
                        title: str = "", max_steps: int = 300) -> None:
    """(d) Each output's concentration during the first ``max_steps`` learning steps, responses end to end.

    One panel per output (their levels can differ by far more than their responses).
    """
    plt = _pyplot()
    n = max(1, len(labels))
    fig, axes = plt.subplots(n, 1, figsize=(8, 1.4 + 1.6 * n), dpi=110, sharex=True, squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    offset = 0.0
    shown = [trace for trace in traces[:max_steps] if len(trace)]
    for trace in shown:
        t = trace[:, 0] - trace[0, 0] + offset
        for j in range(min(n, trace.shape[1] - 1)):
            axes[j, 0].plot(t, trace[:, 1 + j], color=colours[j % len(colours)], lw=0.9)
            if len(shown) <= 60:  # where each learning step's injection happened
                axes[j, 0].axvline(t[0], color="grey", lw=0.4, alpha=0.5)
        offset = t[-1]
    for j, label in enumerate(labels):
        axes[j, 0].set_ylabel(label, fontsize=8)
        axes[j, 0].grid(alpha=0.3)
    axes[-1, 0].set_xlabel(f"model time over the first {len(shown)} learning steps (response windows end to end; "
                           "grey lines: an input was injected)")
    axes[0, 0].set_title(title or "Output trace of the best learner during learning")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def write_plots(plots: Path, config, records: list[dict], summary: dict, networks: Sequence[dict | None],
                trace_file: Path) -> None:
    """All four figures of a run into the directory ``plots``, from what the run recorded.

    ``records`` are the logbook rows, ``summary`` the run's summary
    (:func:`~.summary.summarise`), ``networks`` each generation's champion
    network as journalled (None where none was built) and ``trace_file`` the
    champion's output traces (``best/trace.npz``; skipped if absent).
    """
    from epl_sysbio.dynamics import spec_from_dict

    from .summary import training_time_curve

    plots = Path(plots)
    plots.mkdir(exist_ok=True)
    plot_fitness_curves(plots / "fitness.png", records, title=f"{config.task.name}: population "
                        f"{config.neat.population_size}, {config.task.epochs} epochs")
    gens, rel = training_time_curve(records)
    plot_training_time(plots / "training_time.png", gens, rel, summary["training_time_reduction_pct_per_gen"])
    if not records:
        return
    best = summary["best_generation"]
    for g in sorted({0, len(records) // 2, len(records) - 1, best}):
        if networks[g] is not None:
            spec = spec_from_dict(networks[g]["spec"])
            plot_network(plots / f"network_gen{g:03d}.png", spec, title=f"best of generation {g}: fitness "
                         f"{records[g]['best_fitness']:.1f}, {len(spec.nodes)} nodes")
    if Path(trace_file).exists():
        with np.load(trace_file) as archive:
            traces = [archive[f"arr_{i}"] for i in range(len(archive.files))]
        labels = networks[best]["outputs"] if networks[best] is not None else []
        plot_learning_trace(plots / "trace.png", traces, labels,
                            title=f"best learner (generation {best}): outputs during learning")
