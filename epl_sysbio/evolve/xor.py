"""The XOR task of the NEAT paper, as a fitness function of (genome, seed).

Fitness is ``(4 - sum |output - target|)^2`` (Stanley & Miikkulainen 2002,
section 4.1); the task is solved when all four outputs fall on the correct
side of 0.5.
"""

from __future__ import annotations

import numpy as np

from .cppn import compile_genome
from .genome import Genome

__all__ = ["XOR_INPUTS", "XOR_TARGETS", "xor_fitness", "xor_solved"]

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])


def xor_solved(out: list[float]) -> bool:
    """True when all four outputs (in ``XOR_INPUTS`` order) fall on the correct side of 0.5."""
    return out[0] <= 0.5 and out[1] > 0.5 and out[2] > 0.5 and out[3] <= 0.5


def xor_fitness(genome: Genome, seed: int) -> tuple[float, bool]:
    """``(fitness, solved)`` of a feed-forward genome on XOR (the seed is unused: XOR is deterministic)."""
    out = compile_genome(genome)(XOR_INPUTS)[:, 0].tolist()
    error = abs(out[0]) + abs(1.0 - out[1]) + abs(1.0 - out[2]) + abs(out[3])
    return (4.0 - error) ** 2, xor_solved(out)
