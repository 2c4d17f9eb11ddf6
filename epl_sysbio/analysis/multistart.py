"""Multiple steady states by a seeded multi-start search.

Starts: the model's start state ``c0``, then ``n_starts - 1`` random states
``y_i = c0_i * 10^U(-decades, decades)`` (species at 0 get ``10^U(...)`` times
the mean concentration), moved onto the start's conservation class
(``y - W W^T (y - c0)``, ``W`` the orthonormal conservation basis) and, if
that left a species negative, pulled back along the segment towards ``c0``
until none is. From each start two independent finders run:
:meth:`Engine.steady_state` (Newton first, so it also reaches unstable
states) and :func:`speed_potential_steady_state` (every zero of E is a steady
state; at most 200 evaluations per start). Converged points closer than
``distinct_rtol`` (relative Euclidean distance of the states) are one steady
state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epl_sysbio.analysis.network import SpeciesNetwork
from epl_sysbio.analysis.speed_potential import speed_potential_steady_state
from epl_sysbio.analysis.stability import classify_fixed_point
from epl_sysbio.errors import UnsupportedModelError, check_parameter
from epl_sysbio.simulate import Engine, Status

__all__ = ["FoundSteadyState", "MultiStartResult", "find_steady_states"]


@dataclass(frozen=True)
class FoundSteadyState:
    """One distinct steady state: concentrations by id, status, kind, and how often it was found."""

    values: dict[str, float]
    status: Status
    kind: str
    max_real_eigenvalue: float | None
    hits: int

    @property
    def stable(self) -> bool:
        return self.status is Status.STABLE


@dataclass(frozen=True)
class MultiStartResult:
    """Distinct steady states, stable ones first, then by the first species' value; the seed used."""

    states: tuple[FoundSteadyState, ...]
    n_starts: int
    seed: int

    @property
    def n_stable(self) -> int:
        return sum(s.stable for s in self.states)


def find_steady_states(
    engine: Engine,
    *,
    n_starts: int = 20,
    seed: int = 0,
    decades: float = 1.0,
    distinct_rtol: float = 1e-6,
    use_speed_potential: bool = True,
) -> MultiStartResult:
    """Seeded multi-start search for all steady states on the start's conservation class.

    The engine is reset afterwards. Rate-rule models get the start state only
    (their variables have no stoichiometry to keep starts on a class).
    """
    check_parameter("find_steady_states", "n_starts", isinstance(n_starts, int) and n_starts >= 1,
                    "an int >= 1", n_starts)
    rng = np.random.default_rng(seed)
    engine.reset()
    try:
        net = SpeciesNetwork(engine)
    except UnsupportedModelError:  # rate rules / no reactions: one start, the engine alone
        net = None
    found: list[tuple[np.ndarray, FoundSteadyState]] = []
    starts = [None] if net is None else _starts(net, n_starts, rng, decades)
    for c in starts:
        for finder in ("engine", "speed_potential"):
            engine.reset()
            if c is not None:
                engine.set_amounts(dict(zip(net.species, c * net.volumes)))
            if finder == "engine":
                result = engine.steady_state(start="current")
            elif use_speed_potential and net is not None:
                sp = speed_potential_steady_state(engine, network=net, max_evaluations=200)
                result = sp.steady_state if sp.success else None
                if sp.success and result is None:
                    result = engine.steady_state(start="current")
            else:
                continue
            if result is None or not result.converged:
                continue
            x = engine.state().copy()
            for i, (y, state) in enumerate(found):
                if np.linalg.norm(x - y) <= distinct_rtol * max(float(np.linalg.norm(y)), 1e-300):
                    found[i] = (y, FoundSteadyState(state.values, state.status, state.kind,
                                                    state.max_real_eigenvalue, state.hits + 1))
                    break
            else:
                eig = result.eigenvalues if result.eigenvalues is not None else np.zeros(0)
                found.append((x, FoundSteadyState(dict(result.values), result.status,
                                                  classify_fixed_point(eig), result.max_real_eigenvalue, 1)))
    engine.reset()
    states = sorted((s for _, s in found), key=lambda s: (not s.stable, next(iter(s.values.values()), 0.0)))
    return MultiStartResult(tuple(states), len(starts), seed)


def _starts(net: SpeciesNetwork, n: int, rng: np.random.Generator, decades: float) -> list[np.ndarray]:
    c0 = np.maximum(net.concentrations(), 0.0)
    typical = float(np.mean(c0[c0 > 0])) if np.any(c0 > 0) else 1.0
    out = [c0]
    for _ in range(n - 1):
        factor = 10.0 ** rng.uniform(-decades, decades, size=len(c0))
        y = np.where(c0 > 0, c0, typical) * factor
        y = y - net.laws @ (net.laws.T @ (y - c0))
        if np.any(y < 0):
            d = y - c0
            neg = d < 0
            t = float(np.min(c0[neg] / -d[neg])) if np.any(neg) else 1.0
            y = c0 + 0.99 * t * d
        out.append(np.maximum(y, 0.0))
    return out
