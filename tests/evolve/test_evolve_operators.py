"""Genomes, innovation numbers, mutations, crossover alignment and compatibility distance."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.evolve import (
    ConnectionGene,
    Genome,
    InnovationTracker,
    NeatConfig,
    NodeGene,
    compatibility_distance,
    cx_neat,
    initial_genome,
    initial_tracker,
    mut_add_connection,
    mut_add_node,
    mut_weights,
)
from epl_sysbio.evolve.genome import BIAS, HIDDEN, INPUT, OUTPUT, genomes_from_arrays, genomes_to_arrays
from epl_sysbio.evolve.operators import creates_cycle

CONFIG = NeatConfig()
CHOOSE = NeatConfig(crossover_average_rate=0.0)  # every matching gene copied from one parent
SPLIT_ANY = NeatConfig(split_choice="uniform")   # add-node always splits when it can


def build(conns: list[tuple], hidden: tuple[int, ...] = (4, 5)) -> Genome:
    """Two inputs (0, 1), bias 2, output 3, hidden nodes; conns are (innovation, src, dst, weight[, enabled])."""
    nodes = {0: NodeGene(0, INPUT, "identity"), 1: NodeGene(1, INPUT, "identity"),
             2: NodeGene(2, BIAS, "identity"), 3: NodeGene(3, OUTPUT, "sigmoid")}
    for h in hidden:
        nodes[h] = NodeGene(h, HIDDEN, "sigmoid")
    return Genome(2, 1, nodes, {c[0]: ConnectionGene(*c) for c in conns})


# The two parents of Figure 4 of Stanley & Miikkulainen (2002), nodes renumbered
# (paper 1, 2, 3 -> inputs 0, 1 and bias 2; paper 4 -> output 3; paper 5, 6 -> hidden 4, 5).
PARENT1 = build([(1, 0, 3, 0.1), (2, 1, 3, 0.2, False), (3, 2, 3, 0.3), (4, 1, 4, 0.4), (5, 4, 3, 0.5),
                 (8, 0, 4, 0.8)])
PARENT2 = build([(1, 0, 3, -0.1), (2, 1, 3, -0.2, False), (3, 2, 3, -0.3), (4, 1, 4, -0.4),
                 (5, 4, 3, -0.5, False), (6, 4, 5, -0.6), (7, 5, 3, -0.7), (9, 2, 4, -0.9), (10, 0, 5, -1.0)])


def test_compatibility_distance_matches_hand_computation():
    # excess {9, 10}, disjoint {6, 7, 8}, W = mean |0.1k + 0.1k| over k = 1..5 = 0.6
    assert compatibility_distance(PARENT1, PARENT2, CONFIG) == pytest.approx(2 + 3 + 0.4 * 0.6)
    assert compatibility_distance(PARENT2, PARENT1, CONFIG) == pytest.approx(2 + 3 + 0.4 * 0.6)
    # with N normalisation (9 genes in the larger genome)
    cfg = NeatConfig(normalize_threshold=5, c1=2.0, c2=0.5, c3=1.0)
    assert compatibility_distance(PARENT1, PARENT2, cfg) == pytest.approx(2.0 * 2 / 9 + 0.5 * 3 / 9 + 0.6)
    assert compatibility_distance(PARENT1, PARENT1, CONFIG) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_crossover_aligns_matching_disjoint_and_excess_genes(seed):
    rng = np.random.default_rng(seed)
    (child,) = cx_neat(PARENT1, PARENT2, rng, CHOOSE)
    # disjoint and excess genes come from the fitter parent only
    assert sorted(child.connections) == [1, 2, 3, 4, 5, 8]
    for k in (1, 2, 3, 4, 5):  # matching: from either parent, endpoints equal
        assert child.connections[k].weight in (PARENT1.connections[k].weight, PARENT2.connections[k].weight)
        assert (child.connections[k].src, child.connections[k].dst) == (PARENT1.connections[k].src,
                                                                         PARENT1.connections[k].dst)
    assert child.connections[8].weight == 0.8
    (child2,) = cx_neat(PARENT2, PARENT1, rng, CHOOSE)
    assert sorted(child2.connections) == [1, 2, 3, 4, 5, 6, 7, 9, 10]
    assert child2.connections[10].weight == -1.0
    # parents untouched
    assert PARENT1.connections[1].weight == 0.1 and PARENT2.connections[1].weight == -0.1


def test_crossover_mixes_parents():
    rng = np.random.default_rng(0)
    from_parent1, averaged, n = 0, 0, 4000
    for _ in range(n):
        (child,) = cx_neat(PARENT1, PARENT2, rng, CONFIG)
        from_parent1 += child.connections[1].weight > 0
        averaged += child.connections[1].weight == 0.0
    assert abs(averaged / n - CONFIG.crossover_average_rate) < 0.03
    assert abs(from_parent1 / (n - averaged) - 0.5) < 0.04


def test_innovation_numbers_are_shared_within_a_generation():
    rng = np.random.default_rng(1)
    tracker = InnovationTracker(20, 10)
    a = build([(1, 0, 3, 0.5)], hidden=())
    b = build([(1, 0, 3, -0.5)], hidden=())
    mut_add_node(a, rng, SPLIT_ANY, tracker)
    mut_add_node(b, rng, SPLIT_ANY, tracker)
    assert sorted(a.connections) == sorted(b.connections) == [1, 20, 21]
    assert set(a.nodes) == set(b.nodes) and 10 in a.nodes
    assert not a.connections[1].enabled and a.connections[20].weight == 1.0 and a.connections[21].weight == 0.5
    # same new connection in two genomes: same number; a different one: a new number
    assert tracker.connection(1, 10) == tracker.connection(1, 10) == 22
    assert tracker.connection(2, 10) == 23
    # next generation: the same mutation gets new numbers
    tracker.new_generation()
    c = build([(1, 0, 3, 0.5)], hidden=())
    mut_add_node(c, rng, SPLIT_ANY, tracker)
    assert sorted(c.connections) == [1, 24, 25] and 11 in c.nodes


def test_splitting_the_same_connection_twice_in_one_genome_gets_fresh_numbers():
    rng = np.random.default_rng(2)
    tracker = InnovationTracker(20, 10)
    g = build([(1, 0, 3, 0.5)], hidden=())
    mut_add_node(g, rng, SPLIT_ANY, tracker)
    g.connections[1].enabled = True
    g.connections[20].enabled = g.connections[21].enabled = False
    mut_add_node(g, rng, SPLIT_ANY, tracker)
    assert len(g.nodes) == 6 and len(g.connections) == 5


def test_add_connection_keeps_feed_forward_genomes_acyclic():
    rng = np.random.default_rng(3)
    cfg = NeatConfig()
    g = initial_genome(cfg, rng)
    tracker = initial_tracker(cfg)
    for _ in range(30):
        mut_add_node(g, rng, cfg, tracker)
        mut_add_connection(g, rng, cfg, tracker)
    for c in g.connections.values():
        others = build([], hidden=())
        others.connections = {k: d for k, d in g.connections.items() if d is not c}
        assert not creates_cycle(others, c.src, c.dst)
    pairs = [(c.src, c.dst) for c in g.connections.values()]
    assert len(pairs) == len(set(pairs))


def test_weight_mutation_perturbs_and_clips():
    rng = np.random.default_rng(4)
    cfg = NeatConfig(weight_perturb_fraction=1.0, weight_perturb_power=100.0, weight_max=3.0)
    g = initial_genome(cfg, rng)
    mut_weights(g, rng, cfg)
    assert all(abs(c.weight) == 3.0 for c in g.connections.values())


def test_genome_arrays_round_trip_keeps_order_and_fitness():
    g = PARENT2.copy()
    g.fitness.values = (2.5,)
    (back, back1) = genomes_from_arrays(genomes_to_arrays([g, PARENT1]))
    assert back == g and back1 == PARENT1
    assert list(back.connections) == list(g.connections)
    assert back.fitness.values == (2.5,) and not back1.fitness.valid


def test_averaging_crossover_gives_mean_weights_and_re_enables_at_the_paper_rate():
    # Stanley's mate_multipoint_avg: matching genes get the mean weight and start enabled;
    # a gene disabled in either parent is then disabled with p = 0.75 (so 25 % come back)
    cfg = NeatConfig(crossover_average_rate=1.0)
    rng = np.random.default_rng(6)
    enabled2, n = 0, 4000
    for _ in range(n):
        (child,) = cx_neat(PARENT1, PARENT2, rng, cfg)
        assert child.connections[1].weight == pytest.approx(0.0)
        assert child.connections[4].weight == pytest.approx(0.0) and child.connections[4].enabled
        enabled2 += child.connections[2].enabled  # disabled in both parents
    assert abs(enabled2 / n - (1 - cfg.disable_inherited_rate)) < 0.03


def test_choosing_crossover_keeps_a_gene_disabled_in_both_parents_disabled():
    # Stanley's mate_multipoint: the chosen parent's gene, enabled bit included; disabled
    # in one parent only: enabled iff the enabled copy is chosen and the 0.75 draw spares it
    cfg = NeatConfig(crossover_average_rate=0.0)
    rng = np.random.default_rng(7)
    enabled5, n = 0, 4000
    for _ in range(n):
        (child,) = cx_neat(PARENT1, PARENT2, rng, cfg)
        assert not child.connections[2].enabled
        enabled5 += child.connections[5].enabled
    assert abs(enabled5 / n - 0.5 * (1 - cfg.disable_inherited_rate)) < 0.03


def test_equally_fit_parents_pass_on_the_disjoint_and_excess_genes_of_both():
    # the paper's Figure 4 ("equal fitnesses are assumed"): the offspring holds genes 1-10
    (child,) = cx_neat(PARENT1, PARENT2, np.random.default_rng(8), CONFIG, equal_fitness=True)
    assert sorted(child.connections) == list(range(1, 11))
    assert child.connections[8].weight == 0.8 and child.connections[10].weight == -1.0
    assert {4, 5} <= set(child.nodes)


def test_weight_replacement_draws_like_a_perturbation():
    # a new random value (10 % of weights in the paper) is U(-2.5, 2.5) by default, as Stanley's "cold"
    # mutation; weight_replace_power sets another range
    for power in (NeatConfig().weight_replace_power, 1.0):
        cfg = NeatConfig(weight_perturb_fraction=0.0, weight_replace_power=power)
        g = build([(k, 0, 3, 100.0) for k in range(1, 2001)], hidden=())
        mut_weights(g, np.random.default_rng(9), cfg)
        w = np.array([c.weight for c in g.connections.values()])
        assert np.abs(w).max() <= power and abs(np.abs(w).mean() - power / 2) < 0.05 * power
    assert NeatConfig().weight_replace_power == NeatConfig().weight_perturb_power


def test_literal_disabled_gene_rule_re_enables_a_quarter_of_disabled_genes():
    cfg = NeatConfig(crossover_average_rate=0.0, disabled_gene_rule="either")
    rng = np.random.default_rng(11)
    enabled2, n = 0, 4000
    for _ in range(n):
        (child,) = cx_neat(PARENT1, PARENT2, rng, cfg)
        enabled2 += child.connections[2].enabled  # disabled in both parents
    assert abs(enabled2 / n - (1 - cfg.disable_inherited_rate)) < 0.03


def test_equal_fitness_union_can_be_turned_off():
    cfg = NeatConfig(equal_fitness_union=False)
    (child,) = cx_neat(PARENT1, PARENT2, np.random.default_rng(8), cfg, equal_fitness=True)
    assert sorted(child.connections) == [1, 2, 3, 4, 5, 8]


@pytest.mark.parametrize("choice", ["oldest_first", "uniform"])
def test_add_node_split_choice(choice):
    # oldest_first (Stanley's code, genomes under 15 genes): the oldest candidate with p = 0.7,
    # the next with 0.3 * 0.7, none with 0.3 ** 2; uniform: each candidate with 1/2
    cfg = NeatConfig(split_choice=choice)
    rng = np.random.default_rng(10)
    counts = {1: 0, 2: 0, None: 0}
    for _ in range(4000):
        g = build([(1, 0, 3, 0.5), (2, 1, 3, 0.5), (3, 2, 3, 0.5)], hidden=())  # 3 is from the bias
        mut_add_node(g, rng, cfg, InnovationTracker(20, 10))
        split = [k for k in (1, 2) if not g.connections[k].enabled]
        counts[split[0] if split else None] += 1
        assert g.connections[3].enabled
    want = {1: 0.7, 2: 0.21, None: 0.09} if choice == "oldest_first" else {1: 0.5, 2: 0.5, None: 0.0}
    for k, p in want.items():
        assert abs(counts[k] / 4000 - p) < 0.025
