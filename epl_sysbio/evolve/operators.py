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
    """Perturb or replace every connection weight (paper: 90 % perturbed, 10 % new values).

    for each connection:
        with probability ``weight_perturb_fraction``: w += U(-weight_perturb_power, weight_perturb_power)
        otherwise:                                  w  = U(-weight_replace_power, weight_replace_power)
        w = clip(w, -weight_max, weight_max)

    With the default ``weight_replace_power`` (2.5, the perturbation power) a
    new value is distributed as Stanley's code draws it (its "cold" mutation
    sets the weight to a perturbation-sized draw).
    """
    conns = [genome.connections[k] for k in sorted(genome.connections)]
    n = len(conns)
    perturb = rng.random(n) < config.weight_perturb_fraction
    delta = rng.uniform(-config.weight_perturb_power, config.weight_perturb_power, n)
    fresh = rng.uniform(-config.weight_replace_power, config.weight_replace_power, n)
    for c, p, d, f in zip(conns, perturb.tolist(), delta.tolist(), fresh.tolist(), strict=True):
        w = c.weight + d if p else f
        c.weight = min(max(w, -config.weight_max), config.weight_max)
    return (genome,)


#: Below this many connection genes, ``split_choice = "oldest_first"`` walks from the oldest gene
#: and stops at each candidate with probability SPLIT_STOP (Stanley's code, 2001).
SPLIT_WALK_GENES, SPLIT_STOP = 15, 0.7


def _connection_to_split(genome: Genome, rng: np.random.Generator, config: NeatConfig) -> int | None:
    """Innovation number of the connection add-node splits (None: no split this time)."""
    bias = genome.n_inputs
    keys = sorted(genome.connections)
    candidates = [k for k in keys if genome.connections[k].enabled and genome.connections[k].src != bias]
    if not candidates:
        return None
    if config.split_choice == "oldest_first" and len(keys) < SPLIT_WALK_GENES:
        # Stanley's code: "We bias the search towards older genes because this
        # encourages splitting to distribute evenly"; a walk past the newest gene splits nothing
        for k in candidates:
            if rng.random() < SPLIT_STOP:
                return k
        return None
    return candidates[rng.integers(len(candidates))]


def mut_add_node(genome: Genome, rng: np.random.Generator, config: NeatConfig,
                 tracker: InnovationTracker) -> tuple[Genome]:
    """Split an enabled connection ``a -> b`` into ``a -> new -> b``.

    Which connection (``config.split_choice``)::

        "oldest_first": in a genome of fewer than 15 connection genes, walk the
                        candidates oldest first and take each with p = 0.7 (none
                        if the walk runs off the end); otherwise one at random
        "uniform":      one at random

    Candidates are the enabled connections not from the bias (a node fed by
    the bias alone is a constant; Stanley's code skips them too). The old
    connection is disabled; ``a -> new`` gets weight 1 and ``new -> b`` the
    old weight, so the network's function barely changes (paper, section 3.2).
    The new node draws its activation uniformly from ``config.activations``.
    """
    k = _connection_to_split(genome, rng, config)
    if k is None:
        return (genome,)
    old = genome.connections[k]
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


def cx_neat(fitter: Genome, other: Genome, rng: np.random.Generator, config: NeatConfig, *,
            equal_fitness: bool = False) -> tuple[Genome]:
    """NEAT crossover: align genes by innovation number (Stanley & Miikkulainen 2002, section 3.2, Fig. 4).

    The rule::

        average = (w.p. crossover_average_rate)
        for each innovation k held by fitter or other:
            matching (both hold k):  if average: a new, enabled gene with the mean weight
                                     else:       a copy of either parent's gene (50/50), enabled bit included
                                     then, if k is disabled in either parent, by ``disabled_gene_rule``:
                                       "chosen": disable it w.p. disable_inherited_rate (Stanley's code)
                                       "either": enabled iff a draw spares it (p = 1 - disable_inherited_rate)
            disjoint or excess:      fitter's gene; other's too if equal_fitness and equal_fitness_union
                                     (skipped if it would close a cycle in a feed-forward genome)

    With "chosen" (the default) a gene disabled in one parent comes back
    enabled in 25 % of averaging crossovers and 12.5 % of the others, and one
    disabled in both only in 25 % of averaging crossovers (rate 0.75): the
    paper's "75% chance that an inherited gene was disabled if it was
    disabled in either parent" as Stanley's code applies it
    (``mate_multipoint`` and ``mate_multipoint_avg``). "either" is the literal
    reading: 25 % of every such gene comes back.

    With unequal fitness the child has exactly the fitter parent's structure,
    so a feed-forward child stays acyclic. ``equal_fitness`` follows the
    paper's Fig. 4, where equal parents pass on the disjoint and excess genes
    of both. Nodes are the fitter parent's (plus the other's that its
    inherited genes need); a hidden node both parents hold takes its
    activation from either.
    """
    average = config.crossover_average_rate > 0 and rng.random() < config.crossover_average_rate
    literal = config.disabled_gene_rule == "either"
    connections = {}
    for k in sorted(fitter.connections):
        a = fitter.connections[k]
        b = other.connections.get(k)
        if b is None:
            child = a.copy()
        else:
            if average:  # a new gene with the mean weight: it starts enabled
                child = ConnectionGene(k, a.src, a.dst, 0.5 * (a.weight + b.weight))
            else:        # one parent's copy, enabled bit included
                child = (a if rng.random() < 0.5 else b).copy()
            if not (a.enabled and b.enabled):
                if literal:
                    child.enabled = not (rng.random() < config.disable_inherited_rate)
                elif rng.random() < config.disable_inherited_rate:
                    child.enabled = False
        connections[k] = child
    nodes = {}
    for i in sorted(fitter.nodes):
        n = fitter.nodes[i]
        m = other.nodes.get(i)
        nodes[i] = n if m is None or n.kind != HIDDEN or rng.random() < 0.5 else m
    child = Genome(fitter.n_inputs, fitter.n_outputs, nodes, connections)
    if equal_fitness and config.equal_fitness_union:
        pairs = {(c.src, c.dst) for c in connections.values()}
        for k in sorted(set(other.connections) - set(fitter.connections)):
            c = other.connections[k]
            # a node split in both parents in different generations gives the same link two numbers
            if (c.src, c.dst) in pairs or (not config.recurrent and creates_cycle(child, c.src, c.dst)):
                continue
            for i in (c.src, c.dst):
                nodes.setdefault(i, other.nodes[i])
            connections[k] = c.copy()
            pairs.add((c.src, c.dst))
    return (child,)


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
    common = ka.keys() & kb.keys()
    matching = len(common)
    w = sum([abs(ka[k].weight - kb[k].weight) for k in sorted(common)]) / matching if matching else 0.0
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
