"""Tests of the reference helpers in tests/copasi_reference.py.

Real COPASI and real libRoadRunner, no mocks.  Each test pins a fact that
docs/biomodels_findings.md relies on; the big models (0183, 0628) are left
out because one COPASI solve of them takes seconds to minutes.
"""

from __future__ import annotations

import json

import antimony
import numpy as np
import pytest

from copasi_reference import (
    BIOMODELS_DIR,
    copasi_rate_mismatches,
    copasi_steady_state,
    kinetic_laws_to_assignment_rules,
    max_relative_difference,
    roadrunner_full_state_newton,
    roadrunner_reference,
)


def _sbml(antimony_text: str) -> str:
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(antimony_text) < 0:
        raise ValueError(antimony.getLastError())
    return antimony.getSBMLString(antimony.getMainModuleName())


# A <-> B in a compartment of volume 2: the rate laws are in amount/time
# (c * ...), so d[A]/dt = -k1 [A] + k2 [B] and the steady state in
# concentrations is [A] = T k2 / (k1 + k2), [B] = T k1 / (k1 + k2) with
# T = [A]0 + [B]0.  Amounts would be twice these.
REVERSIBLE = """
model reversible
  compartment c = 2
  species A in c = 3, B in c = 1
  R1: A -> B; c*(k1*A - k2*B)
  k1 = 0.5; k2 = 0.25
end
"""

# Synthesis, conversion, degradation in volume 2: [A]* = v0/k1, [B]* = v0/k2;
# flux J = c*v0 through all three reactions.
CHAIN = """
model chain
  compartment c = 2
  species A in c = 3, B in c = 1
  J0: -> A; c*v0
  R1: A -> B; c*k1*A
  R2: B -> ; c*k2*B
  v0 = 1; k1 = 0.5; k2 = 0.25
end
"""


def test_copasi_concentrations_equal_analytic_steady_state_in_volume_2():
    result = copasi_steady_state(_sbml(REVERSIBLE), mca=False)
    assert result.status in ("found", "found equilibrium")
    assert result.concentrations["A"] == pytest.approx(4 * 0.25 / 0.75, rel=1e-9)
    assert result.concentrations["B"] == pytest.approx(4 * 0.5 / 0.75, rel=1e-9)
    # one independent species; its eigenvalue is -(k1 + k2)
    assert result.eigenvalues.real == pytest.approx([-0.75], rel=1e-6)
    assert result.stability == "stable"


def test_copasi_changes_are_applied_by_id_before_solving():
    result = copasi_steady_state(_sbml(REVERSIBLE), {"A": 5.0, "k2": 0.5}, mca=False)
    # T = 6 and k1 = k2: both at 3
    assert result.concentrations["A"] == pytest.approx(3.0, rel=1e-9)
    assert result.concentrations["B"] == pytest.approx(3.0, rel=1e-9)


def test_copasi_changes_reject_unknown_ids():
    with pytest.raises(KeyError, match="no_such_id"):
        copasi_steady_state(_sbml(REVERSIBLE), {"no_such_id": 1.0}, mca=False)


def test_copasi_control_coefficients_equal_analytic_ones_by_id():
    result = copasi_steady_state(_sbml(CHAIN))
    assert result.concentrations == pytest.approx({"A": 2.0, "B": 4.0}, rel=1e-9)
    expected_scaled = {
        ("A", "J0"): 1.0, ("A", "R1"): -1.0, ("A", "R2"): 0.0,
        ("B", "J0"): 1.0, ("B", "R1"): 0.0, ("B", "R2"): -1.0,
    }
    assert set(result.scaled_cc) == set(expected_scaled)
    for key, value in expected_scaled.items():
        assert result.scaled_cc[key] == pytest.approx(value, abs=1e-6), key
    # COPASI's unscaled CC is d[A]/d(v_J0 / c): it is c = 2 times
    # libRoadRunner's getUnscaledConcentrationControlCoefficientMatrix,
    # which differentiates by the reaction rate in amount/time.
    assert result.unscaled_cc[("A", "J0")] == pytest.approx(1 / 0.5, rel=1e-6)
    assert result.unscaled_cc[("B", "R2")] == pytest.approx(-1 / 0.25, rel=1e-6)


