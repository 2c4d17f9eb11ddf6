"""The stability verdict of a steady state: one classifier, one place.

:func:`classify_eigenvalues` is the only place a set of eigenvalues becomes a
:class:`~epl_sysbio.simulate.results.Status`; the engine (:func:`judge`), the
equilibrium layer (on its exact Jacobian), continuation diagrams and
:func:`epl_sysbio.analysis.stability.classify_fixed_point` all call it. With
stability checking off a converged point is ``unchecked``, never ``stable``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.simulate.results import SteadyStateOptions, Status
from epl_sysbio.simulate.state_space import dynamic_basis, raw_jacobian, raw_rates, raw_state

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["classify_eigenvalues", "reduced_eigenvalues", "fd_eigenvalues", "judge"]


def classify_eigenvalues(eig: np.ndarray, eigen_rtol: float) -> Status:
    """Stable if every Re(lambda) < -tol, unstable if any > tol, else marginal (also for nan);
    tol = eigen_rtol * max(1, max|lambda|). No eigenvalues: nothing can move, stable."""
    if eig.size == 0:
        return Status.STABLE
    tol = eigen_rtol * max(1.0, float(np.abs(eig).max()))
    top = float(eig.real.max())
    if top > tol:
        return Status.UNSTABLE
    if top < -tol:
        return Status.STABLE
    return Status.MARGINAL


def reduced_eigenvalues(engine: Engine) -> np.ndarray:
    """Eigenvalues of the reduced Jacobian at the engine's current state (:meth:`Engine.eigenvalues`)."""
    if engine.moiety_analysis and not engine.rate_rule_ids:
        # libRoadRunner's reduced Jacobian, decomposed here: its own getReducedEigenValues()
        # loops for ever in LAPACK (zgebal) when an entry is not finite (a compartment of 1e308).
        jac = np.asarray(engine.roadrunner.getReducedJacobian(), dtype=float)
        if not np.all(np.isfinite(jac)):
            return np.full(jac.shape[0], np.nan, dtype=complex)  # no verdict: classified marginal
        return np.linalg.eigvals(jac) if jac.size else np.zeros(0, dtype=complex)
    return fd_eigenvalues(engine)


def fd_eigenvalues(engine: Engine) -> np.ndarray:
    """Eigenvalues of the central-difference raw-state Jacobian on the stoichiometric subspace."""
    x = raw_state(engine)
    if len(x) == 0:
        return np.zeros(0, dtype=complex)
    jac = raw_jacobian(engine, x, raw_rates(engine), central=True)
    q = dynamic_basis(engine)
    if not q.shape[1]:
        return np.zeros(0, dtype=complex)
    reduced = q.T @ jac @ q
    if not np.all(np.isfinite(reduced)):  # overflowed: no verdict (classified marginal), not a LinAlgError
        return np.full(reduced.shape[0], np.nan, dtype=complex)
    return np.linalg.eigvals(reduced)


def judge(engine: Engine, options: SteadyStateOptions, message: str) -> tuple[Status, np.ndarray | None, str]:
    """The verdict on the engine's current (converged) state: status, eigenvalues, message.

    ``unchecked`` (no eigenvalues) when ``options.stability`` is False. A
    non-stable verdict from libRoadRunner's analytic reduced Jacobian is
    confirmed by central differences, which win when they disagree: that
    Jacobian is wrong on some models (BIOMD0000000628).
    """
    if not options.stability:
        return Status.UNCHECKED, None, message
    eig = reduced_eigenvalues(engine)
    status = classify_eigenvalues(eig, options.eigen_rtol)
    if status is not Status.STABLE and engine.moiety_analysis and not engine.rate_rule_ids:
        fd = fd_eigenvalues(engine)
        if classify_eigenvalues(fd, options.eigen_rtol) is not status:
            eig, status = fd, classify_eigenvalues(fd, options.eigen_rtol)
            message += ("; libRoadRunner's reduced Jacobian disagreed with central finite "
                        "differences, eigenvalues from the latter")
    if status is Status.UNSTABLE:
        message += f"; UNSTABLE: max Re(lambda) = {float(np.max(eig.real)):.3g} > 0, not a rest state to trust"
    elif status is Status.MARGINAL:
        message += "; marginal: an eigenvalue has zero real part within tolerance"
    return status, eig, message
