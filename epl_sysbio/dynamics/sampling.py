"""Random RDS specs for property tests, benchmarks and the stability statistic.

The recipe (every draw from the given ``numpy.random.Generator``)::

    components c0..c{C-1}     mass ~ U(0.5, 2), charge = charge_scale * integer in [-max_charge, max_charge]
    genes                     elementary E<i> (one component), dimers D<i><j> = E<i> + E<j> (i <= j),
                              trimers T<i><j><k> = E<i> + D<j><k>, taken in that order until there are
                              enough; potential a ~ N(0, 0.5^2)
    spaces s0..s{S-1}         a chain s0 - s1 - ... plus each other pair with probability 0.2,
                              distance ~ U(0.5, 2)
    nodes                     n_nodes distinct (gene, space) pairs drawn uniformly; x0 ~ U(0.5, 2);
                              friction ~ U(*friction); reservoir h ~ U(0.1, 1) with probability
                              reservoir_probability, else 0
    reactions                 every D (from E + E) and T (from E + D) whose three nodes share a space,
                              with probability edge_probability, k ~ logU(0.1, 10)
    diffusion, Hamiltonian    every gene present in two neighbouring spaces, each with probability
                              edge_probability, k or v ~ logU(0.1, 10)
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from epl_sysbio.dynamics.spec import (
    Component,
    Diffusion,
    Gene,
    HamiltonianEdge,
    Node,
    RdsSpec,
    Reaction,
    Space,
    SpaceLink,
)
from epl_sysbio.errors import InstanceOf, Interval, check_parameter, validate

__all__ = ["random_spec"]


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def random_spec(
    rng: np.random.Generator,
    *,
    n_nodes: int = 10,
    n_spaces: int | None = None,
    n_components: int = 3,
    max_charge: int = 1,
    charge_scale: float = 0.1,
    friction: tuple[float, float] = (0.1, 1.0),
    reservoir_probability: float = 0.1,
    edge_probability: float = 0.5,
    name: str = "random_rds",
) -> RdsSpec:
    """Draw a random valid spec (recipe in the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
    n_nodes : int
        Exactly this many nodes.
    n_spaces : int, optional
        Default ``max(1, round(sqrt(n_nodes) / 1.4))`` (10 nodes: 2, 50: 5, 200: 10).
    friction : (low, high)
        Range of the collision rate c; ``(0, 0)`` gives frictionless (marginal) momenta.
    """
    own = "random_spec"
    count, probability = Interval(int, 1, None, closed="left"), Interval(Real, 0, 1, closed="both")
    validate(own, {"rng": InstanceOf(np.random.Generator), "n_nodes": count}, {"rng": rng, "n_nodes": n_nodes})
    if n_spaces is None:
        n_spaces = max(1, round(math.sqrt(n_nodes) / 1.4))
    validate(own, {"n_spaces": count, "n_components": count, "reservoir_probability": probability,
                   "edge_probability": probability},
             {"n_spaces": n_spaces, "n_components": n_components, "reservoir_probability": reservoir_probability,
              "edge_probability": edge_probability})
    check_parameter(own, "friction", len(friction) == 2 and 0 <= friction[0] <= friction[1],
                    "a pair (low, high) with 0 <= low <= high", friction)

    comps = tuple(Component(name=f"c{i}", mass=float(rng.uniform(0.5, 2.0)),
                            charge=charge_scale * int(rng.integers(-max_charge, max_charge + 1)))
                  for i in range(n_components))
    # Gene pool in order elementary, dimers, trimers; parents say which reaction makes each.
    pool: list[tuple[str, dict[str, int], tuple[str, str] | None]] = []
    for i in range(n_components):
        pool.append((f"E{i}", {f"c{i}": 1}, None))
    dimers = [(i, j) for i in range(n_components) for j in range(i, n_components)]
    for i, j in dimers:
        comp = {f"c{i}": 1}
        comp[f"c{j}"] = comp.get(f"c{j}", 0) + 1
        pool.append((f"D{i}{j}", comp, (f"E{i}", f"E{j}")))
    for i in range(n_components):
        for j, k in dimers:
            comp = {f"c{i}": 1}
            for c in (j, k):
                comp[f"c{c}"] = comp.get(f"c{c}", 0) + 1
            pool.append((f"T{i}{j}{k}", comp, (f"E{i}", f"D{j}{k}")))
    n_genes = min(len(pool), max(3, math.ceil(1.5 * n_nodes / n_spaces)))
    check_parameter(own, "n_nodes", n_nodes <= n_genes * n_spaces,
                    f"at most {n_genes * n_spaces} for {n_components} components and {n_spaces} spaces", n_nodes)
    pool = pool[:n_genes]
    genes = tuple(Gene(name=g, composition=c, potential=float(rng.normal(0.0, 0.5))) for g, c, _ in pool)
    spaces = tuple(Space(name=f"s{i}") for i in range(n_spaces))
    pairs = [(a, b) for a in range(n_spaces) for b in range(a + 1, n_spaces)]
    links = tuple(SpaceLink(a=f"s{a}", b=f"s{b}", distance=float(rng.uniform(0.5, 2.0)))
                  for a, b in pairs if b == a + 1 or rng.random() < 0.2)

    cells = [(g, f"s{s}") for g, _, _ in pool for s in range(n_spaces)]
    chosen = sorted(rng.choice(len(cells), size=n_nodes, replace=False).tolist())
    nodes = tuple(
        Node(gene=cells[c][0], space=cells[c][1], initial_amount=float(rng.uniform(0.5, 2.0)),
             friction=float(rng.uniform(*friction)),
             reservoir=float(rng.uniform(0.1, 1.0)) if rng.random() < reservoir_probability else 0.0)
        for c in chosen)
    present = {n.key for n in nodes}

    reactions = []
    for s in spaces:
        for g, _, parents in pool:
            if parents and all((x, s.name) in present for x in parents + (g,)) and rng.random() < edge_probability:
                reactions.append(Reaction(reactants=parents, product=g, space=s.name,
                                          rate=_log_uniform(rng, 0.1, 10.0)))
    diffusion, hamiltonian = [], []
    for link in links:
        for g, _, _ in pool:
            if (g, link.a) in present and (g, link.b) in present:
                if rng.random() < edge_probability:
                    diffusion.append(Diffusion(gene=g, a=link.a, b=link.b, rate=_log_uniform(rng, 0.1, 10.0)))
                if rng.random() < edge_probability:
                    hamiltonian.append(HamiltonianEdge(gene=g, a=link.a, b=link.b,
                                                       rate=_log_uniform(rng, 0.1, 10.0)))
    return RdsSpec(name=name, components=comps, genes=genes, spaces=spaces, links=links, nodes=nodes,
                   reactions=tuple(reactions), diffusion=tuple(diffusion), hamiltonian=tuple(hamiltonian))
