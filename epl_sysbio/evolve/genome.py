"""NEAT genomes: node and connection genes, innovation numbers, array storage.

A :class:`Genome` is a plain module-level class (no ``deap.creator``), so it
pickles into worker processes. Its ``fitness`` attribute is a DEAP
:class:`~deap.base.Fitness` so DEAP's Statistics and HallOfFame work on it.

Node ids are fixed for the interface: inputs ``0 .. n_inputs-1``, the bias
input ``n_inputs`` (always 1.0), outputs ``n_inputs+1 .. n_inputs+n_outputs``;
hidden nodes take ids from the :class:`InnovationTracker`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from deap import base

from epl_sysbio.errors import CheckpointError

from .config import ACTIVATION_NAMES, NeatConfig

__all__ = [
    "INPUT",
    "BIAS",
    "OUTPUT",
    "HIDDEN",
    "NeatFitness",
    "NodeGene",
    "ConnectionGene",
    "Genome",
    "InnovationTracker",
    "initial_genome",
    "initial_tracker",
    "genomes_to_arrays",
    "genomes_from_arrays",
]

INPUT, BIAS, OUTPUT, HIDDEN = 0, 1, 2, 3


class NeatFitness(base.Fitness):
    """Single-objective, maximised fitness (module-level: pickles into workers)."""

    weights = (1.0,)


@dataclass(frozen=True, slots=True)
class NodeGene:
    """A node: its id, kind (INPUT, BIAS, OUTPUT, HIDDEN) and activation name."""

    id: int
    kind: int
    activation: str


class ConnectionGene:
    """A connection ``src -> dst`` with its innovation number, weight and enabled bit."""

    __slots__ = ("innovation", "src", "dst", "weight", "enabled")

    def __init__(self, innovation: int, src: int, dst: int, weight: float, enabled: bool = True) -> None:
        self.innovation = innovation
        self.src = src
        self.dst = dst
        self.weight = float(weight)
        self.enabled = bool(enabled)

    def copy(self) -> ConnectionGene:
        return ConnectionGene(self.innovation, self.src, self.dst, self.weight, self.enabled)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectionGene) and (
            self.innovation, self.src, self.dst, self.weight, self.enabled
        ) == (other.innovation, other.src, other.dst, other.weight, other.enabled)

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        flag = "" if self.enabled else ", disabled"
        return f"ConnectionGene({self.innovation}: {self.src}->{self.dst}, {self.weight:.3f}{flag})"


class Genome:
    """A NEAT genome: ``nodes`` by id and ``connections`` by innovation number.

    Equality compares genes (not fitness), which is what DEAP's HallOfFame
    uses to keep one copy of each distinct genome.
    """

    __slots__ = ("n_inputs", "n_outputs", "nodes", "connections", "fitness")

    def __init__(self, n_inputs: int, n_outputs: int, nodes: dict[int, NodeGene],
                 connections: dict[int, ConnectionGene]) -> None:
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.nodes = nodes
        self.connections = connections
        self.fitness = NeatFitness()

    def copy(self) -> Genome:
        """An independent copy (genes copied, fitness values kept)."""
        g = Genome(self.n_inputs, self.n_outputs, dict(self.nodes),
                   {k: c.copy() for k, c in self.connections.items()})
        if self.fitness.valid:
            g.fitness.values = self.fitness.values
        return g

    def __deepcopy__(self, memo: dict) -> Genome:  # DEAP's HallOfFame deep-copies
        return self.copy()

    def __getstate__(self) -> tuple:
        return (self.n_inputs, self.n_outputs, self.nodes, self.connections, self.fitness.values)

    def __setstate__(self, state: tuple) -> None:
        self.n_inputs, self.n_outputs, self.nodes, self.connections, values = state
        self.fitness = NeatFitness()
        if values:
            self.fitness.values = values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Genome) and self.nodes == other.nodes and self.connections == other.connections

    __hash__ = None  # mutable

    @property
    def input_ids(self) -> range:
        """Ids of the inputs followed by the bias input."""
        return range(self.n_inputs + 1)

    @property
    def output_ids(self) -> range:
        return range(self.n_inputs + 1, self.n_inputs + 1 + self.n_outputs)

    @property
    def n_hidden(self) -> int:
        return sum(1 for n in self.nodes.values() if n.kind == HIDDEN)

    @property
    def n_enabled(self) -> int:
        return sum(1 for c in self.connections.values() if c.enabled)

    def __repr__(self) -> str:
        return (f"Genome({len(self.nodes)} nodes, {self.n_hidden} hidden, "
                f"{self.n_enabled}/{len(self.connections)} connections enabled)")


class InnovationTracker:
    """Hands out innovation numbers and hidden-node ids.

    Within one generation (between calls of :meth:`new_generation`) the same
    structural mutation gets the same numbers in every genome: a new connection
    ``src -> dst`` always gets one innovation number, and splitting connection
    ``i`` always yields the same node id and in/out innovation numbers. Stanley &
    Miikkulainen (2002), section 3.2.
    """

    def __init__(self, next_innovation: int, next_node_id: int) -> None:
        self.next_innovation = int(next_innovation)
        self.next_node_id = int(next_node_id)
        self._connections: dict[tuple[int, int], int] = {}
        self._splits: dict[int, tuple[int, int, int]] = {}

    def new_generation(self) -> None:
        """Forget this generation's mutations (numbers keep increasing)."""
        self._connections.clear()
        self._splits.clear()

    def _innovation(self) -> int:
        self.next_innovation += 1
        return self.next_innovation - 1

    def connection(self, src: int, dst: int) -> int:
        """Innovation number of a new connection ``src -> dst``."""
        key = (src, dst)
        if key not in self._connections:
            self._connections[key] = self._innovation()
        return self._connections[key]

    def split(self, innovation: int, *, taken: bool = False) -> tuple[int, int, int]:
        """``(node_id, in_innovation, out_innovation)`` for splitting connection ``innovation``.

        ``taken`` asks for fresh numbers when the genome already holds the shared
        node (it split the same connection twice in one generation).
        """
        if taken or innovation not in self._splits:
            node = self.next_node_id
            self.next_node_id += 1
            numbers = (node, self._innovation(), self._innovation())
            if taken:
                return numbers
            self._splits[innovation] = numbers
        return self._splits[innovation]

    def state(self) -> dict[str, int]:
        """Counters to store in a checkpoint (taken between generations, when the caches are empty)."""
        return {"next_innovation": self.next_innovation, "next_node_id": self.next_node_id}


