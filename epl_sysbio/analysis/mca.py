"""Metabolic control analysis at a steady state, by linear algebra.

Units (explicit, because tools differ):

* concentrations ``c`` in the model's substance/volume unit; reaction rates
  ``v`` in amount/time (SBML kinetic laws, libRoadRunner's reaction rates);
* elasticities ``eps[j, i] = dv_j/dc_i`` (amount/time per concentration);
* unscaled concentration control coefficients ``Cs[i, j] = dc_i/dv_j``
  (concentration per amount/time): libRoadRunner's
  ``getUnscaledConcentrationControlCoefficientMatrix`` convention. COPASI
  differentiates by the rate in concentration/time, so for a species in a
  compartment of volume ``V`` its unscaled coefficient is ``V * Cs[i, j]``;
* unscaled flux control coefficients ``CJ[k, j] = dv_k/dv_j`` (dimensionless);
* scaled coefficients ``Cs[i, j] v_j / c_i`` and ``CJ[k, j] v_j / v_k`` are
  unit-free and equal in every tool (NaN where ``c_i <= 0`` or ``v_k == 0``).

With ``N_R`` the rows of ``V^-1 N`` of a set of independent species (chosen
smallest-concentration first, so that each conservation law's *dependent*
species is its largest one and ``total - others`` costs no digits), ``L`` the
link matrix (``V^-1 N = L N_R``) and ``M = N_R eps L`` the reduced Jacobian:

    Cs = -L M^-1 N_R                 (a rate change dv_j moves c by Cs[:, j] dv_j)
    CJ = I + eps Cs

(Reder 1988). ``M`` is solved balanced, ``(D^-1 M D)(D^-1 X) = D^-1 N_R`` with
``D`` the independent concentrations: in BIOMD0000000569 (species from 1e-21
to 1e-3 M) an unbalanced solve left the small species' coefficients 1 % off
COPASI's, now 1e-5 (matrix-relative). Theorems checked as a self-test, with
``Q`` an orthonormal basis of ``range(V^-1 N)`` and ``K`` of the null space of
``N``: summation ``Cs K = 0`` and ``CJ K = K`` (scaled: rows of scaled ``Cs``
sum to 0, of scaled ``CJ`` to 1), connectivity ``Cs eps Q = -Q``.

libRoadRunner's own MCA calls are avoided: its scaled concentration matrix
took 49 s on BIOMD0000000635 and its reduced Jacobian is wrong on
BIOMD0000000628; here the cost is ``2 n`` rate evaluations and one solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from epl_sysbio.analysis.network import SpeciesNetwork
from epl_sysbio.errors import SteadyStateError
from epl_sysbio.simulate import Engine

__all__ = ["ControlCoefficients", "control_coefficients"]


@dataclass(frozen=True)
class ControlCoefficients:
    """Elasticities and control coefficients at one steady state (units: module docstring).

    Attributes
    ----------
    species, reactions : tuple of str
        Row / column ids.
    concentrations : ndarray, shape (n_species,)
    fluxes : ndarray, shape (n_reactions,)
        Steady-state rates (amount/time).
    elasticities : ndarray, shape (n_reactions, n_species)
    concentration_unscaled : ndarray, shape (n_species, n_reactions)
    flux_unscaled : ndarray, shape (n_reactions, n_reactions)
    volumes : ndarray, shape (n_species,)
        Compartment volume of each species (COPASI's unscaled = volume x ours).
    summation_error, connectivity_error : float
        Largest violation of the theorems above, each species' row relative to
        its own concentration (about 1e-12 when the linear algebra is sound).
    """

    species: tuple[str, ...]
    reactions: tuple[str, ...]
    concentrations: np.ndarray
    fluxes: np.ndarray
    elasticities: np.ndarray
    concentration_unscaled: np.ndarray
    flux_unscaled: np.ndarray
    volumes: np.ndarray
    summation_error: float
    connectivity_error: float

    @property
    def concentration_scaled(self) -> np.ndarray:
        """``Cs[i, j] v_j / c_i``; NaN where ``c_i <= 0`` (a zero species, or one whose
        rounding left it at -1e-38: COPASI prints 0 there)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.concentration_unscaled * self.fluxes[None, :] / np.where(
                self.concentrations <= 0, np.nan, self.concentrations)[:, None]

    @property
    def flux_scaled(self) -> np.ndarray:
        """``CJ[k, j] v_j / v_k`` (NaN where ``v_k == 0``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.flux_unscaled * self.fluxes[None, :] / np.where(self.fluxes == 0, np.nan, self.fluxes)[:, None]

    def concentration_unscaled_copasi(self) -> np.ndarray:
        """Unscaled concentration coefficients in COPASI's convention (``V_i * Cs[i, j]``)."""
        return self.concentration_unscaled * self.volumes[:, None]

    def as_dict(self, kind: str = "concentration_scaled") -> dict[tuple[str, str], float]:
        """One matrix keyed ``(row id, reaction id)``; ``kind`` names a matrix attribute above."""
        matrix = getattr(self, kind)
        rows = self.species if kind.startswith("concentration") else self.reactions
        return {(r, c): float(matrix[i, j]) for i, r in enumerate(rows) for j, c in enumerate(self.reactions)}

    @property
    def self_test_passed(self) -> bool:
        """Summation and connectivity theorems hold to 1e-6 (relative; the comparisons'
        target: 1e-7 is typical of BIOMD0000000569's 1e-21..1e-3 M species, 1e-13 elsewhere)."""
        return self.summation_error < 1e-6 and self.connectivity_error < 1e-6


def control_coefficients(engine: Engine, network: SpeciesNetwork | None = None) -> ControlCoefficients:
    """Control coefficients at the engine's current state, which must be a steady state.

    The state is first refined by :meth:`SpeciesNetwork.polish` (Newton with every
    species held directly); ``concentrations`` in the result are the refined ones.

    Parameters
    ----------
    engine : Engine
        Positioned at a converged steady state (e.g. after ``steady_state()``).
    network : SpeciesNetwork, optional
        Reuse one built earlier for the same engine.

    Raises
    ------
    SteadyStateError
        If the reduced Jacobian is singular (a fold or a marginal state:
        the coefficients are infinite there).
    UnsupportedModelError
        For models driven by rate rules (explicit ODEs) or without reactions.
    """
    net = network or SpeciesNetwork(engine)
    net.sync_parameters()
    c = net.polish(net.concentrations())  # small dependent species regain their digits
    eps = net.elasticities(c)
    v = net.reaction_rates().copy()  # at c: elasticities() leaves the evaluator there
    n_c = net.stoichiometry / net.volumes[:, None]  # V^-1 N
    n_s, n_r = len(net.species), len(net.reactions)
    if net.basis.shape[1] == 0:
        cs = np.zeros((n_s, n_r))
    else:
        independent = _independent_species(n_c, np.abs(c))
        n_r_c = n_c[independent]  # independent rows, N_R
        link = n_c @ np.linalg.pinv(n_r_c)  # L: V^-1 N = L N_R (identity on the independent rows)
        link[independent] = np.eye(len(independent))
        m = n_r_c @ eps @ link  # reduced Jacobian in the independent concentrations
        # Balanced solve: rows and columns scaled by the independent concentrations, so that
        # a 1e-21 M species (BIOMD0000000569) is solved relative to itself.
        d = np.abs(c[independent])
        d = np.where(d > 0, d, 1e-12 * max(float(np.abs(c).max()), 1e-300))
        balanced = m / d[:, None] * d[None, :]
        cond = np.linalg.cond(balanced)
        if not np.isfinite(cond) or cond > 1e14:
            raise SteadyStateError(
                f"Model {engine.model_id!r}: the reduced Jacobian is singular (condition number "
                f"{cond:.3g}): a fold or marginal state, where control coefficients are infinite. "
                "Move the parameters away from the bifurcation."
            )
        # M X = N_R, solved as (D^-1 M D)(D^-1 X) = D^-1 N_R;  Cs = -L X
        x = d[:, None] * scipy.linalg.lu_solve(scipy.linalg.lu_factor(balanced), n_r_c / d[:, None])
        cs = -link @ x
    cj = np.eye(n_r) + eps @ cs
    summation, connectivity = _theorem_errors(net, c, eps, cs, cj)
    return ControlCoefficients(
        species=net.species,
        reactions=net.reactions,
        concentrations=c,
        fluxes=v,
        elasticities=eps,
        concentration_unscaled=cs,
        flux_unscaled=cj,
        volumes=net.volumes.copy(),
        summation_error=summation,
        connectivity_error=connectivity,
    )


def _theorem_errors(net: SpeciesNetwork, c, eps, cs, cj) -> tuple[float, float]:
    """Largest violations of summation and connectivity, each species row relative to its
    own concentration (``D^-1 Cs``, ``D = diag|c|``) so that small species are tested too."""
    d = np.abs(c)
    d = np.where(d > 0, d, 1e-12 * max(float(d.max()), 1e-300))
    rel = cs / d[:, None]  # dc/c per unit rate change
    kernel = scipy.linalg.null_space(net.stoichiometry)
    q = net.basis
    unit = max(float(np.abs(rel).max(initial=0.0)), 1e-300)
    summation = max(float(np.abs(rel @ kernel).max(initial=0.0)) / unit,
                    float(np.abs(cj @ kernel - kernel).max(initial=0.0)) / max(float(np.abs(cj).max()), 1.0))
    # Cs eps Q = -Q, each row relative to that row of Q
    connectivity = 0.0
    if q.size:
        rows = np.abs(q).max(axis=1)
        keep = rows > 0
        residual = np.abs(cs @ eps @ q + q).max(axis=1)
        connectivity = float((residual[keep] / rows[keep]).max(initial=0.0))
    return summation, connectivity


def _independent_species(n_c: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Rows of ``n_c`` forming a basis of its row space, smallest species first.

    The dependent species (``total - others`` in the link matrix) are then the
    largest of each conservation law, where that subtraction costs no digits."""
    chosen: list[int] = []
    basis = np.zeros((0, n_c.shape[1]))
    for i in np.argsort(size, kind="stable"):
        row = n_c[i]
        norm = float(np.linalg.norm(row))
        if norm == 0:
            continue
        rest = row - basis.T @ (basis @ row) if len(basis) else row
        rest = rest - basis.T @ (basis @ rest) if len(basis) else rest  # twice is enough (Kahan)
        if float(np.linalg.norm(rest)) > 1e-9 * norm:
            basis = np.vstack([basis, rest / np.linalg.norm(rest)])
            chosen.append(int(i))
    return np.array(sorted(chosen), dtype=int)

