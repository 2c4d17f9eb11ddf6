"""A second steady-state finder: minimise the speed potential ``E(c) = |dc/dt|^2 / 2``.

Idea from Qiu & Huang (2024, the edge-of-chaos paper): E is zero exactly at
fixed points, so its global minima are the steady states, stable or not. Here
``F(c) = V^-1 N v(c)`` (:class:`SpeciesNetwork`) and the minimisation is a
bounded nonlinear least-squares problem (scipy's trust-region reflective
``least_squares``) in all species concentrations with

* positivity as bounds ``c >= 0``;
* the conservation laws as extra residuals ``W^T (c - c0)`` (``W`` the
  orthonormal conservation basis; zero exactly on the start's class), so
  minimising ``|F|^2 + |W^T (c - c0)|^2`` has the same zeros as E on the class;
* the Jacobian ``[V^-1 N eps; W^T]`` from the network's elasticities;
* weights (same zeros as E): first each species' rate divided by its gross
  turnover at the start (floored at 1e-9 of the largest), then, if that
  fails, all by the largest; conservation residuals by the largest
  concentration. Unweighted, E on femtomolar models is 1e-26 and the
  optimiser's tolerances call it converged at once.

A found point is projected exactly onto the class, written into the engine,
and accepted only if the engine's residual test passes there
(``norm(F) <= atol + rtol * norm(x)``, the engine's options) and every
species' net rate is at most ``max_imbalance`` of its gross turnover
(:meth:`SpeciesNetwork.imbalance`), after a
Newton polish from it (:meth:`Engine.steady_state`, kept only if it stays
within 1e-6 relative). It is independent of libRoadRunner's NLEQ2 and CVODE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from epl_sysbio.analysis.network import SpeciesNetwork
from epl_sysbio.errors import UnsupportedModelError
from epl_sysbio.simulate import Engine, SteadyStateResult

__all__ = ["SpeedPotentialResult", "speed_potential_steady_state"]


@dataclass(frozen=True)
class SpeedPotentialResult:
    """``success``: the residual test passed at ``concentrations`` (species order of the network).

    ``energy`` is E at the minimiser before polishing; ``steady_state`` the
    engine's result at the accepted point after the Newton polish (None unless
    ``success``, or when Newton moved away from it).
    """

    success: bool
    message: str
    energy: float
    concentrations: dict[str, float]
    evaluations: int
    steady_state: SteadyStateResult | None = None


def speed_potential_steady_state(
    engine: Engine,
    start: dict[str, float] | None = None,
    *,
    network: SpeciesNetwork | None = None,
    max_evaluations: int = 1000,
    max_imbalance: float = 1e-6,
) -> SpeedPotentialResult:
    """Minimise E from the engine's current state (or ``start``, concentrations by id).

    On success the engine is left at the steady state; otherwise at the start.
    Models driven by rate rules are refused (``success=False``, the reason in ``message``).
    """
    try:
        net = network or SpeciesNetwork(engine)
    except UnsupportedModelError as exc:
        return SpeedPotentialResult(False, str(exc), float("nan"), {}, 0)
    net.sync_parameters()
    c0 = net.concentrations()
    if start:
        c0 = np.array([start.get(s, c) for s, c in zip(net.species, c0)], dtype=float)
    c0 = np.maximum(c0, 0.0)
    before = {s: a for s, a in zip(net.species, net.concentrations() * net.volumes)}
    failures = []
    for weighting in ("turnover", "scalar"):
        c, fit = _minimise(net, c0, weighting, max_evaluations)
        energy = 0.5 * float(np.sum(net.rates(c) ** 2))
        imbalance = net.imbalance(c)
        engine.set_amounts(dict(zip(net.species, c * net.volumes)))
        if _passes(engine) and imbalance <= max_imbalance:
            break
        failures.append(f"{weighting} weights: minimum E = {energy:.3g} (net/gross rate {imbalance:.2g}) is not a "
                        f"steady state ({fit.message})")
    else:
        engine.set_amounts({s: max(a, 0.0) for s, a in before.items()})
        return SpeedPotentialResult(False, "; ".join(failures), energy, dict(zip(net.species, c.tolist())),
                                    int(fit.nfev))
    found = dict(zip(net.species, c.tolist()))
    polished = engine.steady_state(start="current")
    if not polished.converged or _distance(net.concentrations(), c) > 1e-6:
        engine.set_amounts(dict(zip(net.species, c * net.volumes)))  # Newton wandered: keep E's point
        polished = None
    return SpeedPotentialResult(True, f"E minimised to {energy:.3g} in {fit.nfev} evaluations ({weighting} weights)",
                                energy, found, int(fit.nfev), polished)


def _minimise(net: SpeciesNetwork, c0: np.ndarray, weighting: str, max_evaluations: int):
    """Bounded least squares on the weighted residuals; returns the point (on c0's class) and the fit."""
    laws = net.laws
    scale = np.maximum(np.abs(c0), 1e-12 * max(float(np.abs(c0).max()), 1e-300))
    net.set_concentrations(c0)
    gross = (np.abs(net.stoichiometry) @ np.abs(net.reaction_rates())) / net.volumes
    top = max(float(gross.max(initial=0.0)), 1e-300)
    rate_unit = gross + 1e-9 * top if weighting == "turnover" else np.full(len(gross), top)
    conc_unit = max(float(np.abs(c0).max(initial=0.0)), 1e-300)

    def residuals(y: np.ndarray) -> np.ndarray:
        c = y * scale
        return np.concatenate([net.rates(c) / rate_unit, laws.T @ (c - c0) / conc_unit])

    def jacobian(y: np.ndarray) -> np.ndarray:
        c = y * scale
        jac = np.vstack([net.jacobian(net.elasticities(c, sync=False)) / rate_unit[:, None], laws.T / conc_unit])
        return jac * scale[None, :]

    fit = least_squares(residuals, c0 / scale, jac=jacobian, bounds=(0.0, np.inf), method="trf",
                        x_scale="jac", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=max_evaluations)
    c = fit.x * scale
    return np.maximum(c - laws @ (laws.T @ (c - c0)), 0.0), fit  # exactly on the conservation class


def _passes(engine: Engine) -> bool:
    x = engine.state()
    n = len(engine.floating_ids)
    tol = engine.options.atol + engine.options.rtol * float(np.linalg.norm(x))
    return engine.residual() <= tol and bool(np.all(x[:n] >= -tol))


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(float(np.linalg.norm(b)), 1e-300))

