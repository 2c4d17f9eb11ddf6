"""Speciation, explicit fitness sharing, stagnation and reproduction (NEAT, section 3.3).

Everything iterates in a declared order (population index, species id) and
draws from one explicit generator, so a seeded run is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import NeatConfig
from .genome import Genome, InnovationTracker
from .operators import compatibility_distance, cx_neat, mut_neat

__all__ = ["Species", "speciate", "adjust_threshold", "shared_fitness", "allocate_offspring",
           "update_stagnation", "refocus_species", "reproduce"]


@dataclass
class Species:
    """A species: its id, representative genome, members (population indices) and history."""

    id: int
    representative: Genome
    created: int
    best_fitness: float = -math.inf
    last_improved: int = 0
    members: list[int] | None = None

    def __post_init__(self) -> None:
        if self.members is None:
            self.members = []


def speciate(population: list[Genome], species: list[Species], threshold: float, config: NeatConfig,
             generation: int, next_species_id: int) -> tuple[list[Species], int]:
    """Assign each genome (in population order) to the first species (in id order) whose
    representative lies within ``threshold``; otherwise found a new species with it as representative.

    Returns the non-empty species (sorted by id) and the next free species id.
    """
    current = sorted(species, key=lambda s: s.id)
    for s in current:
        s.members = []
    for i, g in enumerate(population):
        for s in current:
            if compatibility_distance(g, s.representative, config) < threshold:
                s.members.append(i)
                break
        else:
            current.append(Species(next_species_id, g, generation, last_improved=generation, members=[i]))
            next_species_id += 1
    return [s for s in current if s.members], next_species_id


def adjust_threshold(threshold: float, n_species: int, config: NeatConfig) -> float:
    """Move the compatibility threshold one step towards ``config.target_species`` (0: keep it)."""
    if config.target_species <= 0 or n_species == config.target_species:
        return threshold
    step = config.threshold_step if n_species > config.target_species else -config.threshold_step
    return max(config.min_threshold, threshold + step)


def shared_fitness(fitness: np.ndarray, species: list[Species]) -> np.ndarray:
    """Explicit fitness sharing: ``f'_i = f_i / |S(i)|``.

    Raw fitness is first shifted by the population minimum when any value is
    negative, so that shares stay non-negative.
    """
    f = np.asarray(fitness, dtype=np.float64)
    if f.min() < 0:
        f = f - f.min()
    shared = np.empty_like(f)
    for s in species:
        shared[s.members] = f[s.members] / len(s.members)
    return shared


def update_stagnation(species: list[Species], fitness: np.ndarray, generation: int,
                      config: NeatConfig) -> list[Species]:
    """Record each species' best fitness; return the species still allowed to reproduce.

    A species stagnates when its best fitness has not improved for
    ``stagnation_generations`` generations; the ``protected_species`` best
    species (by best fitness, ties by id) never do.
    """
    for s in species:
        best = float(np.max(fitness[s.members]))
        if best > s.best_fitness:
            s.best_fitness = best
            s.last_improved = generation
    ranked = sorted(species, key=lambda s: (-s.best_fitness, s.id))
    protected = {s.id for s in ranked[: config.protected_species]}
    return [s for s in species
            if s.id in protected or generation - s.last_improved < config.stagnation_generations]


def allocate_offspring(shares: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` offspring in proportion to ``shares`` (largest remainder, ties by order)."""
    shares = np.asarray(shares, dtype=np.float64)
    if shares.sum() <= 0:
        shares = np.ones_like(shares)
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(int)
    remainder = exact - counts
    for k in np.argsort(-remainder, kind="stable")[: total - counts.sum()]:
        counts[k] += 1
    return counts


def refocus_species(species: list[Species], fitness: np.ndarray, generation: int) -> list[Species]:
    """The two species with the best fitness this generation (ties by id); their stagnation clocks restart.

    Stanley & Miikkulainen (2002): when the population's best
    fitness has not improved for more than 20 generations, "only the top two
    species are allowed to reproduce, refocusing the search into the most
    promising spaces". The clocks restart (as in Stanley's code) so that the
    per-species stagnation rule does not undo the refocus a generation later.
    """
    top = sorted(species, key=lambda s: (-float(np.max(fitness[s.members])), s.id))[:2]
    for s in top:
        s.last_improved = generation
    ids = {s.id for s in top}
    return [s for s in species if s.id in ids]


def reproduce(population: list[Genome], fitness: np.ndarray, species: list[Species], generation: int,
              config: NeatConfig, rng: np.random.Generator, tracker: InnovationTracker, *,
              refocus: bool = False) -> tuple[list[Genome], list[Species]]:
    """One NEAT generation of reproduction (Stanley & Miikkulainen 2002, sections 3.3 and 4.1).

    1. Stagnant species are dropped (or, with ``refocus``, all but the two
       best: :func:`refocus_species`); each remaining species gets offspring in
       proportion to the sum of its members' shared fitness.
    2. The champion of each species with at least ``species_elitism_min_size``
       members is copied unchanged.
    3. The rest: parents from the best ``floor(survival_threshold * size) + 1`` members; with
       probability ``crossover_rate`` a crossover and then mutation, otherwise
       mutation of a copy. With probability ``interspecies_mating_rate`` (and
       if there is another species) the second parent comes from another
       species' parents.
    4. Each surviving species' next representative is a random member of this generation.

    Returns the children and the surviving species.
    """
    tracker.new_generation()
    fitness = np.asarray(fitness, dtype=np.float64)
    alive = update_stagnation(species, fitness, generation, config)
    if refocus:
        alive = refocus_species(species, fitness, generation)
    shared = shared_fitness(fitness, species)
    counts = allocate_offspring([shared[s.members].sum() for s in alive], config.population_size)
    pools = []
    for s in alive:
        ranked = sorted(s.members, key=lambda i: (-fitness[i], i))
        pools.append(ranked[: int(config.survival_threshold * len(ranked)) + 1])
    children: list[Genome] = []
    for j, (s, pool, n) in enumerate(zip(alive, pools, counts.tolist(), strict=True)):
        if n > 0 and len(s.members) >= config.species_elitism_min_size:
            children.append(population[pool[0]].copy())
            n -= 1
        for _ in range(n):
            mom = pool[rng.integers(len(pool))]
            if rng.random() < config.crossover_rate:
                if len(alive) > 1 and rng.random() < config.interspecies_mating_rate:
                    other = pools[(j + 1 + rng.integers(len(pools) - 1)) % len(pools)]  # any species but this
                    dad = other[rng.integers(len(other))]
                else:
                    dad = pool[rng.integers(len(pool))]
                a, b = (mom, dad) if (fitness[mom], -mom) >= (fitness[dad], -dad) else (dad, mom)
                (child,) = cx_neat(population[a], population[b], rng, config,
                                   equal_fitness=bool(fitness[a] == fitness[b]))
            else:
                child = population[mom].copy()
            del child.fitness.values
            mut_neat(child, rng, config, tracker)
            children.append(child)
    for s in alive:
        s.representative = population[s.members[rng.integers(len(s.members))]].copy()
    return children, alive
