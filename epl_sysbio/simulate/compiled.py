"""Compiling a model for the :class:`~epl_sysbio.simulate.Engine`, and where its values live.

libRoadRunner compiles the SBML once (:func:`compile_sbml`);
:func:`index_model` records ids and positions in libRoadRunner's vectors (read
and written by id, never by position: the floating-species order changes under
moiety analysis, and rate-rule variables come first in the state vector);
:func:`scale_integrator_tolerance` fits CVODE's absolute tolerance to the
compartment sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import roadrunner

from epl_sysbio.errors import ModelLoadError
from epl_sysbio.model import Model

if TYPE_CHECKING:
    from epl_sysbio.simulate.engine import Engine

__all__ = ["compile_sbml", "index_model", "scale_integrator_tolerance"]


def compile_sbml(model: Model, moieties: bool) -> tuple[roadrunner.RoadRunner, str | None]:
    """The compiled model, and why moiety analysis was refused (None if it was not)."""
    text = model.document.toSBML()
    options = roadrunner.LoadSBMLOptions()
    options.conservedMoieties = moieties
    try:
        return roadrunner.RoadRunner(text, options), None
    except RuntimeError as exc:
        if moieties:  # some networks are refused reduced but load unreduced
            try:
                return roadrunner.RoadRunner(text), str(exc).strip()
            except RuntimeError:
                pass
        raise ModelLoadError(f"Model {model.id!r}: libRoadRunner cannot compile it: {exc}") from None


def index_model(engine: Engine) -> None:
    """Set the engine's ids and its positions in libRoadRunner's vectors (all private layout attributes)."""
    rr, m = engine.roadrunner, engine.roadrunner.model
    engine.floating_ids: tuple[str, ...] = tuple(m.getFloatingSpeciesIds())
    engine.boundary_ids: tuple[str, ...] = tuple(m.getBoundarySpeciesIds())
    engine.reaction_ids: tuple[str, ...] = tuple(m.getReactionIds())
    engine.parameter_ids: tuple[str, ...] = tuple(p for p in m.getGlobalParameterIds() if not p.startswith("_CSUM"))
    engine.compartment_ids: tuple[str, ...] = tuple(m.getCompartmentIds())
    engine._float_index = {s: i for i, s in enumerate(engine.floating_ids)}
    n_state = len(rr.getRatesOfChange())
    engine._state_ids = tuple(m.getStateVectorId(i) for i in range(n_state))
    # Positions in libRoadRunner's state vector, which lists rate-rule variables before the
    # species (SBML Test Suite 00033: ['k1', 'S1', 'S2']): never assume an order.
    engine._species_pos = np.array([i for i, s in enumerate(engine._state_ids) if s in engine._float_index], dtype=int)
    engine._rule_pos = np.array([i for i, s in enumerate(engine._state_ids) if s not in engine._float_index], dtype=int)
    engine.rate_rule_ids: tuple[str, ...] = tuple(engine._state_ids[i] for i in engine._rule_pos)
    species_state = tuple(engine._state_ids[i] for i in engine._species_pos)
    engine._state_species = np.array([engine._float_index[s] for s in species_state], dtype=int)
    engine._fixed = set(engine.model.assignment_rule_variables)
    # Species defined by assignment rules are computed, never written.
    engine._writable = np.array([i for i, s in enumerate(engine.floating_ids) if s not in engine._fixed], dtype=np.int32)
    engine._volume_index = np.array(
        [m.getCompartmentIndexForFloatingSpecies(i) for i in range(len(engine.floating_ids))], dtype=int
    )
    # Link matrix L (all floating x independent): full amount rates = L @ independent rates.
    engine._gamma = None
    engine._link = None
    if engine.moiety_analysis and m.getNumConservedMoieties() > 0:
        gamma = rr.getConservationMatrix()
        cols = [engine._float_index[c] for c in gamma.colnames]
        engine._gamma = np.zeros((gamma.shape[0], len(engine.floating_ids)))
        engine._gamma[:, cols] = np.asarray(gamma)
        link = rr.getLinkMatrix()
        engine._link = np.zeros((len(engine.floating_ids), link.shape[1]))
        engine._link[[engine._float_index[r] for r in link.rownames], :] = np.asarray(link)
        independent = tuple(link.colnames)
        if independent != species_state:
            # The state vector must list the independent species in the link matrix's column order.
            order = [independent.index(s) for s in species_state]
            engine._link = engine._link[:, order]
    engine._known = (
        set(engine.floating_ids)
        | set(engine.boundary_ids)
        | set(engine.parameter_ids)
        | set(engine.compartment_ids)
    )


def scale_integrator_tolerance(engine: Engine) -> None:
    """CVODE's absolute tolerance is in amounts (default 1e-12); in femtolitre
    compartments amounts are ~1e-21 and would drown in it. Scale it to the
    smallest compartment volume times the typical positive concentration."""
    if not engine.floating_ids:
        return
    vols = engine._volumes()
    conc = np.abs(engine._m.getFloatingSpeciesConcentrations())
    typical = float(np.median(conc[conc > 0])) if np.any(conc > 0) else 1.0
    # 1e-9 of a typical amount in the smallest compartment, never looser than the default.
    atol = 1e-9 * float(vols.min()) * typical
    if atol < 1e-12:
        engine.roadrunner.integrator.setValue("absolute_tolerance", atol)
        engine.notes.append(f"integrator absolute tolerance scaled to {atol:.3g} (small compartments/amounts)")
