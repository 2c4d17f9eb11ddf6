"""Tests of the COPASI adapter in tests/copasi_reference.py.

Real COPASI, no mocks.  Each test pins a fact about COPASI that
docs/biomodels_findings.md and tests/test_real_models.py rely on; the
libRoadRunner behaviours beside them are re-measured by
analysis/biomodels_survey.py.  The biggest model (0628) is left out because
one COPASI solve of it takes minutes.
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
)

from epl_sysbio import Engine


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


def test_engine_matches_analytic_and_copasi_on_chain():
    sbml = _sbml(CHAIN)
    ours = Engine(sbml).steady_state()
    assert ours.stable
    assert {s: ours.values[s] for s in ("A", "B")} == pytest.approx({"A": 2.0, "B": 4.0}, rel=1e-9)
    copasi = copasi_steady_state(sbml, mca=False)
    np.testing.assert_allclose(np.sort(ours.eigenvalues.real), np.sort(copasi.eigenvalues.real), rtol=1e-6)


def test_copasi_helper_leaves_no_data_model_behind():
    import COPASI

    before = COPASI.CRootContainer.getDatamodelList().size()
    copasi_steady_state(_sbml(CHAIN))
    with pytest.raises(KeyError):
        copasi_steady_state(_sbml(CHAIN), {"nope": 1.0})
    assert COPASI.CRootContainer.getDatamodelList().size() == before


def test_biomd0033_copasi_reproduces_the_published_reference():
    reference = json.loads((BIOMODELS_DIR / "BIOMD0000000033.reference.json").read_text())["values"]
    copasi = copasi_steady_state("BIOMD0000000033.xml", mca=False)
    assert set(reference) <= set(copasi.concentrations)
    assert max_relative_difference(copasi.concentrations, reference)[0] < 1e-9


def test_biomd0853_copasi_reaches_the_unstimulated_state():
    copasi = copasi_steady_state("BIOMD0000000853.xml", mca=False)
    # COPASI integrates past the stimulus (`time <= tstimdur`): the unstimulated rest state
    assert copasi.concentrations["PP"] == pytest.approx(0.0035 / 0.005, rel=1e-9)


def test_biomd0020_resting_state_of_the_rate_rule_variables():
    resting = {"V": -0.0036207, "m": 0.052955, "h": 0.595994, "n": 0.317732}
    copasi = copasi_steady_state("BIOMD0000000020.xml", mca=False)
    assert copasi.status == "found equilibrium" and copasi.stability == "stable"
    for key, value in resting.items():
        assert copasi.ode_values[key] == pytest.approx(value, rel=2e-5), key


def test_biomd0127_copasi_finds_the_rest_state_of_the_event_free_ode():
    copasi = copasi_steady_state("BIOMD0000000127.xml", mca=False)
    assert copasi.ode_values == pytest.approx({"v": -70.0, "U": -14.0}, rel=1e-12)
    assert copasi.stability == "stable"


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


def test_biomd0183_copasi_reads_the_rewritten_laws_faithfully():
    rewritten = kinetic_laws_to_assignment_rules(
        "BIOMD0000000183.xml", ["reaction_129", "reaction_130", "reaction_131", "reaction_132"]
    )
    assert copasi_rate_mismatches(rewritten) == {}
    copasi = copasi_steady_state(rewritten, mca=False)
    assert copasi.status == "found" and copasi.stability == "stable"
    # the Engine agrees with it (tests/test_real_models.py::test_calmodulin_2008_...)


