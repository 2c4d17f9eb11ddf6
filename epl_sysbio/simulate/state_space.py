"""The engine's raw state: libRoadRunner's state vector, its scale, and the directions it can move in.

libRoadRunner integrates a *raw* state: the independent species amounts (all
of them without moiety analysis) and the rate-rule variables, in its own order.
The state-space Newton (:mod:`epl_sysbio.simulate.solvers.relaxation`) and the
finite-difference eigenvalues (:mod:`epl_sysbio.simulate.stability`) work on
it; everything here reads or writes an :class:`~epl_sysbio.simulate.Engine`'s
compiled model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.simulate.numerics import finite_difference_jacobian, range_and_null_space

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["raw_state", "set_raw_state", "raw_rates", "raw_scale", "raw_jacobian", "dynamic_basis",
           "stoichiometric_split", "unreduced_laws", "project_to_totals"]


def raw_state(engine: Engine) -> np.ndarray:
    """libRoadRunner's state vector, by id (amounts and rate-rule variables)."""
    rr = engine.roadrunner
    return np.array([rr.getValue(s) for s in engine._state_ids], dtype=float)


def set_raw_state(engine: Engine, x: np.ndarray) -> None:
    """Write the raw state; within moiety analysis this moves along the conserved manifold (totals kept)."""
    rr = engine.roadrunner
    for sid, v in zip(engine._state_ids, x):
        rr.setValue(sid, float(v))


def raw_rates(engine: Engine) -> np.ndarray:
    """d(raw state)/dt, in libRoadRunner's units (amounts per time for species)."""
    return np.asarray(engine.roadrunner.getRatesOfChange(), dtype=float)


def raw_scale(engine: Engine) -> np.ndarray:
    """Volume of each raw state entry's compartment (1 for rate-rule variables)."""
    vols = engine._volumes() if engine.floating_ids else np.zeros(0)
    index = engine._float_index
    return np.array([vols[index[s]] if s in index else 1.0 for s in engine._state_ids])


def raw_jacobian(engine: Engine, x: np.ndarray, f: np.ndarray, *, central: bool = False) -> np.ndarray:
    """Finite-difference Jacobian of the raw rates at ``x`` (``f`` the rates there); non-hot paths only."""
    return finite_difference_jacobian(x, f, lambda y: set_raw_state(engine, y), lambda: raw_rates(engine),
                                      central=central)


def stoichiometric_split(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal bases of range(N) and of its complement, the conservation laws,
    for the species in the raw state (unreduced engines). Cached on the engine: N is fixed."""
    if engine._split is None:
        species_state = [engine._state_ids[i] for i in engine._species_pos]
        if not engine.reaction_ids:
            n_mat = np.zeros((len(species_state), 0))  # libRoadRunner has no matrix to give
        else:
            stoich = engine.roadrunner.getFullStoichiometryMatrix()
            rows = {r: i for i, r in enumerate(stoich.rownames)}
            n_mat = np.asarray(stoich)[[rows[s] for s in species_state], :]
        engine._split = range_and_null_space(n_mat)
    return engine._split


def unreduced_laws(engine: Engine) -> bool:
    """True when the engine runs unreduced and the network has conservation laws."""
    return (not engine.moiety_analysis and len(engine._state_species) > 0
            and stoichiometric_split(engine)[1].shape[1] > 0)


def dynamic_basis(engine: Engine) -> np.ndarray:
    """Orthonormal basis of the directions the raw state can move in."""
    n_rr = len(engine._rule_pos)
    if not len(engine._species_pos):
        return np.eye(n_rr)
    if engine.moiety_analysis:
        basis_species = np.eye(len(engine._species_pos))  # already independent
    else:
        basis_species = stoichiometric_split(engine)[0]
    width = basis_species.shape[1]
    q = np.zeros((len(engine._state_ids), width + n_rr))
    q[np.ix_(engine._species_pos, np.arange(width))] = basis_species
    q[engine._rule_pos, width:] = np.eye(n_rr)
    return q


def project_to_totals(engine: Engine, origin: tuple[np.ndarray, np.ndarray]) -> None:
    """Put an unreduced state back on the conserved totals of ``origin`` (a snapshot).

    A time course conserves totals only to the integrator's tolerance; with
    C the conservation laws (rows), x <- x - C^T C (x - x0) removes the drift
    (C has orthonormal rows)."""
    if not unreduced_laws(engine):
        return
    _, laws = stoichiometric_split(engine)
    x = raw_state(engine)
    xs = x[engine._species_pos]
    x0 = origin[0][engine._state_species]
    x[engine._species_pos] = xs - laws @ (laws.T @ (xs - x0))
    set_raw_state(engine, x)
