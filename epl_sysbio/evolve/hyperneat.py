"""HyperNEAT: a CPPN queried on every candidate pair of substrate nodes at once.

The CPPN's inputs for the pair (i -> j) are ``concat(x_i, x_j)`` (source then
target coordinates). Expression (Stanley, D'Ambrosio & Gauci 2009, "A
hypercube-based encoding for evolving large-scale neural networks"; LEO from
Verbancsics & Stanley 2011):

* without LEO: the pair is connected iff ``|w| > weight_threshold``, with weight
  ``sign(w) * (|w| - weight_threshold) / (1 - weight_threshold) * max_weight``;
* with LEO: the pair is connected iff ``leo > leo_threshold``, with weight
  ``w * max_weight``;

where ``w`` and ``leo`` are the CPPN outputs ``weight_output`` and ``leo_output``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from epl_sysbio.errors import Interval, InvalidValueError, invalid_parameter_message, validate_fields

__all__ = ["Substrate", "HyperNeatConfig", "ExpressedNetwork", "query_pairs", "express"]


@dataclass(frozen=True, eq=False)
class Substrate:
    """Nodes with coordinates and the candidate connections between them.

    Attributes
    ----------
    coordinates : ndarray, shape (n_nodes, dim)
    sources, targets : ndarray of int, shape (n_pairs,)
        Candidate connection ``k`` runs from node ``sources[k]`` to node ``targets[k]``.
    """

    coordinates: np.ndarray
    sources: np.ndarray
    targets: np.ndarray

    def __post_init__(self) -> None:
        coords = np.asarray(self.coordinates, dtype=np.float64)
        src = np.asarray(self.sources, dtype=np.intp)
        dst = np.asarray(self.targets, dtype=np.intp)
        if coords.ndim != 2:
            raise InvalidValueError(invalid_parameter_message("Substrate", "coordinates",
                                                              "an array of shape (n_nodes, dim)", coords.shape))
        if src.shape != dst.shape or src.ndim != 1:
            raise InvalidValueError(invalid_parameter_message("Substrate", "targets",
                                                              f"an int array of shape {src.shape}", dst.shape))
        n = coords.shape[0]
        if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise InvalidValueError(invalid_parameter_message("Substrate", "sources",
                                                              f"node indices in [0, {n})",
                                                              (int(src.min()), int(src.max()))))
        object.__setattr__(self, "coordinates", coords)
        object.__setattr__(self, "sources", src)
        object.__setattr__(self, "targets", dst)

    @property
    def n_nodes(self) -> int:
        return self.coordinates.shape[0]

    @property
    def dim(self) -> int:
        return self.coordinates.shape[1]

    @classmethod
    def all_pairs(cls, coordinates: np.ndarray, *, self_loops: bool = False) -> Substrate:
        """Every ordered pair of nodes as a candidate (without ``i -> i`` unless ``self_loops``)."""
        n = np.asarray(coordinates).shape[0]
        src, dst = np.divmod(np.arange(n * n), n)
        keep = np.ones(n * n, dtype=bool) if self_loops else src != dst
        return cls(coordinates, src[keep], dst[keep])

    @classmethod
    def layered(cls, layers: list[np.ndarray]) -> Substrate:
        """Nodes in layers (each an array of coordinates); candidates join each layer to the next."""
        coords = np.vstack([np.asarray(layer, dtype=np.float64) for layer in layers])
        offsets = np.cumsum([0] + [len(layer) for layer in layers])
        src, dst = [], []
        for k in range(len(layers) - 1):
            a = np.arange(offsets[k], offsets[k + 1])
            b = np.arange(offsets[k + 1], offsets[k + 2])
            src.append(np.repeat(a, len(b)))
            dst.append(np.tile(b, len(a)))
        return cls(coords, np.concatenate(src), np.concatenate(dst))


@dataclass(frozen=True, kw_only=True)
class HyperNeatConfig:
    """Expression options (see the module docstring for the rule)."""

    weight_threshold: float = 0.2
    max_weight: float = 3.0
    use_leo: bool = False
    leo_threshold: float = 0.0
    weight_output: int = 0
    leo_output: int = 1

    def __post_init__(self) -> None:
        validate_fields(self, {"weight_threshold": Interval(Real, 0, 1, closed="left"),
                               "max_weight": Interval(Real, 0, None, closed="neither"),
                               "weight_output": Interval(Integral, 0, None, closed="left"),
                               "leo_output": Interval(Integral, 0, None, closed="left")})


@dataclass(frozen=True, eq=False)
class ExpressedNetwork:
    """The connections a CPPN expressed on a substrate: ``sources[k] -> targets[k]`` with ``weights[k]``."""

    n_nodes: int
    sources: np.ndarray
    targets: np.ndarray
    weights: np.ndarray

    def matrix(self) -> np.ndarray:
        """Dense (n_nodes, n_nodes) weights, ``W[i, j]`` for ``i -> j`` (0 where not connected)."""
        w = np.zeros((self.n_nodes, self.n_nodes))
        w[self.sources, self.targets] = self.weights
        return w


def query_pairs(cppn: Callable[[np.ndarray], np.ndarray], substrate: Substrate) -> np.ndarray:
    """CPPN outputs for every candidate pair in one vectorised call, shape (n_pairs, n_outputs)."""
    c = substrate.coordinates
    return cppn(np.hstack([c[substrate.sources], c[substrate.targets]]))


def express(cppn: Callable[[np.ndarray], np.ndarray], substrate: Substrate,
            config: HyperNeatConfig | None = None) -> ExpressedNetwork:
    """Query the CPPN on the substrate and keep the expressed connections (rule in the module docstring)."""
    config = config or HyperNeatConfig()
    out = query_pairs(cppn, substrate)
    w = out[:, config.weight_output]
    if config.use_leo:
        keep = out[:, config.leo_output] > config.leo_threshold
        weights = w[keep] * config.max_weight
    else:
        t = config.weight_threshold
        keep = np.abs(w) > t
        weights = np.sign(w[keep]) * (np.abs(w[keep]) - t) / (1.0 - t) * config.max_weight
    return ExpressedNetwork(substrate.n_nodes, substrate.sources[keep], substrate.targets[keep], weights)