def initial_genome(config: NeatConfig, rng: np.random.Generator) -> Genome:
    """A minimal genome: every input and the bias connected to every output, no hidden nodes.

    Innovation ``i * n_outputs + o`` joins input ``i`` to output ``o`` in every genome.
    """
    n_in, n_out = config.n_inputs, config.n_outputs
    nodes = {i: NodeGene(i, INPUT, "identity") for i in range(n_in)}
    nodes[n_in] = NodeGene(n_in, BIAS, "identity")
    for o in range(n_out):
        nodes[n_in + 1 + o] = NodeGene(n_in + 1 + o, OUTPUT, config.output_activation)
    weights = rng.uniform(-config.weight_init_range, config.weight_init_range, size=(n_in + 1) * n_out)
    connections = {}
    for i in range(n_in + 1):
        for o in range(n_out):
            k = i * n_out + o
            connections[k] = ConnectionGene(k, i, n_in + 1 + o, weights[k])
    return Genome(n_in, n_out, nodes, connections)


def initial_tracker(config: NeatConfig) -> InnovationTracker:
    """The tracker matching :func:`initial_genome`'s numbering."""
    return InnovationTracker((config.n_inputs + 1) * config.n_outputs, config.n_inputs + 1 + config.n_outputs)


_ACT_INDEX = {name: i for i, name in enumerate(ACTIVATION_NAMES)}


def genomes_to_arrays(genomes: list[Genome]) -> dict[str, np.ndarray]:
    """Store genomes as plain arrays (no pickle).

    Returns ``nodes`` (n, 4) int64 rows ``[genome, id, kind, activation]``,
    ``connections`` (m, 5) int64 rows ``[genome, innovation, src, dst, enabled]``,
    ``weights`` (m,) float64, ``shape`` (k, 2) int64 ``[n_inputs, n_outputs]`` and
    ``fitness`` (k,) float64 (NaN where not evaluated).
    """
    nodes, conns, weights = [], [], []
    for gi, g in enumerate(genomes):
        nodes.extend([gi, n.id, n.kind, _ACT_INDEX[n.activation]] for n in g.nodes.values())
        for c in g.connections.values():
            conns.append([gi, c.innovation, c.src, c.dst, int(c.enabled)])
            weights.append(c.weight)
    return {
        "nodes": np.asarray(nodes, dtype=np.int64).reshape(-1, 4),
        "connections": np.asarray(conns, dtype=np.int64).reshape(-1, 5),
        "weights": np.asarray(weights, dtype=np.float64),
        "shape": np.asarray([[g.n_inputs, g.n_outputs] for g in genomes], dtype=np.int64).reshape(-1, 2),
        "fitness": np.asarray([g.fitness.values[0] if g.fitness.valid else np.nan for g in genomes],
                              dtype=np.float64),
    }


def genomes_from_arrays(arrays: dict[str, np.ndarray]) -> list[Genome]:
    """Inverse of :func:`genomes_to_arrays`."""
    try:
        shape, fitness = arrays["shape"], arrays["fitness"]
        genomes = [Genome(int(n_in), int(n_out), {}, {}) for n_in, n_out in shape]
        for gi, nid, kind, act in arrays["nodes"].tolist():
            genomes[gi].nodes[nid] = NodeGene(nid, kind, ACTIVATION_NAMES[act])
        for (gi, innov, src, dst, enabled), w in zip(arrays["connections"].tolist(), arrays["weights"].tolist(),
                                                     strict=True):
            genomes[gi].connections[innov] = ConnectionGene(innov, src, dst, w, bool(enabled))
    except (KeyError, IndexError, ValueError) as exc:
        raise CheckpointError(f"Genome arrays are inconsistent ({exc!r}); the checkpoint is damaged.") from exc
    for g, f in zip(genomes, fitness.tolist(), strict=True):
        if not np.isnan(f):
            g.fitness.values = (f,)
    return genomes
