"""HyperNEAT sanity task: connect each node of a 4x4 substrate to its mirror image across x = 0.

Runs seeded evolutions (process pool, one run per seed), prints a table, plots
the connectivity expressed by the first solution next to the target, and ends
with one JSON line of headline figures.

    python benchmarks/hyperneat_mirror.py --runs 20 --out runs/mirror
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from epl_sysbio.evolve import EvolveConfig, compile_genome, evolve, genome_to_dict
from epl_sysbio.evolve.hyperneat import express
from epl_sysbio.evolve.mirror import MIRROR_EXPRESSION, mirror_fitness, mirror_neat_config, mirror_substrate, \
    mirror_target


def run(seed: int, generations: int) -> dict:
    config = EvolveConfig(neat=mirror_neat_config()).replace(
        run={"seed": seed, "generations": generations, "executor": "serial", "progress": False, "plots": False})
    start = time.perf_counter()
    result = evolve(mirror_fitness, config)
    return {"seed": seed, "solved": result.solved, "generations": result.generations,
            "evaluations": result.evaluations, "seconds": time.perf_counter() - start,
            "solution": genome_to_dict(result.solution) if result.solution else None,
            "hidden": result.solution.n_hidden if result.solution else None}


def plot(path: Path, solution: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from epl_sysbio.evolve.genome import ConnectionGene, Genome, NodeGene

    genome = Genome(solution["n_inputs"], solution["n_outputs"],
                    {n["id"]: NodeGene(n["id"], n["kind"], n["activation"]) for n in solution["nodes"]},
                    {c["innovation"]: ConnectionGene(c["innovation"], c["src"], c["dst"], c["weight"], c["enabled"])
                     for c in solution["connections"]})
    s = mirror_substrate()
    expressed = express(compile_genome(genome), s, MIRROR_EXPRESSION)
    target = np.zeros((s.n_nodes, s.n_nodes))
    t = mirror_target(s)
    target[s.sources[t], s.targets[t]] = 1
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.3), dpi=110)
    axes[0].imshow(target, cmap="Greys", vmin=0, vmax=1)
    axes[0].set_title("target: node i -> mirror of i")
    axes[1].imshow(expressed.matrix() != 0, cmap="Greys", vmin=0, vmax=1)
    axes[1].set_title(f"expressed by the CPPN ({len(expressed.sources)} links)")
    for ax in axes[:2]:
        ax.set_xlabel("target node j")
        ax.set_ylabel("source node i")
    ax = axes[2]
    c = s.coordinates
    ax.scatter(c[:, 0], c[:, 1], s=120, color="tab:blue", zorder=3)
    for i, j in zip(expressed.sources, expressed.targets):
        ax.annotate("", xy=c[j], xytext=c[i], arrowprops=dict(arrowstyle="->", color="tab:red",
                                                               connectionstyle="arc3,rad=0.2", lw=1.2))
    ax.axvline(0, color="grey", ls="--", lw=0.8)
    ax.set_title("expressed links on the substrate")
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--generations", type=int, default=150)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default="runs/hyperneat_mirror")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(pool.map(run, range(args.runs), [args.generations] * args.runs))
    solved = [r for r in runs if r["solved"]]
    for r in runs:
        print(f"seed {r['seed']:3d}  solved {r['solved']!s:5}  generations {r['generations']:3d}  "
              f"hidden {r['hidden']}")
    if solved:
        plot(out / "mirror_connectivity.png", solved[0]["solution"])
        print(f"plot: {out / 'mirror_connectivity.png'} (seed {solved[0]['seed']})")
    summary = {
        "runs": len(runs),
        "success_rate": len(solved) / len(runs),
        "mean_generations": round(statistics.fmean(r["generations"] for r in solved), 2) if solved else None,
        "mean_evaluations": round(statistics.fmean(r["evaluations"] for r in solved), 1) if solved else None,
        "evals_per_s": round(sum(r["evaluations"] for r in runs) / sum(r["seconds"] for r in runs), 1),
        "units": {"evals_per_s": "evaluations per second per core"},
    }
    print(json.dumps({"hyperneat_mirror": summary}))


if __name__ == "__main__":
    main()
