"""Our SBML round trip against the SBML Test Suite (the vendored subset in tests/data/sbml_test_suite).

For every case: load the case's file, export it (SBML L3V2), simulate the
export with libRoadRunner and compare with the case's expected results under
the case's own tolerances. The second pass makes a harmless edit first (one
species renamed, one parameter set to its own value) and must match too.
Cases libRoadRunner cannot simulate (algebraic rules, delay differential
equations, fast reactions) must fail on the export exactly as on the
original; flux-balance cases (not time courses) must keep their fbc content.
analysis/sbml_test_suite.py runs the whole suite.
"""

import json

import libsbml
import pytest
import roadrunner

from epl_sysbio.model import Model

import sbml_suite

INDEX = json.loads((sbml_suite.VENDORED / "index.json").read_text())
CASES = sorted(INDEX["cases"])


def _case(case_id: str) -> sbml_suite.Case:
    return sbml_suite.read_case(sbml_suite.VENDORED / case_id)


def _roadrunner_refusal(sbml) -> str | None:
    """libRoadRunner's message when it cannot compile the model, else None."""
    try:
        roadrunner.RoadRunner(str(sbml))
    except RuntimeError as exc:
        return str(exc).split(".")[0]
    return None


def _fbc_content(sbml: str) -> tuple:
    doc = libsbml.readSBMLFromString(sbml)
    plugin = doc.getModel().getPlugin("fbc")
    objectives = [
        (o.getId(), o.getType(), sorted((f.getReaction(), f.getCoefficient()) for f in o.getListOfFluxObjectives()))
        for o in plugin.getListOfObjectives()
    ]
    bounds = sorted((b.getReaction(), b.getOperation(), b.getValue()) for b in plugin.getListOfFluxBounds())
    return objectives, bounds, sorted(r.getId() for r in doc.getModel().getListOfReactions())


def test_subset_spans_the_suite():
    assert len(CASES) >= 300
    assert INDEX["commit"] and len(INDEX["commit"]) == 40
    tags = {t for entry in INDEX["cases"].values() for t in entry["componentTags"] + entry["testTags"]}
    for needed in ("comp:Submodel", "comp:ExternalModelDefinition", "EventWithDelay", "EventNoDelay", "RateRule",
                   "AssignmentRule", "AlgebraicRule", "StoichiometryMath", "LocalParameters", "CSymbolDelay",
                   "FastReaction", "fbc:Objective", "ConversionFactors"):
        assert needed in tags


@pytest.mark.parametrize("edit", [False, True], ids=["as_loaded", "edited"])
@pytest.mark.parametrize("case_id", CASES)
def test_round_trip_matches_expected_results(case_id, edit):
    case = _case(case_id)
    model = Model.from_sbml_file(case.sbml_path())
    renamed = sbml_suite.harmless_edit(model, case.expected()[0][1:]) if edit else {}
    exported = model.to_sbml()
    if not case.is_time_course:
        assert _fbc_content(exported) == _fbc_content(case.sbml_path().read_text())
        return
    try:
        actual = sbml_suite.simulate_roadrunner(exported, case, renamed)
    except RuntimeError as exc:
        # A feature libRoadRunner does not simulate: it must say the same about the original.
        refusal = str(exc).split(".")[0]
        assert refusal.startswith("Unable to support"), refusal
        assert refusal == _roadrunner_refusal(case.sbml_path())
        return
    result = sbml_suite.check(case, actual)
    assert result.ok, result.reason
