"""Load, validate, edit and export SBML models."""

from epl_sysbio.model.core import Model, load_model
from epl_sysbio.model.validation import ValidationIssue, ValidationReport

__all__ = ["Model", "ValidationIssue", "ValidationReport", "load_model"]
