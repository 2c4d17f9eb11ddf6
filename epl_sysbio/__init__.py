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

__version__ = "0.1.0"

__all__ = [
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
