"""epl_sysbio: Equilibrium Point Learning for systems biology.

Public names are re-exported here explicitly; see each subpackage for details.
"""

from epl_sysbio.errors import (
    CheckpointError,
    ConfigError,
    EplSysbioError,
    InvalidValueError,
    ModelFileNotFoundError,
    ModelLoadError,
    ModelValidationError,
    SteadyStateError,
    UnknownIdError,
    UnsupportedModelError,
)

from epl_sysbio.model import Model, ValidationIssue, ValidationReport, load_model
from epl_sysbio.simulate import (
    BatchResult,
    Engine,
    Method,
    RelaxResult,
    SteadyStateOptions,
    SteadyStateResult,
    Status,
)
from epl_sysbio.deq import (
    EquilibriumLayer,
    ImplicitGradient,
    LayerOptions,
    LayerOutput,
    TrainingOptions,
    TrainingResult,
    train_params,
)

__version__ = "0.1.0"

__all__ = [
    "BatchResult",
    "Engine",
    "EquilibriumLayer",
    "ImplicitGradient",
    "LayerOptions",
    "LayerOutput",
    "Method",
    "Model",
    "RelaxResult",
    "SteadyStateOptions",
    "SteadyStateResult",
    "Status",
    "TrainingOptions",
    "TrainingResult",
    "ValidationIssue",
    "ValidationReport",
    "load_model",
    "train_params",
    "CheckpointError",
    "ConfigError",
    "EplSysbioError",
    "InvalidValueError",
    "ModelFileNotFoundError",
    "ModelLoadError",
    "ModelValidationError",
    "SteadyStateError",
    "UnknownIdError",
    "UnsupportedModelError",
    "__version__",
]
