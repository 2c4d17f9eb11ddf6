"""Vectorised evaluation of NEAT genomes (CPPNs) on many query points at once.

:func:`compile_genome` turns a genome into a :class:`FeedForwardNetwork` (a
topologically ordered list of NumPy operations, one per node) or a
:class:`RecurrentNetwork` (a weight matrix iterated a fixed number of
synchronous steps). Both are called on an ``(n_queries, n_inputs)`` array and
return ``(n_queries, n_outputs)``; the bias input (1.0) is appended internally.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from scipy.special import expit

from epl_sysbio.errors import InvalidValueError, invalid_parameter_message

from .genome import Genome

__all__ = ["activation_function", "compile_genome", "FeedForwardNetwork", "RecurrentNetwork"]


def _step(x: np.ndarray) -> np.ndarray:
    return (x > 0).astype(np.float64)


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _gauss(x: np.ndarray) -> np.ndarray:
    return np.exp(-x * x)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


class _Sigmoid:
    """1/(1+exp(-slope x)), a picklable callable."""

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return expit(self.slope * x)


_FIXED: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh, "sin": np.sin, "gauss": _gauss, "abs": np.abs, "identity": _identity,
    "relu": _relu, "step": _step,
}


@functools.lru_cache(maxsize=16)
def _sigmoid(slope: float) -> _Sigmoid:
    return _Sigmoid(slope)


def activation_function(name: str, sigmoid_slope: float = 4.9) -> Callable[[np.ndarray], np.ndarray]:
    """The NumPy function of an activation name.

    sigmoid: 1/(1+exp(-slope x)) (NEAT's steepened sigmoid, slope 4.9);
    tanh; sin; gauss: exp(-x^2); abs; identity; relu: max(x, 0); step: 1 if x > 0 else 0.
    """
    if name == "sigmoid":
        return _sigmoid(sigmoid_slope)
    if name not in _FIXED:
        raise InvalidValueError(invalid_parameter_message("activation_function", "name",
                                                          f"one of {sorted([*_FIXED, 'sigmoid'])}", name))
    return _FIXED[name]


def _initial_values(inputs: np.ndarray, n_inputs: int, n_columns: int) -> np.ndarray:
    """(n_queries, n_columns) node values: the inputs, the bias (1.0), zeros for the other nodes."""
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise InvalidValueError(invalid_parameter_message("network call", "inputs",
                                                          f"an array of shape (n_queries, {n_inputs})", x.shape))
    values = np.zeros((x.shape[0], n_columns))
    values[:, :n_inputs] = x
    values[:, n_inputs] = 1.0
    return values


class FeedForwardNetwork:
    """A compiled acyclic network, evaluated layer by layer.

    Columns are ordered inputs, bias, then nodes by layer (a node's layer is
    the longest path from an input to it), so each layer is one matrix product
    and one activation call per activation present::

        values[:, start:stop] = act(values[:, :start] @ W)     # W: (start, stop - start)

    Nodes with no path to an output are dropped; an output with no input gives activation(0).
    """

    def __init__(self, n_inputs: int, n_columns: int, layers: list, output_columns: np.ndarray) -> None:
        self.n_inputs = n_inputs
        self.n_columns = n_columns
        self.layers = layers
        self.output_columns = output_columns

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        values = _initial_values(inputs, self.n_inputs, self.n_columns)
        for start, weights, groups in self.layers:
            pre = values[:, :start] @ weights
            for a, b, act in groups:
                values[:, start + a:start + b] = act(pre[:, a:b])
        return values[:, self.output_columns]


class RecurrentNetwork:
    """A compiled network with cycles, updated synchronously for ``steps`` steps from zero state.

    state_{t+1}[:, j] = act_j( sum_i state_t[:, i] W[i, j] ) for every non-input node j,
    with the inputs and bias held fixed.
    """

    def __init__(self, n_inputs: int, weights: np.ndarray, groups: list, output_columns: list[int],
                 steps: int) -> None:
        self.n_inputs = n_inputs
        self.weights = weights
        self.groups = groups
        self.output_columns = output_columns
        self.steps = steps

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        state = _initial_values(inputs, self.n_inputs, self.weights.shape[0])
        for _ in range(self.steps):
            pre = state @ self.weights
            new = state.copy()
            for cols, act in self.groups:
                new[:, cols] = act(pre[:, cols])
            state = new
        return state[:, self.output_columns]


def compile_genome(genome: Genome, *, recurrent: bool = False, steps: int = 5,
                   sigmoid_slope: float = 4.9) -> FeedForwardNetwork | RecurrentNetwork:
    """Compile a genome's enabled connections into a vectorised network.

    Parameters
    ----------
    genome : Genome
    recurrent : bool
        Compile as a recurrent network (required if the enabled connections hold a cycle).
    steps : int
        Synchronous update steps of a recurrent network.
    sigmoid_slope : float
        Slope of the "sigmoid" activation.
    """
    n_in = genome.n_inputs
    enabled = [c for c in genome.connections.values() if c.enabled]

    def act_of(nid: int) -> Callable:
        return activation_function(genome.nodes[nid].activation, sigmoid_slope)

    if recurrent:
        order = list(genome.input_ids) + [i for i in sorted(genome.nodes) if i > n_in]
        col = {nid: c for c, nid in enumerate(order)}
        w = np.zeros((len(order), len(order)))
        for c in enabled:
            w[col[c.src], col[c.dst]] += c.weight
        by_act: dict[str, list[int]] = {}
        for nid in order[n_in + 1:]:
            by_act.setdefault(genome.nodes[nid].activation, []).append(col[nid])
        groups = [(np.asarray(cols), act_of(order[cols[0]])) for _, cols in sorted(by_act.items())]
        return RecurrentNetwork(n_in, w, groups, [col[i] for i in genome.output_ids], steps)

    incoming: dict[int, list[tuple[int, float]]] = {}
    for c in enabled:
        incoming.setdefault(c.dst, []).append((c.src, c.weight))
    # layer of a node = longest path from an input; only nodes that feed an output are kept
    layer = dict.fromkeys(genome.input_ids, 0)
    visiting: set[int] = set()

    def depth(n: int) -> int:
        if n in layer:
            return layer[n]
        if n in visiting:
            raise InvalidValueError(f"Genome has a cycle through node {n}; compile it with recurrent=True.")
        visiting.add(n)
        layer[n] = 1 + max([depth(src) for src, _ in incoming.get(n, ())], default=0)
        return layer[n]

    for o in genome.output_ids:
        depth(o)
    needed = [n for n in layer if n > n_in]
    ordered = sorted(needed, key=lambda n: (layer[n], genome.nodes[n].activation, n))
    col = {i: i for i in genome.input_ids}
    col.update({n: n_in + 1 + k for k, n in enumerate(ordered)})
    layers = []
    k = 0
    while k < len(ordered):
        this_layer, start = layer[ordered[k]], n_in + 1 + k
        stop = k
        while stop < len(ordered) and layer[ordered[stop]] == this_layer:
            stop += 1
        members = ordered[k:stop]
        w = np.zeros((start, len(members)))
        for j, n in enumerate(members):
            for src, weight in incoming.get(n, ()):
                w[col[src], j] += weight
        groups, a = [], 0
        while a < len(members):
            name = genome.nodes[members[a]].activation
            b = a
            while b < len(members) and genome.nodes[members[b]].activation == name:
                b += 1
            groups.append((a, b, act_of(members[a])))
            a = b
        layers.append((start, w, groups))
        k = stop
    return FeedForwardNetwork(n_in, n_in + 1 + len(ordered), layers,
                              np.asarray([col[i] for i in genome.output_ids], dtype=np.intp))
