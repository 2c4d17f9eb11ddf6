"""Small numerical pieces of the engine: finite-difference Jacobians and the
stoichiometric range/null split (the stability verdict is
:mod:`epl_sysbio.simulate.stability`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["finite_difference_jacobian", "range_and_null_space"]


def finite_difference_jacobian(
    x: np.ndarray,
    f: np.ndarray,
    set_state: Callable[[np.ndarray], None],
    rates: Callable[[], np.ndarray],
    *,
    central: bool = False,
) -> np.ndarray:
    """Jacobian of ``rates()`` with respect to the state, by finite differences.

    ``set_state`` writes a state and ``rates`` reads F there; ``f`` is F(x). Steps
    are relative (``1e-7 |x_j|`` forward, ``1e-5 |x_j|`` central) with a floor of 1e-6
    times the state's mean magnitude, so that femtolitre amounts are not swamped
    by an absolute step. The state is left at ``x``.
    """
    n = len(x)
    jac = np.empty((len(f), n))
    typical = float(np.mean(np.abs(x))) if n else 0.0
    floor = 1e-6 * typical if typical > 0 else 1e-12
    rel = 1e-5 if central else 1e-7
    for j in range(n):
        h = rel * max(abs(x[j]), floor)
        xp = x.copy()
        xp[j] += h
        set_state(xp)
        f_plus = rates()
        if central:
            xp[j] = x[j] - h
            set_state(xp)
            jac[:, j] = (f_plus - rates()) / (2 * h)
        else:
            jac[:, j] = (f_plus - f) / h
    set_state(x)
    return jac


def range_and_null_space(n_mat: np.ndarray, rtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal bases of range(N) and of its orthogonal complement (the
    conservation laws: rows c with c^T N = 0), from the SVD of N (species x reactions)."""
    n = n_mat.shape[0]
    if n_mat.size == 0 or not np.any(n_mat):
        return np.zeros((n, 0)), np.eye(n)
    u, sv, _ = np.linalg.svd(n_mat)
    rank = int(np.sum(sv > sv[0] * rtol))
    return u[:, :rank], u[:, rank:]
