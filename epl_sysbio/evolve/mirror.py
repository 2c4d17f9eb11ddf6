"""A HyperNEAT sanity task with a known answer: connect each substrate node to its mirror image.

The substrate is a ``side x side`` grid in [-1, 1]^2 (no coordinate is 0);
every ordered pair of distinct nodes is a candidate, and the target
connectivity links ``(x, y)`` to ``(-x, y)`` only. The CPPN (inputs
``x1, y1, x2, y2``; outputs weight and LEO, with gauss output activation so
that ``leo`` lies in (0, 1]) expresses a link where ``leo > 0.5``. It is
scored by balanced agreement with the target, hard (expressed or not) plus a
soft term that rewards moving ``leo`` the right way:

    balanced(e) = (mean of e over target links + mean of 1 - e over the other pairs) / 2
    fitness     = balanced(leo > 0.5) + balanced(leo) / 2

and the task is solved when the expressed links are exactly the target ones.
"""

from __future__ import annotations

import numpy as np

from .config import CPPN_NEAT_CHOICES, NeatConfig
from .cppn import compile_genome
from .genome import Genome
from .hyperneat import HyperNeatConfig, Substrate

__all__ = ["mirror_substrate", "mirror_target", "mirror_fitness", "mirror_neat_config", "MIRROR_EXPRESSION"]

#: Expression rule of the task: links where the LEO output (index 1) exceeds 0.5.
MIRROR_EXPRESSION = HyperNeatConfig(use_leo=True, leo_threshold=0.5, weight_output=0, leo_output=1)


def mirror_substrate(side: int = 4) -> Substrate:
    """A ``side x side`` grid, every ordered pair of distinct nodes a candidate."""
    ticks = np.linspace(-1.0, 1.0, side)
    if side % 2:
        ticks = ticks[ticks != 0.0]
    xx, yy = np.meshgrid(ticks, ticks, indexing="ij")
    return Substrate.all_pairs(np.column_stack([xx.ravel(), yy.ravel()]))


def mirror_target(substrate: Substrate) -> np.ndarray:
    """Boolean (n_pairs,): whether candidate pair k joins a node to its mirror image across x = 0."""
    c = substrate.coordinates
    a, b = c[substrate.sources], c[substrate.targets]
    return np.isclose(a[:, 0], -b[:, 0]) & np.isclose(a[:, 1], b[:, 1])


def mirror_neat_config(**changes: object) -> NeatConfig:
    """NEAT options of the task: 4 inputs, 2 gauss outputs, hidden activations mutating among six."""
    options = dict(n_inputs=4, n_outputs=2, output_activation="gauss",
                   activations=("sigmoid", "tanh", "sin", "gauss", "abs", "identity"),
                   activation_mutation_rate=0.1, **CPPN_NEAT_CHOICES)
    return NeatConfig(**{**options, **changes})


_SUBSTRATE = mirror_substrate()
_TARGET = mirror_target(_SUBSTRATE)


def mirror_fitness(genome: Genome, seed: int) -> tuple[float, bool]:
    """``(fitness, solved)`` of a CPPN genome (4 inputs, 2 outputs) on the 4x4 mirror task."""
    net = compile_genome(genome)
    c = _SUBSTRATE.coordinates
    leo = net(np.hstack([c[_SUBSTRATE.sources], c[_SUBSTRATE.targets]]))[:, 1]
    hard = (leo > MIRROR_EXPRESSION.leo_threshold).astype(np.float64)
    fitness = _balanced(hard) + 0.5 * _balanced(leo)
    return float(fitness), bool(np.array_equal(hard > 0, _TARGET))


def _balanced(e: np.ndarray) -> float:
    return 0.5 * (e[_TARGET].mean() + (1.0 - e[~_TARGET]).mean())
