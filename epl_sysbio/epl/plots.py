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

#: Node fill colour by role (a node without a role is "hidden").
ROLE_COLOURS = {"input": "tab:green", "output": "tab:red", "feedback": "tab:purple", "hidden": "lightgrey"}


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
    ax.set_ylabel("training time (% of the first goal generation)")
    ax.set_title("Training time to the goal (learning steps)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_network(path: Path, spec, *, title: str = "") -> None:
    """(c) An RDS: spaces as regions, nodes coloured by role, edges styled by flow type.

    Reactions ``i + j <-> k`` are grey lines from each reactant to the product
    within a space; diffusion edges dashed blue and Hamiltonian edges dotted
    red between neighbouring spaces; a node connected to the reservoir has a
    thick dark-green rim. Line widths grow with log(1 + rate).
    """
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyBboxPatch

    spaces = [s.name for s in spec.spaces]
    genes = [g.name for g in spec.genes]
    pos = {}
    for n in spec.nodes:
        pos[n.key] = (spaces.index(n.space) * 3.0 + 1.0 + 0.6 * ((genes.index(n.gene)) % 2),
                      -genes.index(n.gene) * 1.0)
    fig, ax = plt.subplots(figsize=(max(5.0, 2.6 * len(spaces)), max(3.5, 0.75 * len(genes) + 1.5)), dpi=110)
    for i, s in enumerate(spaces):
        ax.add_patch(FancyBboxPatch((i * 3.0 + 0.2, -len(genes) + 0.3), 2.2, len(genes) + 0.2,
                                    boxstyle="round,pad=0.05", fc="aliceblue", ec="steelblue", lw=1))
        ax.text(i * 3.0 + 1.3, 0.75, f"space {s}", ha="center", fontsize=9, color="steelblue")

    def width(rate: float) -> float:
        return 0.5 + 1.2 * np.log1p(rate)

    for r in spec.reactions:
        dst = pos[(r.product, r.space)]
        for g in r.reactants:
            src = pos[(g, r.space)]
            ax.annotate("", xy=dst, xytext=src, arrowprops=dict(arrowstyle="-", color="dimgrey",
                                                                lw=width(r.rate), connectionstyle="arc3,rad=0.25"))
    for edges, style, colour in ((spec.diffusion, "--", "tab:blue"), (spec.hamiltonian, ":", "tab:red")):
        for e in edges:
            (x0, y0), (x1, y1) = pos[(e.gene, e.a)], pos[(e.gene, e.b)]
            ax.plot([x0, x1], [y0 + 0.08 * (colour == "tab:red"), y1 + 0.08 * (colour == "tab:red")], style,
                    color=colour, lw=width(e.rate), zorder=1)
    for n in spec.nodes:
        role = n.roles[0] if n.roles else "hidden"
        x, y = pos[n.key]
        ax.scatter([x], [y], s=260, c=ROLE_COLOURS[role], edgecolors="darkgreen" if n.reservoir > 0 else "black",
                   linewidths=3.0 if n.reservoir > 0 else 0.8, zorder=3)
        ax.text(x, y, n.gene, ha="center", va="center", fontsize=7, zorder=4)
    handles = [Line2D([], [], marker="o", ls="", color=c, mec="black", label=r, ms=9) for r, c in ROLE_COLOURS.items()]
    handles += [Line2D([], [], color="dimgrey", label="reaction"),
                Line2D([], [], color="tab:blue", ls="--", label="diffusion"),
                Line2D([], [], color="tab:red", ls=":", label="Hamiltonian"),
                Line2D([], [], marker="o", ls="", mfc="white", mec="darkgreen", mew=3, label="reservoir", ms=9)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_xlim(-0.2, 3.0 * len(spaces))
    ax.set_ylim(-len(genes) - 0.1, 1.2)
    ax.set_axis_off()
    ax.set_title(title or f"{len(spec.nodes)} nodes, "
                 f"{len(spec.reactions) + len(spec.diffusion) + len(spec.hamiltonian)} edges", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


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
    for trace in traces[:max_steps]:
        t = trace[:, 0] - trace[0, 0] + offset
        for j in range(min(n, trace.shape[1] - 1)):
            axes[j, 0].plot(t, trace[:, 1 + j], color=colours[j % len(colours)], lw=0.7)
        offset = t[-1]
    for j, label in enumerate(labels):
        axes[j, 0].set_ylabel(label, fontsize=8)
        axes[j, 0].grid(alpha=0.3)
    axes[-1, 0].set_xlabel(f"model time over the first {min(len(traces), max_steps)} learning steps "
                           "(response windows end to end)")
    axes[0, 0].set_title(title or "Output trace of the best learner during learning")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def write_plots(out: Path, config, records: list[dict], bests: list) -> None:
    """All four figures of a run into ``out/plots``."""
    from .job import summarise, training_time_curve
    from .substrate import build_network, evaluate_genome

    plots = Path(out) / "plots"
    plots.mkdir(exist_ok=True)
    task = config.task.name
    plot_fitness_curves(plots / "fitness.png", records,
                        title=f"{task}: population {config.neat.population_size}, {config.task.epochs} epochs")
    gens, rel = training_time_curve(records)
    summary = summarise(config, records, 0.0)
    plot_training_time(plots / "training_time.png", gens, rel, summary["training_time_reduction_pct_per_gen"])
    if not records:
        return
    picks = sorted({0, len(records) // 2, len(records) - 1, summary["best_generation"]})
    for g in picks:
        net = build_network(bests[g], config)
        if not isinstance(net, str):
            plot_network(plots / f"network_gen{g:03d}.png", net.spec,
                         title=f"best of generation {g}: fitness {records[g]['best_fitness']:.1f}, "
                               f"{len(net.spec.nodes)} nodes")
    g = summary["best_generation"]
    traces: list[np.ndarray] = []
    evaluate_genome(bests[g], records[g]["best_seed"], config, traces=traces)
    net = build_network(bests[g], config)
    labels = list(net.outputs) if not isinstance(net, str) else []
    plot_learning_trace(plots / "trace.png", traces, labels,
                        title=f"best learner (generation {g}): outputs during learning")
