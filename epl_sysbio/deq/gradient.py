"""The implicit-function-theorem gradient of a steady state (separate from the solver).

The forward solver (libRoadRunner through :class:`~epl_sysbio.simulate.Engine`)
finds a steady state; this module only differentiates it, from quantities
evaluated at that state. Nothing here solves a steady state again and nothing
uses finite differences.

Notation (amounts, not concentrations, so that conservation laws are exact):

* ``a`` (n,): amounts of the state species; ``v(a, p)`` (R,): reaction rates
  (amount/time); ``N`` (n, R): stoichiometry, ``da/dt = N v``.
* ``Q`` (n, r): orthonormal basis of range(N); ``C`` (n, n - r): orthonormal
  basis of its complement, the conservation laws ``C^T N = 0``, so
  ``C^T a = T`` stays at its start value ``T = C^T a0``.
* ``E_a = dv/da`` (R, n) and ``E_p = dv/dp`` (R, m): exact rate-law
  derivatives (:class:`~epl_sysbio.deq.elasticities.Elasticities`).

The steady state solves the square system (the reduced system: ``r``
independent balance equations plus the ``n - r`` conservation laws)

    G(a, p, u) = [ Q^T N v(a, p) ; C^T a - C^T a0(u) ] = 0,

where ``u`` are species amounts set before the solve (they move the totals).
``Q^T N v = 0`` iff ``N v = 0`` because Q has full column rank. By the
implicit function theorem, with ``A = dG/da = [Q^T N E_a ; C^T]`` (n, n),

    da*/dp = -A^{-1} [Q^T N E_p ; 0],     da*/du = A^{-1} [0 ; C^T S],

``S`` (n, q) the direction of each species input in amounts. ``A`` is
invertible exactly when the reduced Jacobian ``Q^T N E_a Q`` is (its
eigenvalues are those of the Jacobian on the conserved manifold), so at a
stable steady state it always is; the eigenvalues come with the gradient for
the stability verdict.

Outputs are ``y = O_a a + O_v v`` (species in amounts or concentrations,
reaction fluxes), so ``dy/da = O_a + O_v E_a`` and ``dy/dp`` gets the direct
term ``O_v E_p``. With few outputs the adjoint form is cheaper: one LU of
``A`` and ``k`` right-hand sides (``A^T W^T = (dy/da)^T``) instead of
``m + q``.

Why not libRoadRunner's matrices: its reduced Jacobian and elasticities are
finite differences internally, its reduced Jacobian is wrong on
BIOMD0000000628, and ``getuCC`` re-solves the steady state per parameter.
Measured on the 20-species cascade of ``benchmarks/deq.py``: the derivative
read costs ~4 us, this linear algebra a few tens of us, a forward solve ~60 us.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epl_sysbio.simulate.numerics import range_and_null_space

__all__ = ["ImplicitGradient", "Sensitivities"]


@dataclass(frozen=True)
class Sensitivities:
    """Derivatives of the outputs at one steady state.

    Attributes
    ----------
    d_variables : ndarray, shape (k, m)
        ``dy/dp`` for the non-state variables (parameters, boundary species).
    d_species_inputs : ndarray, shape (k, q)
        ``dy/du`` for the species inputs (each moves the conserved totals).
    eigenvalues : ndarray, shape (r,)
        Eigenvalues of the exact reduced Jacobian ``Q^T N E_a Q`` (amounts).
    """

    d_variables: np.ndarray
    d_species_inputs: np.ndarray
    eigenvalues: np.ndarray


class ImplicitGradient:
    """dy*/dp and dy*/du at a steady state by the implicit function theorem.

    Parameters
    ----------
    stoichiometry : ndarray, shape (n, R)
        ``N`` in amounts.
    species_inputs : ndarray, shape (n, q)
        ``S``: how each species input moves the start amounts (``e_s``, or
        ``V_s e_s`` for a concentration input).
    output_state : ndarray, shape (k, n)
        ``O_a``: output rows on the amounts.
    output_flux : ndarray, shape (k, R)
        ``O_v``: output rows on the reaction rates.
    """

    def __init__(
        self,
        stoichiometry: np.ndarray,
        species_inputs: np.ndarray,
        output_state: np.ndarray,
        output_flux: np.ndarray,
    ) -> None:
        n_mat = np.asarray(stoichiometry, dtype=float)
        self.n_state = n_mat.shape[0]
        q, c = range_and_null_space(n_mat)
        self._range = q
        self._qtn = q.T @ n_mat  # (r, R): the independent balance equations
        self._laws = c.T  # (n - r, n)
        self._laws_inputs = c.T @ species_inputs  # (n - r, q) = dT/du
        self._out_state = np.asarray(output_state, dtype=float)
        self._out_flux = np.asarray(output_flux, dtype=float)
        self._has_flux = bool(np.any(self._out_flux))

    @property
    def n_conservation_laws(self) -> int:
        return self._laws.shape[0]

    def eigenvalues(self, dv_da: np.ndarray) -> np.ndarray:
        """Eigenvalues of the exact reduced Jacobian ``Q^T N E_a Q`` (the stability verdict)."""
        balance = self._qtn @ dv_da
        return np.linalg.eigvals(balance @ self._range) if balance.shape[0] else np.zeros(0, complex)

    def __call__(self, dv_da: np.ndarray, dv_dp: np.ndarray, scale: np.ndarray) -> Sensitivities:
        """Sensitivities from the rate-law derivatives at the steady state.

        Parameters
        ----------
        dv_da : ndarray, shape (R, n)
            ``E_a``, per amount.
        dv_dp : ndarray, shape (R, m)
            ``E_p``.
        scale : ndarray, shape (n,)
            A typical size of each amount (e.g. the compartment volume);
            columns are scaled by it and rows by their largest entry before
            the LU, so that femtolitre amounts do not spoil the pivoting.

        Raises
        ------
        numpy.linalg.LinAlgError
            When ``A`` is singular (a bifurcation point: no gradient exists).
        """
        balance = self._qtn @ dv_da  # (r, n): d(Q^T N v)/da
        eigenvalues = self.eigenvalues(dv_da)
        a_mat = np.vstack([balance, self._laws])  # A = dG/da, (n, n)
        # Output rows on the amounts: dy/da = O_a + O_v E_a.
        dy_da = self._out_state + self._out_flux @ dv_da if self._has_flux else self._out_state
        # Equilibrate: M = D_r A D_c with D_c = diag(scale), D_r = 1/max|row of A D_c|.
        a_cols = a_mat * scale[None, :]
        row = np.abs(a_cols).max(axis=1)
        row[row == 0] = 1.0
        m_mat = a_cols / row[:, None]
        # Adjoint: W = dy/da A^{-1} = (dy/da D_c) M^{-1} D_r, from M^T Z = (dy/da D_c)^T.
        z = np.linalg.solve(m_mat.T, (dy_da * scale[None, :]).T)  # (n, k)
        w = z.T / row[None, :]  # (k, n), columns split as [r balance rows | n - r law rows]
        r = balance.shape[0]
        # dy/dp = -W [Q^T N E_p ; 0] + O_v E_p   (the direct term for flux outputs)
        d_var = -w[:, :r] @ (self._qtn @ dv_dp)
        if self._has_flux:
            d_var = d_var + self._out_flux @ dv_dp
        # dy/du = W [0 ; C^T S]: the totals move, the balance equations do not.
        d_inp = w[:, r:] @ self._laws_inputs
        return Sensitivities(d_var, d_inp, eigenvalues)