def test_roadrunner_reference_matches_analytic_and_copasi_on_chain():
    sbml = _sbml(CHAIN)
    rr_result = roadrunner_reference(sbml)
    assert rr_result.status == "found"
    assert rr_result.conserved_moiety_analysis
    assert rr_result.concentrations == pytest.approx({"A": 2.0, "B": 4.0}, rel=1e-9)
    copasi = copasi_steady_state(sbml, mca=False)
    np.testing.assert_allclose(np.sort(rr_result.eigenvalues.real), np.sort(copasi.eigenvalues.real), rtol=1e-6)


def test_copasi_helper_leaves_no_data_model_behind():
    import COPASI

    before = COPASI.CRootContainer.getDatamodelList().size()
    copasi_steady_state(_sbml(CHAIN))
    with pytest.raises(KeyError):
        copasi_steady_state(_sbml(CHAIN), {"nope": 1.0})
    assert COPASI.CRootContainer.getDatamodelList().size() == before


def test_biomd0635_copasi_and_roadrunner_agree_by_id():
    copasi = copasi_steady_state("BIOMD0000000635.xml", mca=False)
    rr_result = roadrunner_reference("BIOMD0000000635.xml")
    assert copasi.status == "found" and rr_result.status == "found"
    assert set(copasi.concentrations) <= set(rr_result.concentrations)
    difference, where = max_relative_difference(copasi.concentrations, rr_result.concentrations)
    assert difference < 1e-6, (difference, where)
    assert copasi.stability == rr_result.stability == "stable"


def test_biomd0010_is_unstable_in_copasi_and_in_roadrunner():
    copasi = copasi_steady_state("BIOMD0000000010.xml", mca=False)
    rr_result = roadrunner_reference("BIOMD0000000010.xml")
    assert copasi.status == "found"
    assert copasi.stability == "unstable"
    # a complex pair crossing the axis: the Hopf oscillator of Kholodenko 2000
    assert copasi.max_real_eigenvalue == pytest.approx(1.581e-3, rel=1e-3)
    assert rr_result.max_real_eigenvalue == pytest.approx(copasi.max_real_eigenvalue, rel=1e-6)
    assert max_relative_difference(copasi.concentrations, rr_result.concentrations)[0] < 1e-9


def test_biomd0033_both_engines_reproduce_the_published_reference():
    reference = json.loads((BIOMODELS_DIR / "BIOMD0000000033.reference.json").read_text())["values"]
    copasi = copasi_steady_state("BIOMD0000000033.xml", mca=False)
    plain = roadrunner_reference("BIOMD0000000033.xml")
    presimulated = roadrunner_reference("BIOMD0000000033.xml", presimulation_time=1000)
    assert set(reference) <= set(copasi.concentrations)
    assert max_relative_difference(copasi.concentrations, reference)[0] < 1e-9
    assert plain.status.startswith("failed") and "Maximum iterations exceeded" in plain.status
    assert max_relative_difference(presimulated.concentrations, reference)[0] < 1e-9


def test_roadrunner_moiety_analysis_after_simulate_changes_the_totals():
    """Why roadrunner_reference switches moiety analysis on before anything."""
    import roadrunner

    r = roadrunner.RoadRunner(str(BIOMODELS_DIR / "BIOMD0000000033.xml"))
    egf_total = r["EGF"] + r["boundEGFReceptor"]
    r.simulate(0, 1000, 2)
    r.conservedMoietyAnalysis = True
    assert r["EGF"] + r["boundEGFReceptor"] != pytest.approx(egf_total, rel=1e-3)


def test_biomd0853_agrees_once_the_stimulus_is_switched_off():
    copasi = copasi_steady_state("BIOMD0000000853.xml", mca=False)
    at_time_zero = roadrunner_reference("BIOMD0000000853.xml")
    no_stimulus = roadrunner_reference("BIOMD0000000853.xml", {"tstimdur": -1.0})
    # steadyState() evaluates `time <= tstimdur` at t = 0: stimulus on forever
    assert at_time_zero.concentrations["PP"] == pytest.approx((1 + 0.0035) / 0.005, rel=1e-9)
    assert copasi.concentrations["PP"] == pytest.approx(0.0035 / 0.005, rel=1e-9)
    assert max_relative_difference(copasi.concentrations, no_stimulus.concentrations)[0] < 1e-9


