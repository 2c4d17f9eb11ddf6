"""NumPy reference of the EPL energy and flows (DESIGN.md section 2), vectorised over states.

For a spec with n nodes, a state is ``x`` (amounts, > 0) and ``p`` (momenta),
each of shape ``(..., n)`` in :attr:`RdsSpec.nodes` order; every function
accepts any number of leading batch dimensions.

    H(x, p) = sum_i x_i (ln x_i + a_i) + 1/2 x^T V x + sum_i x_i p_i^2 / (2 m_i)
    mu_i    = ln x_i + psi_i,   psi_i = 1 + a_i + (V x)_i + p_i^2 / (2 m_i)   (the "excess potential")
    w_i     = x_i p_i / m_i

Flows (summed over those selected)::

    reaction, diffusion  J_r = k_r (exp(alpha_r.mu) - exp(beta_r.mu)),   dx += nu_r J_r
                         (exp(alpha_r.mu) = prod_i (x_i e^psi_i)^alpha_ri: no logarithm needed)
    hamiltonian          c_r = x_a x_b for the edge a -> b (nu_r = e_b - e_a)
                         dx += nu_r v_r (w_b - w_a) c_r,   dp -= nu_r v_r (mu_b - mu_a) c_r
    collision            dp_i -= c_i w_i
    homeostasis          dx_i += h_i (x_i exp(-mu_i) - x_i) = h_i (exp(-psi_i) - x_i)

The generated SBML (:mod:`epl_sysbio.dynamics.sbml`) writes the same
expressions; a test checks that libRoadRunner's compiled rates equal these.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from epl_sysbio.dynamics.spec import RdsSpec
from epl_sysbio.errors import InvalidValueError, format_ids

__all__ = ["FLOWS", "ReferenceDynamics"]

#: Names of the flows :meth:`ReferenceDynamics.rhs` can select.
FLOWS = ("reaction", "diffusion", "hamiltonian", "collision", "homeostasis")


class ReferenceDynamics:
    """Energy, gradients and right-hand side of an :class:`RdsSpec`, in NumPy.

    Parameters
    ----------
    spec : RdsSpec
    """

    def __init__(self, spec: RdsSpec) -> None:
        self.spec = spec
        n = len(spec.nodes)
        ix = spec.node_index
        self.n = n
        self.a = spec.potentials()
        self.m = spec.masses()
        self.V = spec.electric_matrix()
        self.h = np.array([nd.reservoir for nd in spec.nodes])
        self.c = np.array([nd.friction for nd in spec.nodes])
        self.M = spec.composition_matrix()
        # Chemical edges as index triples: reactant 1, reactant 2 (n = "none", a padding 1), product.
        r1, r2, pr, k = spec.chemical_edges()
        self._n_reactions = len(spec.reactions)
        self._r1, self._r2, self._pr = r1, np.where(r2 < 0, n, r2), pr
        self._k = k
        alpha, beta = spec.stoichiometry()
        self._nu_chem = (beta - alpha)[:, : len(k)].T  # (R_chem, n)
        self._ha = np.array([ix[e.gene, e.a] for e in spec.hamiltonian], dtype=int)
        self._hb = np.array([ix[e.gene, e.b] for e in spec.hamiltonian], dtype=int)
        self._v = np.array([e.rate for e in spec.hamiltonian], dtype=float)
        self._nu_ham = (beta - alpha)[:, len(k):].T  # (R_ham, n): -1 at a, +1 at b

    # ---------------------------------------------------------------- energy
    def excess_potential(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """psi = mu - ln x = 1 + a + V x + p^2 / (2 m), shape (..., n)."""
        x, p = np.asarray(x, dtype=float), np.asarray(p, dtype=float)
        return 1.0 + self.a + x @ self.V + p * p / (2.0 * self.m)

    def energy(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """H(x, p), shape (...). ``x ln x`` is taken as 0 at x = 0."""
        x, p = np.asarray(x, dtype=float), np.asarray(p, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogx = np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)
        return (xlogx + x * self.a + 0.5 * x * (x @ self.V) + x * p * p / (2.0 * self.m)).sum(axis=-1)

    def chemical_potential(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """mu = dH/dx = ln x + 1 + a + V x + p^2 / (2 m), shape (..., n)."""
        return np.log(x) + self.excess_potential(x, p)

    def velocity(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """w = dH/dp = x p / m, shape (..., n)."""
        return np.asarray(x, dtype=float) * np.asarray(p, dtype=float) / self.m

    def conserved_totals(self, x: np.ndarray) -> np.ndarray:
        """M^T x, shape (..., n_components): constant when no node has a reservoir."""
        return np.asarray(x, dtype=float) @ self.M

    # ---------------------------------------------------------------- flows
    def rhs(self, x: np.ndarray, p: np.ndarray, flows: Iterable[str] = FLOWS) -> tuple[np.ndarray, np.ndarray]:
        """(dx/dt, dp/dt), each shape (..., n), summed over the selected ``flows`` (see :data:`FLOWS`)."""
        flows = set(flows)
        bad = flows - set(FLOWS)
        if bad:
            raise InvalidValueError(f"ReferenceDynamics.rhs: unknown flows {format_ids(bad)}. "
                                    f"Use any of {format_ids(FLOWS)}.")
        x, p = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(p, dtype=float))
        psi = self.excess_potential(x, p)
        dx = np.zeros_like(x)
        dp = np.zeros_like(x)
        chem = np.ones(self._k.shape, dtype=bool)
        chem[: self._n_reactions] = "reaction" in flows
        chem[self._n_reactions:] = "diffusion" in flows
        if chem.any():
            # z_i = exp(mu_i) = x_i e^psi_i, padded with a 1 for "no second reactant".
            z = np.concatenate([x * np.exp(psi), np.ones(x.shape[:-1] + (1,))], axis=-1)
            flux = self._k * chem * (z[..., self._r1] * z[..., self._r2] - z[..., self._pr])
            dx += flux @ self._nu_chem
        if "hamiltonian" in flows and len(self._v):
            a, b = self._ha, self._hb
            w = self.velocity(x, p)
            c = x[..., a] * x[..., b]
            with np.errstate(divide="ignore", invalid="ignore"):
                dmu = np.log(x[..., b]) - np.log(x[..., a]) + psi[..., b] - psi[..., a]
            jx = self._v * (w[..., b] - w[..., a]) * c
            jp = self._v * dmu * c
            dx += jx @ self._nu_ham
            dp -= jp @ self._nu_ham
        if "collision" in flows:
            dp -= self.c * self.velocity(x, p)
        if "homeostasis" in flows:
            dx += self.h * (np.exp(-psi) - x)
        return dx, dp

