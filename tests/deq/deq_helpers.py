"""Central finite differences of an EquilibriumLayer: the yardstick of the implicit gradients;
shared test models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from inline_models import CONSERVED_CYCLE  # noqa: F401  (re-exported for the deq tests)

TESTS = Path(__file__).resolve().parents[1]
SBML_MODELS = TESTS.parent / "sbml_models"


#: dX/dt = k X (X - c): X = 0 stable, X = c unstable; Newton from X = 1.2 finds X = c when c = 1.
SADDLE = """
model saddle
  compartment cell = 1
  species X in cell
  grow: -> X; cell*k*X*X
  decay: X -> ; cell*k*c*X
  X = 1.2; k = 1; c = 1
end
"""


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
