"""Speciation, fitness sharing, stagnation, offspring allocation and elitism."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.evolve import NeatConfig, Species, initial_genome, initial_tracker, reproduce, speciate
from epl_sysbio.evolve.species import adjust_threshold, allocate_offspring, shared_fitness, update_stagnation

from test_evolve_operators import build

CONFIG = NeatConfig()


def population_of_two_kinds() -> list:
    # kind A: 3 genes; kind B: 3 extra genes (distance 3 + small weight term > 3.0)
    a = [build([(0, 0, 3, 0.1 * i), (1, 1, 3, 0.5), (2, 2, 3, 0.2)]) for i in range(4)]
    b = [build([(0, 0, 3, 0.1 * i), (1, 1, 3, 0.5), (2, 2, 3, 0.2), (7, 0, 4, 1.0), (8, 4, 3, 1.0),
                (9, 1, 4, 1.0)]) for i in range(3)]
    return [a[0], b[0], a[1], a[2], b[1], a[3], b[2]]


def test_speciation_groups_by_distance_in_declared_order():
    pop = population_of_two_kinds()
    species, next_id = speciate(pop, [], 3.0, CONFIG, 0, 0)
    assert [s.id for s in species] == [0, 1] and next_id == 2
    assert species[0].members == [0, 2, 3, 5] and species[1].members == [1, 4, 6]
    assert species[0].representative is pop[0] and species[1].representative is pop[1]
    # determinism: the same input gives the same partition, and existing species keep their ids
    again, _ = speciate(pop, [], 3.0, CONFIG, 0, 0)
    assert [s.members for s in again] == [s.members for s in species]
    kept, next_id = speciate(pop[::-1], species, 3.0, CONFIG, 1, next_id)
    assert [s.id for s in kept] == [0, 1] and next_id == 2
    # a tighter threshold splits more
    split, _ = speciate(pop, [], 0.001, CONFIG, 0, 0)
    assert len(split) == 7


def test_fitness_sharing_divides_by_species_size():
    species = [Species(0, None, 0, members=[0, 2, 3]), Species(1, None, 0, members=[1])]
    shared = shared_fitness(np.array([3.0, 4.0, 6.0, 0.0]), species)
    np.testing.assert_allclose(shared, [1.0, 4.0, 2.0, 0.0])
    # negative fitness is shifted by the minimum first
    np.testing.assert_allclose(shared_fitness(np.array([-1.0, 1.0, 2.0, -1.0]), species), [0.0, 2.0, 1.0, 0.0])


def test_offspring_allocation_is_proportional_and_exact():
    counts = allocate_offspring([1.0, 2.0, 1.0], 150)
    assert counts.sum() == 150 and list(counts) == [38, 75, 37]
    assert list(allocate_offspring([0.0, 0.0], 5)) == [3, 2]


def test_stagnant_species_are_removed_but_the_best_is_protected():
    cfg = NeatConfig(stagnation_generations=15, protected_species=1)
    s0 = Species(0, None, 0, best_fitness=10.0, last_improved=0, members=[0])
    s1 = Species(1, None, 0, best_fitness=5.0, last_improved=0, members=[1])
    s2 = Species(2, None, 0, best_fitness=1.0, last_improved=0, members=[2])
    fitness = np.array([9.0, 4.0, 2.0])  # only s2 improves
    alive = update_stagnation([s0, s1, s2], fitness, 15, cfg)
    assert [s.id for s in alive] == [0, 2]  # s1 stagnant for 15 generations; s0 stagnant but best
    assert s2.best_fitness == 2.0 and s2.last_improved == 15
    assert [s.id for s in update_stagnation([s0, s1, s2], fitness, 14, cfg)] == [0, 1, 2]


def test_adaptive_threshold_moves_towards_target():
    cfg = NeatConfig(target_species=5, threshold_step=0.5, min_threshold=0.5)
    assert adjust_threshold(3.0, 8, cfg) == 3.5
    assert adjust_threshold(3.0, 2, cfg) == 2.5
    assert adjust_threshold(0.6, 2, cfg) == 0.5
    assert adjust_threshold(3.0, 2, NeatConfig()) == 3.0


def test_reproduce_keeps_species_champions_and_population_size():
    cfg = NeatConfig(population_size=20)
    rng = np.random.default_rng(0)
    pop = [initial_genome(cfg, rng) for _ in range(20)]
    fitness = rng.uniform(0, 10, 20)
    for g, f in zip(pop, fitness):
        g.fitness.values = (f,)
    species, _ = speciate(pop, [], 3.0, cfg, 0, 0)
    assert len(species) == 1
    champion = pop[int(np.argmax(fitness))]
    children, alive = reproduce(pop, fitness, species, 0, cfg, rng, initial_tracker(cfg))
    assert len(children) == 20 and alive == species
    assert children[0] == champion and children[0] is not champion
    assert all(not c.fitness.valid or c is children[0] for c in children)
    # reproducible with the same generator state
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    c1, _ = reproduce(pop, fitness, speciate(pop, [], 3.0, cfg, 0, 0)[0], 0, cfg, rng1, initial_tracker(cfg))
    c2, _ = reproduce(pop, fitness, speciate(pop, [], 3.0, cfg, 0, 0)[0], 0, cfg, rng2, initial_tracker(cfg))
    assert c1 == c2


def test_small_species_get_no_elite():
    cfg = NeatConfig(population_size=4, species_elitism_min_size=5)
    rng = np.random.default_rng(1)
    pop = [initial_genome(cfg, rng) for _ in range(4)]
    fitness = np.array([1.0, 2.0, 3.0, 4.0])
    for g, f in zip(pop, fitness):
        g.fitness.values = (f,)
    species, _ = speciate(pop, [], 3.0, cfg, 0, 0)
    cfg_no_mut = NeatConfig(population_size=4, weight_mutation_rate=1.0, weight_perturb_fraction=1.0,
                            crossover_rate=0.0, add_node_rate=0.0, add_connection_rate=0.0)
    children, _ = reproduce(pop, fitness, species, 0, cfg_no_mut, rng, initial_tracker(cfg))
    assert all(c != pop[3] for c in children)  # every child mutated: no unchanged elite


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_interspecies_mating_rate_is_respected(rate):
    # species A (4 members, 3 genes) gets 3 children, B (3 members, 6 genes) 4; the fitter
    # parent gives the structure, and B's parent is fitter: with rate 0 exactly 4 children
    # have B's structure, with rate 1 A's children also mate with B
    cfg = NeatConfig(population_size=7, crossover_rate=1.0, interspecies_mating_rate=rate, weight_mutation_rate=0.0,
                     add_node_rate=0.0, add_connection_rate=0.0, species_elitism_min_size=100)
    pop = population_of_two_kinds()
    fitness = np.arange(7, dtype=float)
    for g, f in zip(pop, fitness):
        g.fitness.values = (f,)
    species, _ = speciate(pop, [], 3.0, cfg, 0, 0)
    children, _ = reproduce(pop, fitness, species, 0, cfg, np.random.default_rng(3), initial_tracker(cfg))
    assert len(children) == 7
    b_children = sum(7 in c.connections for c in children)
    assert b_children == 4 if rate == 0.0 else b_children > 4


def test_only_species_of_more_than_five_keep_their_champion():
    # paper: "The champion of each species with more than five networks was copied ... unchanged"
    assert NeatConfig().species_elitism_min_size == 6
    for size, elite in ((5, False), (6, True)):
        cfg = NeatConfig(population_size=size, weight_mutation_rate=1.0, weight_perturb_fraction=1.0,
                         crossover_rate=0.0, add_node_rate=0.0, add_connection_rate=0.0)
        rng = np.random.default_rng(2)
        pop = [initial_genome(cfg, rng) for _ in range(size)]
        fitness = np.arange(1.0, size + 1.0)
        species, _ = speciate(pop, [], 3.0, cfg, 0, 0)
        children, _ = reproduce(pop, fitness, species, 0, cfg, rng, initial_tracker(cfg))
        assert (children[0] == pop[-1]) is elite


def test_refocus_lets_only_the_two_best_species_reproduce_and_restarts_their_clocks():
    cfg = NeatConfig(population_size=9, species_elitism_min_size=100)
    rng = np.random.default_rng(4)
    pop = [initial_genome(cfg, rng) for _ in range(9)]
    # all three stagnant for 30 generations (best 10 never reached again): refocus still breeds the top two
    species = [Species(i, pop[3 * i], 0, best_fitness=10.0, last_improved=0, members=list(range(3 * i, 3 * i + 3)))
               for i in range(3)]
    fitness = np.array([1.0, 1, 1, 5, 5, 5, 3, 3, 3])
    children, alive = reproduce(pop, fitness, species, 30, cfg, rng, initial_tracker(cfg), refocus=True)
    assert [s.id for s in alive] == [1, 2] and len(children) == 9
    assert [s.last_improved for s in alive] == [30, 30]
