"""Control coefficients by re-solving the steady state: a third, independent reference.

Each kinetic law ``v_j`` becomes ``f_j * v_j`` with a new global parameter
``f_j = 1``; then the scaled concentration control coefficient is exactly
``d ln c_i / d ln f_j``, estimated by central differences of two steady
states at ``f_j = 1 +- h``, each solved tightly with the engine. No
elasticities, no linear algebra: it checks both ours and COPASI's MCA.
Accuracy: O(h^2) truncation plus the solve tolerance over h, about 1e-7
relative for h = 1e-4 and atol = rtol = 1e-15; species near the rounding
floor of a conservation total (``total - others`` under moiety analysis) are
not resolved by it (BIOMD0000000569's 1e-21 M species).
"""

from __future__ import annotations

import libsbml
import numpy as np

from epl_sysbio import Engine, Model, SteadyStateOptions


def resolved_scaled_concentration_cc(sbml_text: str, reactions=None, *, h: float = 1e-4,
                                     tol: float = 1e-15) -> dict[tuple[str, str], float]:
    """``{(species id, reaction id): d ln c / d ln v}`` for ``reactions`` (default all)."""
    document = libsbml.readSBMLFromString(sbml_text)
    model = document.getModel()
    ids = [r.getId() for r in model.getListOfReactions()]
    for rid in ids:
        parameter = model.createParameter()
        parameter.setId(f"f_{rid}")
        parameter.setValue(1.0)
        parameter.setConstant(False)
        law = model.getReaction(rid).getKineticLaw()
        law.setMath(libsbml.parseL3Formula(f"f_{rid} * ({libsbml.formulaToL3String(law.getMath())})"))
    engine = Engine(Model.from_sbml(libsbml.writeSBMLToString(document)),
                    options=SteadyStateOptions(atol=tol, rtol=tol))
    base = engine.steady_state()
    assert base.converged, base.message
    species = [s for s in engine.floating_ids if base.values[s] > 0]
    out = {}
    for rid in reactions or ids:
        logs = []
        for factor in (1 + h, 1 - h):
            result = engine.steady_state({f"f_{rid}": factor}, start="current")
            assert result.converged, result.message
            logs.append(np.log([result.values[s] for s in species]))
        engine.set_values({f"f_{rid}": 1.0})
        engine.steady_state(start="current")
        for s, value in zip(species, (logs[0] - logs[1]) / (2 * h)):
            out[(s, rid)] = float(value)
    return out
