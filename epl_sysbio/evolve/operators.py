"""NEAT variation operators in DEAP's calling conventions, and the compatibility distance.

Mutations are named ``mut*`` and return a one-tuple ``(genome,)`` after
changing it in place; the crossover ``cx_neat`` returns a one-tuple holding a
new child. Every operator takes an explicit ``numpy.random.Generator``.

Reference: Stanley & Miikkulainen (2002), "Evolving neural networks through
augmenting topologies", Evolutionary Computation 10(2), sections 3.1-3.3.
"""

from __future__ import annotations

import numpy as np

from .config import NeatConfig
from .genome import BIAS, HIDDEN, INPUT, ConnectionGene, Genome, InnovationTracker, NodeGene, initial_genome, \
    initial_tracker

__all__ = [
    "mut_weights",
    "mut_add_node",
    "mut_add_connection",
    "mut_toggle_enable",
    "mut_activation",
    "mut_neat",
    "cx_neat",
    "compatibility_distance",
    "creates_cycle",
    "random_genome",
]


def mut_weights(genome: Genome, rng: np.random.Generator, config: NeatConfig) -> tuple[Genome]:
    """Perturb or replace every connection weight.

    for each connection:
        with probability ``weight_perturb_fraction``: w += U(-power, power)
        otherwise:                                  w  = U(-init, init)
        w = clip(w, -weight_max, weight_max)
    """
    conns = [genome.connections[k] for k in sorted(genome.connections)]
    n = len(conns)
    perturb = rng.random(n) < config.weight_perturb_fraction
    delta = rng.uniform(-config.weight_perturb_power, config.weight_perturb_power, n)
    fresh = rng.uniform(-config.weight_init_range, config.weight_init_range, n)
    for c, p, d, f in zip(conns, perturb.tolist(), delta.tolist(), fresh.tolist(), strict=True):
        w = c.weight + d if p else f
        c.weight = min(max(w, -config.weight_max), config.weight_max)
    return (genome,)


def mut_add_node(genome: Genome, rng: np.random.Generator, config: NeatConfig,
                 tracker: InnovationTracker) -> tuple[Genome]:
    """Split a random enabled connection ``a -> b`` into ``a -> new -> b``.

    Connections from the bias are never split (a node fed by the bias alone is
    a constant; Stanley's reference code skips them too).

    The old connection is disabled; ``a -> new`` gets weight 1 and ``new -> b``
    the old weight, so the network's function barely changes. The new node
    draws its activation uniformly from ``config.activations``.
    """
    bias = genome.n_inputs
    enabled = [k for k in sorted(genome.connections)
               if genome.connections[k].enabled and genome.connections[k].src != bias]
    if not enabled:
        return (genome,)
    old = genome.connections[enabled[rng.integers(len(enabled))]]
    node, inn_in, inn_out = tracker.split(old.innovation)
    if node in genome.nodes:
        node, inn_in, inn_out = tracker.split(old.innovation, taken=True)
    old.enabled = False
    activation = config.activations[rng.integers(len(config.activations))]
    genome.nodes[node] = NodeGene(node, HIDDEN, activation)
    genome.connections[inn_in] = ConnectionGene(inn_in, old.src, node, 1.0)
    genome.connections[inn_out] = ConnectionGene(inn_out, node, old.dst, old.weight)
    return (genome,)


def creates_cycle(genome: Genome, src: int, dst: int) -> bool:
    """Whether adding ``src -> dst`` closes a directed cycle of enabled or disabled connections."""
    if src == dst:
        return True
    succ: dict[int, list[int]] = {}
    for c in genome.connections.values():
        succ.setdefault(c.src, []).append(c.dst)
    stack, seen = [dst], {dst}
    while stack:
        n = stack.pop()
        for m in succ.get(n, ()):
            if m == src:
                return True
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return False


def mut_add_connection(genome: Genome, rng: np.random.Generator, config: NeatConfig,
                       tracker: InnovationTracker, *, tries: int = 20) -> tuple[Genome]:
    """Connect two unconnected nodes with a new random weight.

    Up to ``tries`` random (source, target) pairs are drawn (NEAT's
    ``newlink_tries``); targets are hidden or output nodes; in a feed-forward
    genome a pair that would close a cycle is rejected.
    """
    ids = sorted(genome.nodes)
    sources = ids
    targets = [i for i in ids if genome.nodes[i].kind not in (INPUT, BIAS)]
    existing = {(c.src, c.dst) for c in genome.connections.values()}
    for _ in range(tries):
        src = sources[rng.integers(len(sources))]
        dst = targets[rng.integers(len(targets))]
        if (src, dst) in existing:
            continue
        if not config.recurrent and creates_cycle(genome, src, dst):
            continue
        k = tracker.connection(src, dst)
        weight = rng.uniform(-config.weight_init_range, config.weight_init_range)
        genome.connections[k] = ConnectionGene(k, src, dst, weight)
        break
    return (genome,)


