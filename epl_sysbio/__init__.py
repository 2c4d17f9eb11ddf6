"""epl_sysbio: Equilibrium Point Learning for systems biology.

Public names are re-exported here explicitly; see each subpackage for details.
The bundled models are in :mod:`epl_sysbio.models` (``epl_sysbio.models.path("receptor_synapse")``).
"""

from epl_sysbio.errors import (
    CheckpointError,
    ConfigError,
    EplSysbioError,
    FileAccessError,
    InvalidValueError,
    ModelFileNotFoundError,
    ModelLimitError,
    ModelLoadError,
    ModelValidationError,
    NativeCrashError,
    RunLockedError,
    SteadyStateError,
    TimeLimitError,
    UnknownIdError,
    UnsupportedModelError,
)
from epl_sysbio import models  # the bundled models: models.path("receptor_synapse")

# Public names load on first use (PEP 562): `import epl_sysbio` and `epl-sysbio --help` stay fast
# because libRoadRunner, libsbml and NumPy are imported only when a name that needs them is used.
_LAZY = {
    "epl_sysbio.model": ("Model", "ValidationIssue", "ValidationReport", "load_model"),
    "epl_sysbio.limits": ("LoadLimits",),
    "epl_sysbio.isolation": ("Isolation", "run_isolated"),
    "epl_sysbio.simulate": ("BatchResult", "Engine", "Method", "RelaxResult", "SteadyStateOptions",
                            "SteadyStateResult", "Status"),
    "epl_sysbio.dynamics": ("FLOWS", "ROLES", "RdsSpec", "ReferenceDynamics", "appendix_b_spec", "random_spec",
                            "spec_from_model", "spec_to_model"),
    "epl_sysbio.deq": ("EquilibriumLayer", "ImplicitGradient", "LayerOptions", "LayerOutput", "TrainingOptions",
                       "TrainingResult", "train_params"),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}

__version__ = "0.1.0"

__all__ = [
    "FLOWS",
    "ROLES",
    "RdsSpec",
    "ReferenceDynamics",
    "appendix_b_spec",
    "random_spec",
    "spec_from_model",
    "spec_to_model",
    "BatchResult",
    "Engine",
    "EquilibriumLayer",
    "ImplicitGradient",
    "Isolation",
    "LayerOptions",
    "LayerOutput",
    "LoadLimits",
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
    "run_isolated",
    "train_params",
    "CheckpointError",
    "ConfigError",
    "EplSysbioError",
    "FileAccessError",
    "InvalidValueError",
    "ModelFileNotFoundError",
    "ModelLimitError",
    "ModelLoadError",
    "ModelValidationError",
    "NativeCrashError",
    "RunLockedError",
    "SteadyStateError",
    "TimeLimitError",
    "UnknownIdError",
    "UnsupportedModelError",
    "__version__",
    "models",
]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'epl_sysbio' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
