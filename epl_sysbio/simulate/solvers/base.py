"""What a steady-state solver is: a small object the engine's chain tries in order."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.simulate.results import Method, SteadyStateOptions

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["Solved", "Solver", "Snapshot"]

#: An engine's start state: floating species amounts and rate-rule values.
Snapshot = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Solved:
    """A solver's success: the route, its iteration count, and what it did (for the result's message)."""

    method: Method
    iterations: int
    message: str


class Solver(abc.ABC):
    """One route to a steady state (optimistix's root finders are the model: small, one job each).

    Every solver starts from the chain's start state and is judged by the one
    :class:`~epl_sysbio.simulate.stopping.StoppingRule` of the options
    (``Engine._converged``), never by its own test.
    """

    @abc.abstractmethod
    def skip(self, engine: Engine) -> str | None:
        """None if this solver applies to the engine; else why not (``""``: nothing worth reporting)."""

    @abc.abstractmethod
    def solve(self, engine: Engine, options: SteadyStateOptions, origin: Snapshot,
              reasons: list[str]) -> Solved | None:
        """Try from the current state (the start state); on failure append why to ``reasons`` and return None."""
