"""Load, validate, edit and export SBML models."""

from epl_sysbio.model.core import Model, load_model
from epl_sysbio.limits import LoadLimits
from epl_sysbio.model.validation import ValidationIssue, ValidationReport

__all__ = ["LoadLimits", "Model", "ValidationIssue", "ValidationReport", "load_model"]
