"""The libRoadRunner engine: compile once, set by id, steady states, relaxations."""

from epl_sysbio.simulate.engine import Engine
from epl_sysbio.simulate.results import (
    BatchResult,
    Method,
    RelaxResult,
    SteadyStateOptions,
    SteadyStateResult,
    Status,
)

__all__ = [
    "BatchResult",
    "Engine",
    "Method",
    "RelaxResult",
    "SteadyStateOptions",
    "SteadyStateResult",
    "Status",
]
