"""Cost of evaluating one network on n query points: our vectorised CPPN against neat-python.

The same networks (random genomes grown by NEAT mutations, steepened-sigmoid
hidden nodes) are built both ways: ours with ``compile_genome``, neat-python's
as a ``neat.nn.FeedForwardNetwork`` with the same nodes, weights and
activation (its sigmoid is ``1/(1+exp(-5 z))``, so the response is 4.9/5).
Times are build + evaluate on n points, best of several repeats, per network.

    python benchmarks/cppn_queries.py

The last line printed is a JSON object of headline figures.
"""

from __future__ import annotations

import json
import timeit

import neat
import numpy as np
from neat.activations import sigmoid_activation
from neat.aggregations import sum_aggregation

from epl_sysbio.evolve import NeatConfig, compile_genome, random_genome
from epl_sysbio.evolve.genome import Genome


def neat_python_network(genome: Genome) -> neat.nn.FeedForwardNetwork:
    """neat-python's FeedForwardNetwork computing the same function as ``compile_genome(genome)``."""
    incoming: dict[int, list] = {}
    for c in genome.connections.values():
        if c.enabled:
            incoming.setdefault(c.dst, []).append((c.src, c.weight))
    order, seen = [], set(genome.input_ids)

    def visit(n: int) -> None:
        if n in seen:
            return
        seen.add(n)
        for src, _ in incoming.get(n, ()):
            visit(src)
        order.append(n)

    for o in genome.output_ids:
        visit(o)
    evals = [(n, sigmoid_activation, sum_aggregation, 0.0, 4.9 / 5.0, incoming.get(n, [])) for n in order]
    return neat.nn.FeedForwardNetwork(list(genome.input_ids), list(genome.output_ids), evals)


def main() -> None:
    rng = np.random.default_rng(0)
    config = NeatConfig(n_inputs=4, n_outputs=1)
    genomes = [random_genome(config, rng, rounds=4) for _ in range(20)]
    rows, figures = [], {}
    for n in (4, 64, 1024):
        x = rng.uniform(-1, 1, size=(n, 4))
        x_bias = np.hstack([x, np.ones((n, 1))]).tolist()
        for g in genomes[:3]:  # same function both ways
            np.testing.assert_allclose(compile_genome(g)(x)[:, 0],
                                       [neat_python_network(g).activate(row)[0] for row in x_bias], rtol=1e-9)

        def ours() -> None:
            for g in genomes:
                compile_genome(g)(x)

        def theirs() -> None:
            for g in genomes:
                net = neat_python_network(g)
                for row in x_bias:
                    net.activate(row)

        t_ours = min(timeit.repeat(ours, number=3, repeat=5)) / (3 * len(genomes))
        t_theirs = min(timeit.repeat(theirs, number=1 if n > 64 else 3, repeat=3)) / (
            (1 if n > 64 else 3) * len(genomes))
        rows.append((n, t_ours * 1e6, t_theirs * 1e6, t_theirs / t_ours))
        figures[f"n{n}"] = {"ours_us": round(t_ours * 1e6, 1), "neat_python_us": round(t_theirs * 1e6, 1),
                            "speedup": round(t_theirs / t_ours, 2)}
    hidden = np.mean([g.n_hidden for g in genomes])
    print(f"20 random genomes, mean {hidden:.1f} hidden nodes; build + evaluate on n points, per network")
    print(f"{'n':>6} {'ours (us)':>12} {'neat-python (us)':>18} {'speedup':>8}")
    for n, a, b, s in rows:
        print(f"{n:>6} {a:>12.1f} {b:>18.1f} {s:>8.2f}")
    print(json.dumps({"cppn_queries": figures, "mean_hidden_nodes": round(float(hidden), 2),
                      "units": "microseconds per network (build + evaluate on n points)"}))


if __name__ == "__main__":
    main()