def mut_toggle_enable(genome: Genome, rng: np.random.Generator, config: NeatConfig) -> tuple[Genome]:
    """Flip the enabled bit of one random connection.

    This cannot close a cycle in a feed-forward genome: add-connection keeps the
    graph of all connections, enabled or not, acyclic.
    """
    keys = sorted(genome.connections)
    if keys:
        c = genome.connections[keys[rng.integers(len(keys))]]
        c.enabled = not c.enabled
    return (genome,)


def mut_activation(genome: Genome, rng: np.random.Generator, config: NeatConfig) -> tuple[Genome]:
    """Give one random hidden node an activation drawn from ``config.activations``."""
    hidden = [i for i in sorted(genome.nodes) if genome.nodes[i].kind == HIDDEN]
    if hidden:
        i = hidden[rng.integers(len(hidden))]
        act = config.activations[rng.integers(len(config.activations))]
        genome.nodes[i] = NodeGene(i, HIDDEN, act)
    return (genome,)


def mut_neat(genome: Genome, rng: np.random.Generator, config: NeatConfig,
             tracker: InnovationTracker) -> tuple[Genome]:
    """NEAT's mutation schedule (as in Stanley's reference code)::

        with p = add_node_rate:            add a node
        else with p = add_connection_rate: add a connection
        else:
            with p = weight_mutation_rate:      mutate weights
            with p = toggle_enable_rate:        toggle a connection
            with p = activation_mutation_rate:  change an activation

    Returns a one-tuple, DEAP's convention for mutation operators.
    """
    if rng.random() < config.add_node_rate:
        return mut_add_node(genome, rng, config, tracker)
    if rng.random() < config.add_connection_rate:
        return mut_add_connection(genome, rng, config, tracker)
    if rng.random() < config.weight_mutation_rate:
        mut_weights(genome, rng, config)
    if config.toggle_enable_rate and rng.random() < config.toggle_enable_rate:
        mut_toggle_enable(genome, rng, config)
    if config.activation_mutation_rate and rng.random() < config.activation_mutation_rate:
        mut_activation(genome, rng, config)
    return (genome,)


def cx_neat(fitter: Genome, other: Genome, rng: np.random.Generator, config: NeatConfig) -> tuple[Genome]:
    """NEAT crossover: align genes by innovation number.

    Matching genes are inherited from either parent at random; disjoint and
    excess genes come from ``fitter`` only, so the child has exactly the
    fitter parent's structure. A gene disabled in either parent is disabled in
    the child with probability ``disable_inherited_rate``. Nodes come from
    ``fitter``; a node both parents hold takes its activation from either.
    The child's graph (enabled or not) is the fitter parent's, so a
    feed-forward child stays acyclic.
    """
    connections = {}
    for k in sorted(fitter.connections):
        a = fitter.connections[k]
        b = other.connections.get(k)
        if b is None:
            child = a.copy()
        else:
            child = (a if rng.random() < 0.5 else b).copy()
            if not (a.enabled and b.enabled):
                child.enabled = not (rng.random() < config.disable_inherited_rate)
        connections[k] = child
    nodes = {}
    for i in sorted(fitter.nodes):
        n = fitter.nodes[i]
        m = other.nodes.get(i)
        nodes[i] = n if m is None or n.kind != HIDDEN or rng.random() < 0.5 else m
    return (Genome(fitter.n_inputs, fitter.n_outputs, nodes, connections),)


def compatibility_distance(a: Genome, b: Genome, config: NeatConfig) -> float:
    """NEAT's compatibility distance (Stanley & Miikkulainen 2002, eq. 1).

        delta = c1 * E / N + c2 * D / N + c3 * W

    E: excess genes (innovation beyond the other genome's largest), D: disjoint
    genes, W: mean absolute weight difference of matching genes (enabled or
    not), N: gene count of the larger genome, or 1 if it has fewer than
    ``normalize_threshold`` genes.
    """
    ka, kb = a.connections, b.connections
    if not ka and not kb:
        return 0.0
    matching, w = 0, 0.0
    for k, c in ka.items():
        d = kb.get(k)
        if d is not None:
            matching += 1
            w += abs(c.weight - d.weight)
    w = w / matching if matching else 0.0
    n = max(len(ka), len(kb))
    if n < config.normalize_threshold:
        n = 1
    unmatched = len(ka) + len(kb) - 2 * matching
    if config.c1 == config.c2:  # E and D need not be told apart
        return config.c1 * unmatched / n + config.c3 * w
    cutoff = min(max(ka, default=-1), max(kb, default=-1))
    excess = sum(1 for k in ka if k > cutoff) + sum(1 for k in kb if k > cutoff)
    return config.c1 * excess / n + config.c2 * (unmatched - excess) / n + config.c3 * w


def random_genome(config: NeatConfig, rng: np.random.Generator, *, rounds: int = 5) -> Genome:
    """A random genome grown from :func:`~.genome.initial_genome` by ``rounds`` of add-node,
    add-connection and weight mutation (for tests and for seeding varied populations)."""
    genome = initial_genome(config, rng)
    tracker = initial_tracker(config)
    for _ in range(rounds):
        mut_add_node(genome, rng, config, tracker)
        mut_add_connection(genome, rng, config, tracker)
        mut_weights(genome, rng, config)
    return genome
