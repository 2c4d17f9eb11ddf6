"""Central finite differences of an EquilibriumLayer: the yardstick of the implicit gradients;
shared test models."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1]
SBML_MODELS = TESTS.parent / "sbml_models"


def _root_conftest():
    # Loaded by path: `from conftest import ...` resolves to whichever conftest.py pytest
    # imported last (tests/dynamics has its own).
    spec = importlib.util.spec_from_file_location("_epl_tests_root_conftest", TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONSERVED_CYCLE: str = _root_conftest().CONSERVED_CYCLE


def fd_params(layer, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """d outputs / d params, shape (B, k, p), relative steps."""
    theta = layer.params
    cols = []
    for j in range(theta.size):
        h = step * abs(theta[j])
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        cols.append((layer.forward(x, params=up).values - layer.forward(x, params=down).values) / (2 * h))
    layer.set_params(theta)
    return np.stack(cols, axis=-1)


def fd_inputs(layer, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """d outputs / d inputs, shape (B, k, n_in), relative steps per sample."""
    cols = []
    for j in range(x.shape[1]):
        h = step * np.abs(x[:, j])
        up, down = x.copy(), x.copy()
        up[:, j] += h
        down[:, j] -= h
        cols.append((layer.forward(up).values - layer.forward(down).values) / (2 * h[:, None]))
    return np.stack(cols, axis=-1)


def relative_error(got: np.ndarray, fd: np.ndarray) -> float:
    """max |got - fd| / max(|fd|, 1e-6 max|fd|): entry-wise relative error; entries
    below a millionth of the Jacobian's largest are compared on that scale."""
    floor = 1e-6 * np.abs(fd).max()
    return float(np.max(np.abs(got - fd) / np.maximum(np.abs(fd), floor)))
