"""What libRoadRunner 2.10 gets wrong, measured on the SBML Test Suite, and what the Engine does about it.

The Engine compiles with conserved-moiety analysis (fast steady states; see
:mod:`epl_sysbio.simulate.engine`). Under it, libRoadRunner 2.10 returns wrong
numbers for some models without a word; :func:`moiety_analysis_unsafe` names
them, and the Engine compiles those without moiety analysis. Fast reactions it
does not simulate at all, and under moiety analysis it silently treats them as
ordinary reactions: :func:`refuse_fast_reactions` refuses them. Compartment
sizes that are not finite and > 0 :func:`refuse_bad_sizes` refuses.
"""

from __future__ import annotations

import math

from epl_sysbio.errors import InvalidValueError, UnsupportedModelError, format_ids
from epl_sysbio.model import Model

__all__ = ["moiety_analysis_unsafe", "refuse_bad_sizes", "refuse_fast_reactions"]


def moiety_analysis_unsafe(model: Model) -> str | None:
    """Why libRoadRunner 2.10's conserved-moiety analysis would give wrong numbers here, or None.

    Each was measured on the SBML Test Suite. With rate rules, ``getRatesOfChange()``
    reports wrong rates under moiety analysis (00033: [1, -0.8] where the unreduced model
    gives [0.8, -0.2]). The conservation laws come from the plain stoichiometric matrix, so
    they are wrong, and time courses with them, when stoichiometries are computed
    (stoichiometryMath, initial assignments, rules: 00068, 00069, 00516, 01077) or scaled by
    conversion factors (01405, 01642).
    """
    if model.rate_rule_variables:
        return (f"rate rules on {format_ids(model.rate_rule_variables)} (libRoadRunner 2.10 reports wrong "
                "rates of change for them under moiety analysis)")
    computed = model.computed_stoichiometries
    if computed:
        return (f"the stoichiometries of {format_ids(computed)} are computed, and libRoadRunner's "
                "conservation analysis uses the plain ones")
    sbml = model.sbml_model
    owners = [f"the model ({sbml.getConversionFactor()!r})"] if sbml.isSetConversionFactor() else []
    species = [s.getId() for s in sbml.getListOfSpecies() if s.isSetConversionFactor()]
    owners += [f"species {format_ids(species)}"] if species else []
    if owners:
        return (f"conversion factors of {' and '.join(owners)} scale the stoichiometry, and libRoadRunner's "
                "conservation analysis uses the plain one")
    return None


def refuse_fast_reactions(model: Model) -> None:
    """Raise :class:`UnsupportedModelError` when the model has fast reactions.

    A fast reaction is a rapid equilibrium: its rate law is held at zero. libRoadRunner
    refuses such a model, except under moiety analysis, where it treats fast reactions as
    ordinary ones: wrong trajectories (SBML Test Suite 00870, 01547 and 21 more) and wrong
    steady states (an ordinary reaction carries flux where the fast one is at equilibrium).
    """
    fast = [r.getId() for r in model.sbml_model.getListOfReactions() if r.isSetFast() and r.getFast()]
    if fast:
        raise UnsupportedModelError(
            f"Model {model.id!r}: reactions {format_ids(fast)} are fast (rapid equilibrium: the rate law held "
            "at zero), which libRoadRunner does not simulate; with moiety analysis it would treat them as "
            "ordinary reactions and get trajectories and steady states wrong. To study the ordinary-reaction "
            "model, clear the flag: model.sbml_model.getReaction(id).setFast(False)."
        )


def refuse_bad_sizes(model: Model) -> None:
    """Compartment sizes must be finite and > 0: concentrations divide by them, and a negative size
    makes CVODE's absolute tolerance negative (an illegal input it reports as a bare RuntimeError)."""
    bad = {}
    sbml = model.sbml_model
    for c in sbml.getListOfCompartments():
        computed = sbml.getInitialAssignmentBySymbol(c.getId()) is not None or sbml.getRule(c.getId()) is not None
        if computed or not c.isSetSize() or c.getSpatialDimensionsAsDouble() == 0:
            continue
        if not (math.isfinite(c.getSize()) and c.getSize() > 0):
            bad[c.getId()] = c.getSize()
    if bad:
        shown = ", ".join(f"{k!r} = {v!r}" for k, v in sorted(bad.items()))
        raise InvalidValueError(f"Model {model.id!r}: compartment sizes must be finite and > 0; got {shown}. "
                                "Fix the size in the model (or set it with --set / set_values).")