def test_biomd0020_resting_state_of_the_rate_rule_variables():
    resting = {"V": -0.0036207, "m": 0.052955, "h": 0.595994, "n": 0.317732}
    copasi = copasi_steady_state("BIOMD0000000020.xml", mca=False)
    newton = roadrunner_full_state_newton("BIOMD0000000020.xml", timecourse_to=200)
    assert copasi.status == "found equilibrium" and copasi.stability == "stable"
    for key, value in resting.items():
        assert copasi.ode_values[key] == pytest.approx(value, rel=2e-5), key
    assert newton.status == "found" and newton.stability == "stable"
    assert max_relative_difference(copasi.ode_values, newton.ode_values)[0] < 1e-9
    assert newton.max_real_eigenvalue == pytest.approx(copasi.max_real_eigenvalue, rel=1e-6)


def test_biomd0127_events_refused_by_roadrunner_copasi_finds_the_rest_state():
    copasi = copasi_steady_state("BIOMD0000000127.xml", mca=False)
    rr_result = roadrunner_reference("BIOMD0000000127.xml")
    assert copasi.ode_values == pytest.approx({"v": -70.0, "U": -14.0}, rel=1e-12)
    assert copasi.stability == "stable"
    assert rr_result.status.startswith("failed") and "events" in rr_result.status


def test_biomd0009_copasi_eigenvalues_need_a_small_derivation_factor():
    # -0.0716142 +- 0.0512i: an independent central difference of the SBML
    # right-hand side, and libRoadRunner's reduced Jacobian, agree on it.
    fine = copasi_steady_state("BIOMD0000000009.xml", mca=False)
    coarse = copasi_steady_state("BIOMD0000000009.xml", mca=False, derivation_factor=1e-3)
    assert fine.max_real_eigenvalue == pytest.approx(-0.0716142, rel=1e-5)
    assert coarse.max_real_eigenvalue == pytest.approx(-0.0929300, rel=1e-5)
    # the state itself does not depend on it
    assert max_relative_difference(fine.concentrations, coarse.concentrations)[0] < 1e-6


def test_copasi_rate_mismatches_finds_the_mass_action_misimport_of_0183():
    mismatches = copasi_rate_mismatches("BIOMD0000000183.xml")
    assert sorted(mismatches) == ["reaction_129", "reaction_130", "reaction_131", "reaction_132"]
    copasi_rate, rr_rate = mismatches["reaction_132"]
    # the dropped factor is b^(1/2) with b = cD = 0.00396
    assert rr_rate / copasi_rate == pytest.approx(0.00396**0.5, rel=1e-9)


def test_copasi_rate_mismatches_is_empty_where_the_import_is_faithful():
    assert copasi_rate_mismatches("BIOMD0000000010.xml") == {}
    assert copasi_rate_mismatches(_sbml(CHAIN)) == {}


def test_biomd0183_agrees_once_copasi_cannot_misread_the_laws():
    rewritten = kinetic_laws_to_assignment_rules(
        "BIOMD0000000183.xml", ["reaction_129", "reaction_130", "reaction_131", "reaction_132"]
    )
    assert copasi_rate_mismatches(rewritten) == {}
    copasi = copasi_steady_state(rewritten, mca=False)
    # libRoadRunner's Newton lands on a root with negative concentrations in
    # this 1e-15 L compartment; a tight time course is the reference.
    time_course = roadrunner_reference(
        "BIOMD0000000183.xml", moiety=False, integrator_absolute_tolerance=1e-30, timecourse_to=1e4, solve=False
    )
    assert copasi.status == "found" and copasi.stability == "stable"
    assert max_relative_difference(copasi.concentrations, time_course.concentrations)[0] < 1e-9


def test_biomd0569_plain_newton_stops_off_the_steady_state_in_a_tiny_compartment():
    copasi = copasi_steady_state("BIOMD0000000569.xml", mca=False)
    plain = roadrunner_reference("BIOMD0000000569.xml")
    # NLEQ2 judges convergence in amounts (the synapse is 1e-16 L): it
    # reports success where concentrations still change fast, some negative.
    assert plain.status == "found" and plain.residual < 1e-15
    assert plain.relative_rate > 1.0
    assert min(plain.concentrations.values()) < 0
    # same concentrations ODE in a 1 L compartment (every law is synapse * f([X]))
    recipe = roadrunner_reference("BIOMD0000000569.xml", {"synapse": 1.0}, timecourse_to=100)
    assert max_relative_difference(copasi.concentrations, recipe.concentrations)[0] < 1e-6
    assert recipe.max_real_eigenvalue == pytest.approx(copasi.max_real_eigenvalue, rel=1e-6)
