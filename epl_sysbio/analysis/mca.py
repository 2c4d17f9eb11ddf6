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

With ``Q`` an orthonormal basis of ``range(V^-1 N)`` (so any choice of
independent species gives the same answer, with or without libRoadRunner's
moiety analysis) and ``M = Q^T V^-1 N eps Q`` the reduced Jacobian:

    Cs = -Q M^-1 Q^T V^-1 N          (a rate change dv_j moves c by Cs[:, j] dv_j)
    CJ = I + eps Cs

(the ``C^s = -L (N_r eps L)^-1 N_r`` of Reder 1988 with ``L = Q``). Theorems
checked as a self-test: summation ``Cs K = 0`` and ``CJ K = K`` for a basis
``K`` of the null space of ``N`` (scaled: rows of scaled ``Cs`` sum to 0, of
scaled ``CJ`` to 1), connectivity ``Cs eps Q = -Q``.

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
        Largest violation of the theorems above, relative to the largest
        coefficient (about 1e-12 when the linear algebra is sound).
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
        """Summation and connectivity theorems hold to 1e-8 (relative)."""
        return self.summation_error < 1e-8 and self.connectivity_error < 1e-8


def control_coefficients(engine: Engine, network: SpeciesNetwork | None = None) -> ControlCoefficients:
    """Control coefficients at the engine's current state, which must be a steady state.

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
    c = net.concentrations().copy()
    eps = net.elasticities(c)
    v = net.reaction_rates().copy()  # at c: elasticities() leaves the evaluator there
    q = net.basis
    n_c = net.stoichiometry / net.volumes[:, None]  # V^-1 N
    m = q.T @ n_c @ eps @ q  # reduced Jacobian
    n_s, n_r = len(net.species), len(net.reactions)
    if q.shape[1] == 0:
        cs = np.zeros((n_s, n_r))
    else:
        try:
            lu = scipy.linalg.lu_factor(m, check_finite=True)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise SteadyStateError(f"Model {engine.model_id!r}: reduced Jacobian unusable ({exc}).") from None
        if np.linalg.cond(m) > 1e14:
            raise SteadyStateError(
                f"Model {engine.model_id!r}: the reduced Jacobian is singular (condition number "
                f"{np.linalg.cond(m):.3g}): a fold or marginal state, where control coefficients are infinite. "
                "Move the parameters away from the bifurcation."
            )
        cs = -q @ scipy.linalg.lu_solve(lu, q.T @ n_c)  # M X = Q^T V^-1 N, Cs = -Q X
    cj = np.eye(n_r) + eps @ cs
    scale = max(float(np.abs(cs).max(initial=0.0)), float(np.abs(cj).max(initial=0.0)), 1e-300)
    kernel = scipy.linalg.null_space(net.stoichiometry) if n_r else np.zeros((0, 0))
    summation = max(float(np.abs(cs @ kernel).max(initial=0.0)), float(np.abs(cj @ kernel - kernel).max(initial=0.0)))
    connectivity = float(np.abs(cs @ eps @ q + q).max(initial=0.0)) if q.size else 0.0
    return ControlCoefficients(
        species=net.species,
        reactions=net.reactions,
        concentrations=c,
        fluxes=v,
        elasticities=eps,
        concentration_unscaled=cs,
        flux_unscaled=cj,
        volumes=net.volumes.copy(),
        summation_error=summation / scale,
        connectivity_error=connectivity,
    )
