"""Vectorised evaluation of NEAT genomes (CPPNs) on many query points at once.

:func:`compile_genome` turns a genome into a :class:`FeedForwardNetwork` (a
topologically ordered list of NumPy operations, one per node) or a
:class:`RecurrentNetwork` (a weight matrix iterated a fixed number of
synchronous steps). Both are called on an ``(n_queries, n_inputs)`` array and
return ``(n_queries, n_outputs)``; the bias input (1.0) is appended internally.
"""

from __future__ import annotations

import functools
import math
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


#: Up to this many query rows (all finite), a feed-forward network is evaluated node by node in
#: plain Python instead of NumPy layers: for XOR's 4 points that is several times faster than
#: building the layer matrices, which is most of the cost of a tiny batch (benchmarks/neat_xor.py).
#: Equal to the layer path up to summation order (tests/evolve/test_evolve_cppn.py).
SMALL_BATCH = 8


def _scalar_sigmoid(slope: float) -> Callable[[float], float]:
    def f(x: float) -> float:
        z = slope * x
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)  # no overflow for very negative z (as scipy's expit)
        return e / (1.0 + e)
    return f


_SCALAR: dict[str, Callable[[float], float]] = {
    "tanh": math.tanh, "sin": math.sin, "gauss": lambda x: math.exp(-x * x), "abs": abs,
    "identity": lambda x: x, "relu": lambda x: x if x > 0.0 else 0.0 * x,
    "step": lambda x: 1.0 if x > 0 else 0.0,
}


class FeedForwardNetwork:
    """A compiled acyclic network, evaluated layer by layer.

    Columns are ordered inputs, bias, then nodes by layer (a node's layer is
    the longest path from an input to it), so each layer is one matrix product
    and one activation call per activation present::

        values[:, start:stop] = act(values[:, :start] @ W)     # W: (start, stop - start)

    Batches of at most ``SMALL_BATCH`` finite rows take the same plan node by
    node in plain Python (no layer matrices are built for them).

    Nodes with no path to an output are dropped; an output with no input gives activation(0).
    """

    def __init__(self, n_inputs: int, plan: list[tuple[int, tuple[tuple[int, float], ...], str]],
                 layer_bounds: list[tuple[int, int]], output_columns: list[int], sigmoid_slope: float) -> None:
        self.n_inputs = n_inputs
        self.n_columns = n_inputs + 1 + len(plan)
        self.plan = plan  # per node, in column order: (column, ((source column, weight), ...), activation)
        self.layer_bounds = layer_bounds  # [start, stop) columns of each layer
        self.output_columns = np.asarray(output_columns, dtype=np.intp)
        self.sigmoid_slope = sigmoid_slope

    @functools.cached_property
    def layers(self) -> list[tuple[int, np.ndarray, list]]:
        """Per layer: (start column, (start, width) weights, [(a, b, activation of columns start+a:start+b)])."""
        layers = []
        for start, stop in self.layer_bounds:
            w = np.zeros((start, stop - start))
            groups: list = []
            for j, (_, incoming, name) in enumerate(self.plan[start - self.n_inputs - 1:stop - self.n_inputs - 1]):
                for src, weight in incoming:
                    w[src, j] += weight
                if groups and groups[-1][3] == name:
                    groups[-1][1] = j + 1
                else:
                    groups.append([j, j + 1, activation_function(name, self.sigmoid_slope), name])
            layers.append((start, w, [(a, b, act) for a, b, act, _ in groups]))
        return layers

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, dtype=np.float64)
        if x.ndim == 2 and x.shape[0] <= SMALL_BATCH and x.shape[1] == self.n_inputs and np.isfinite(x).all():
            return self._small(x)
        values = _initial_values(x, self.n_inputs, self.n_columns)
        for start, weights, groups in self.layers:
            pre = values[:, :start] @ weights
            for a, b, act in groups:
                values[:, start + a:start + b] = act(pre[:, a:b])
        return values[:, self.output_columns]

    def _small(self, x: np.ndarray) -> np.ndarray:
        steps = [(col, incoming, _scalar(name, self.sigmoid_slope)) for col, incoming, name in self.plan]
        pad = [1.0] + [0.0] * len(self.plan)
        outputs = self.output_columns.tolist()
        rows = []
        for row in x.tolist():
            v = row + pad
            for col, incoming, f in steps:
                total = 0.0
                for src, weight in incoming:
                    total += v[src] * weight
                v[col] = f(total)
            rows.append([v[o] for o in outputs])
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(outputs))


@functools.lru_cache(maxsize=64)
def _scalar(name: str, sigmoid_slope: float) -> Callable[[float], float]:
    return _scalar_sigmoid(sigmoid_slope) if name == "sigmoid" else _SCALAR[name]


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
    plan = [(col[n], tuple((col[src], w) for src, w in incoming.get(n, ())), genome.nodes[n].activation)
            for n in ordered]
    bounds: list[tuple[int, int]] = []
    for k, n in enumerate(ordered):
        if k and layer[n] == layer[ordered[k - 1]]:
            bounds[-1] = (bounds[-1][0], n_in + 2 + k)
        else:
            bounds.append((n_in + 1 + k, n_in + 2 + k))
    return FeedForwardNetwork(n_in, plan, bounds, [col[i] for i in genome.output_ids], sigmoid_slope)
