"""Fitness functions for the evolve tests; module-level so that worker processes can import them."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import numpy as np

from epl_sysbio.evolve import Evaluation, Genome, xor_fitness


def noisy_xor(genome: Genome, seed: int) -> float:
    """XOR fitness plus seed-dependent noise: results depend on the seed, so seeds must match across executors."""
    value, _ = xor_fitness(genome, seed)
    return value + np.random.default_rng(seed).normal(0.0, 0.01)


def faulty(genome: Genome, seed: int) -> float:
    """Raises, returns NaN or sleeps past a time limit depending on the seed."""
    kind = seed % 7
    if kind == 0:
        raise ValueError("boom")
    if kind == 1:
        return float("nan")
    if kind == 2:
        time.sleep(5.0)
    return noisy_xor(genome, seed)


class KillWorkerOnce:
    """Evaluates like :func:`noisy_xor`, but the first evaluation in a worker process kills that process."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self, genome: Genome, seed: int) -> float:
        if multiprocessing.parent_process() is not None:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                time.sleep(0.2)  # mid-generation: let other tasks start first
                os._exit(1)
        return noisy_xor(genome, seed)


def marker_pid(marker: str) -> int:
    return int(Path(marker).read_text())


class KillOnSeed:
    """Kills its worker process whenever it evaluates ``seed`` (a task that can never finish)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, genome: Genome, seed: int) -> float:
        if seed == self.seed and multiprocessing.parent_process() is not None:
            os._exit(1)
        return noisy_xor(genome, seed)


class HangOnSeed:
    """Spins in a loop that no signal interrupts (like NLEQ2 in native code) when it evaluates ``seed``."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, genome: Genome, seed: int) -> float:
        if seed == self.seed and multiprocessing.parent_process() is not None:
            import signal

            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # as if stuck in C: no handler runs
            while True:
                pass
        return noisy_xor(genome, seed)


_HOARD: list[bytes] = []


def leaky_xor(genome: Genome, seed: int) -> float:
    """:func:`noisy_xor` that leaks 4 MB per call, as native code can (nothing frees it)."""
    _HOARD.append(os.urandom(4 * 1024 * 1024))
    return noisy_xor(genome, seed)


def rounded_xor(genome: Genome, seed: int) -> float:
    """XOR fitness rounded to one decimal: the best stops improving early (population-wide stagnation)."""
    return round(xor_fitness(genome, seed)[0], 1)


def xor_with_outputs(genome: Genome, seed: int) -> Evaluation:
    """XOR fitness that hands back the network's four outputs as the evaluation's info."""
    from epl_sysbio.evolve import compile_genome
    from epl_sysbio.evolve.xor import XOR_INPUTS

    value, solved = xor_fitness(genome, seed)
    return Evaluation(value, solved, info={"seed": seed, "outputs": compile_genome(genome)(XOR_INPUTS)[:, 0].tolist()})
