"""Shared fixtures: tiny inline Antimony models and paths to the bundled models."""

from pathlib import Path

import pytest
from inline_models import CONSERVED_CYCLE

ROOT = Path(__file__).resolve().parent.parent
SBML_MODELS = ROOT / "sbml_models"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def conserved_cycle_text() -> str:
    return CONSERVED_CYCLE


@pytest.fixture
def sbml_models_dir() -> Path:
    return SBML_MODELS
