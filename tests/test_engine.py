import numpy as np
import pytest

from epl_sysbio import InvalidValueError, SteadyStateError, UnknownIdError, UnsupportedModelError
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine, Method, SteadyStateOptions, Status

from inline_models import CONSERVED_CYCLE

MICHAELIS_MENTEN_CHAIN = """
model mm_chain
  compartment cell = 1
  species S1 in cell, S2 in cell, E in cell, ES in cell
  bind:    S1 + E -> ES; cell*(kf*S1*E - kr*ES)
  convert: ES -> S2 + E; cell*kcat*ES
  back:    S2 -> S1; cell*Vb*S2/(Kb + S2)
  kf = 10; kr = 1; kcat = 2; Vb = 1.5; Kb = 0.3
  S1 = 5; S2 = 0; E = 1; ES = 0
end
"""


@pytest.fixture
def engine():
    return Engine(Model.from_antimony(CONSERVED_CYCLE))


def _totals(engine):
    gamma = engine.conservation_matrix
    a = np.array([engine.amounts()[s] for s in engine.floating_ids])
    return gamma @ a, gamma


def test_moiety_analysis_configured_once(engine):
    assert engine.moiety_analysis
    assert engine.roadrunner.getSteadyStateSolver().getValue("auto_moiety_analysis") is False
    assert engine.conservation_matrix.shape == (2, 4)


@pytest.mark.parametrize("species", ["A", "B", "C", "D"])
def test_inject_changes_totals_by_exactly_the_injected_amount(species):
    engine = Engine(Model.from_antimony(CONSERVED_CYCLE))
    engine.steady_state()
    before_amounts = engine.amounts()
    totals_before, gamma = _totals(engine)
    libroadrunner_totals = np.array(list(engine.conserved_totals().values()))
    np.testing.assert_allclose(libroadrunner_totals, totals_before, rtol=1e-12)

    delta = 0.75
    engine.inject({species: delta})
    after = engine.amounts()
    # The injected species gained exactly delta; nothing else moved.
    for sid in engine.floating_ids:
        expected = before_amounts[sid] + (delta if sid == species else 0.0)
        assert after[sid] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    totals_after, _ = _totals(engine)
    column = gamma[:, engine.floating_ids.index(species)]
    np.testing.assert_allclose(totals_after - totals_before, column * delta, atol=1e-12)
    np.testing.assert_allclose(np.array(list(engine.conserved_totals().values())), totals_after, rtol=1e-12)

    # The next steady state keeps the new totals.
    result = engine.steady_state()
    assert result.stable
    totals_ss, _ = _totals(engine)
    np.testing.assert_allclose(totals_ss, totals_after, rtol=1e-9)


def test_raw_libroadrunner_loses_injection_into_independent_species(engine):
    """Negative control: the behaviour the engine exists to correct (DESIGN section 5)."""
    rr = engine.roadrunner
    independent = rr.getIndependentFloatingSpeciesIds()[0]
    totals_before = np.array(rr.model.getConservedMoietyValues())
    index = engine.floating_ids.index(independent)
    amounts = rr.model.getFloatingSpeciesAmounts()
    rr.model.setFloatingSpeciesAmounts([index], [amounts[index] + 1.0])
    np.testing.assert_array_equal(np.array(rr.model.getConservedMoietyValues()), totals_before)


def test_set_amounts_and_concentrations_by_id(engine):
    engine.set_values({"[A]": 1.5, "B": 4.0, "k1": 2.0})
    assert engine.amounts()["A"] == pytest.approx(3.0)  # volume 2
    assert engine.concentrations()["B"] == pytest.approx(2.0)
    assert engine.get_value("k1") == 2.0


def test_bad_values_are_refused_before_anything_changes(engine):
    before = engine.amounts()
    with pytest.raises(UnknownIdError, match="'nope'"):
        engine.set_values({"A": 1.0, "nope": 2.0})
    with pytest.raises(InvalidValueError, match=">= 0"):
        engine.set_values({"A": -1.0})
    with pytest.raises(InvalidValueError, match="finite"):
        engine.set_values({"k1": float("nan")})
    with pytest.raises(InvalidValueError, match="negative"):
        engine.inject({"C": -5.0})
    assert engine.amounts() == before


def test_steady_state_result_fields(engine):
    result = engine.steady_state()
    assert result.status is Status.STABLE and result.stable and result.converged
    assert result.method is Method.NEWTON
    assert result.residual <= 1e-9
    assert result.max_real_eigenvalue < 0
    assert set(result.values) == {"A", "B", "C", "D"}
    # values are concentrations, amounts are amounts (volume 2)
    assert result.amounts["A"] == pytest.approx(2 * result.values["A"])
    # mass action at steady state: J2 = J3 and J1 = J2
    assert result.fluxes["J1"] == pytest.approx(result.fluxes["J2"], rel=1e-8)


def test_michaelis_menten_needs_fallback_or_newton_and_is_right():
    engine = Engine(Model.from_antimony(MICHAELIS_MENTEN_CHAIN))
    result = engine.steady_state()
    assert result.stable
    # Analytic check: at steady state kcat*ES = Vb*S2/(Kb+S2) and binding is in quasi-equilibrium
    v = result.values
    assert 2 * v["ES"] == pytest.approx(1.5 * v["S2"] / (0.3 + v["S2"]), rel=1e-8)
    assert 10 * v["S1"] * v["E"] - 1 * v["ES"] == pytest.approx(2 * v["ES"], rel=1e-8)


def test_throw_raises_for_unstable():
    # Positive feedback A -> 2A with no saturation: x = 0 is an unstable steady state.
    m = Model.from_antimony("model grow\n A -> 2 A; k*A\n k = 1; A = 0\nend")
    engine = Engine(m)
    result = engine.steady_state()
    assert result.status is Status.UNSTABLE
    with pytest.raises(SteadyStateError, match="unstable"):
        engine.steady_state(start="reset", throw=True)


def test_not_converged_is_a_result():
    # Unbounded growth from a positive start: no steady state reachable.
    m = Model.from_antimony("model grow\n -> A; k\n k = 1; A = 1\nend")
    engine = Engine(m, options=SteadyStateOptions(presimulation_times=(1.0,), relax_t_max=100.0))
    result = engine.steady_state()
    assert result.status is Status.NOT_CONVERGED
    assert "relaxation" in result.message
    with pytest.raises(SteadyStateError):
        engine.steady_state(start="reset", throw=True)


def test_batch_is_deterministic_and_order_independent():
    engine = Engine(Model.from_antimony(MICHAELIS_MENTEN_CHAIN))
    inputs = [{"Vb": v} for v in (0.5, 1.0, 1.5, 3.0)]
    first = engine.steady_state_batch(inputs, ["[S2]", "[ES]"])
    again = engine.steady_state_batch(list(reversed(inputs)), ["[S2]", "[ES]"])
    np.testing.assert_allclose(first.values, again.values[::-1], rtol=1e-9)
    assert first.stable.all() and first.start == "reset"
    warm = engine.steady_state_batch(inputs, ["[S2]", "[ES]"], start="warm")
    np.testing.assert_allclose(first.values, warm.values, rtol=1e-7)
    assert warm.start == "warm"


def test_reset_returns_to_start_state(engine):
    start = engine.amounts()
    engine.steady_state()
    assert engine.amounts() != start
    engine.reset()
    assert engine.amounts() == pytest.approx(start)
    engine.steady_state()
    engine.set_start()
    ss = engine.amounts()
    engine.inject({"A": 1.0})
    engine.reset()
    assert engine.amounts() == pytest.approx(ss)


def test_relax_records_trace_and_says_how_it_ended(engine):
    relaxed = engine.relax(["[A]", "[C]"], atol=1e-8, rtol=1e-8)
    assert relaxed.ended_by == "converged" and relaxed.converged
    assert relaxed.trace.shape[1] == 3
    assert np.all(np.diff(relaxed.trace[:, 0]) > 0)
    assert relaxed.residual <= 1e-8 + 1e-8 * np.linalg.norm(engine.state())
    engine.reset()
    capped = engine.relax(["[A]"], t_max=0.5, atol=1e-14, rtol=1e-14)
    assert capped.ended_by == "time_cap" and capped.time == pytest.approx(0.5)


def test_homeostatic_unit_without_conservation(sbml_models_dir):
    engine = Engine(Model.from_antimony_file(sbml_models_dir / "homeostatic_unit.ant"))
    assert engine.conservation_matrix is None
    engine.steady_state()
    engine.inject({"ATP": 2.0})
    result = engine.steady_state()
    assert result.values["ATP"] == pytest.approx(0.2 * 5 / (0.2 + 0.1), rel=1e-9)  # the reservoir restores it


def test_time_course_continues_from_current_state(engine):
    out = engine.time_course(5.0, 11, ["[A]"])
    assert out.shape == (11, 2)
    assert out[0, 1] == pytest.approx(2.0)  # Antimony initial values are concentrations
    assert out[-1, 0] == pytest.approx(5.0)


def test_time_course_reports_reaction_rates(engine):
    # J1 = c (k1 [A][B] - k2 [C]) with c = 2: 12 at the start; the SBML Test Suite reports
    # reaction rates as variables (01344 and kin).
    out = engine.time_course(1.0, 3, ["J1", "[A]", "[B]", "[C]"])
    t, a, b, c = out[:, 0], out[:, 2], out[:, 3], out[:, 4]
    np.testing.assert_allclose(out[:, 1], 2 * (a * b - 0.5 * c), rtol=1e-9)
    assert out[0, 1] == pytest.approx(12.0) and t[-1] == pytest.approx(1.0)
    with pytest.raises(UnknownIdError, match="'J9'"):
        engine.time_course(1.0, 3, ["J9"])


def test_result_to_dict_is_strict_json_even_for_a_diverged_state():
    import json

    m = Model.from_antimony("model grow\n -> A; k\n k = 1; A = 1\nend")
    engine = Engine(m, options=SteadyStateOptions(presimulation_times=(1.0,), relax_t_max=10.0))
    result = engine.steady_state()
    diverged = type(result)(**{**result.__dict__, "residual": float("inf"), "values": {"A": float("nan")}})
    payload = json.loads(json.dumps(diverged.to_dict(), allow_nan=False))
    assert payload["residual"] is None and payload["values"] == {"A": None}
    assert payload["status"] == "not_converged"


# A conserved cycle A <-> B whose forward rate p follows a rate rule to 1. libRoadRunner's
# state vector lists the rate-rule variable p before the species (SBML Test Suite 00033),
# and under moiety analysis it reports wrong rates of change for such a model.
RATE_RULE_AND_CYCLE = """
model rate_rule_cycle
  compartment c = 2
  species A in c, B in c
  J1: A -> B; c*p*A
  J2: B -> A; c*k2*B
  p' = 1 - p
  p = 0.2; k2 = 0.5; A = 3; B = 1
end
"""


def test_rate_rules_before_species_in_the_state_vector_and_no_moiety_analysis():
    engine = Engine(Model.from_antimony(RATE_RULE_AND_CYCLE))
    assert engine.rate_rule_ids == ("p",) and not engine.moiety_analysis
    assert any("moiety analysis off: rate rules on 'p'" in n for n in engine.notes)
    # F by id at the start: d[A]/dt = -p [A] + k2 [B], dp/dt = 1 - p ([A] = 3, [B] = 1).
    a, b, p = 3.0, 1.0, 0.2
    expected = {"A": -p * a + 0.5 * b, "B": p * a - 0.5 * b, "p": 1 - p}
    rates = dict(zip(list(engine.floating_ids) + list(engine.rate_rule_ids), engine.rates_of_change()))
    assert rates == pytest.approx(expected, rel=1e-12)
    result = engine.steady_state(throw=True)
    # p -> 1 and [A] = k2 [B] with [A] + [B] = 4: [A] = 4/3, [B] = 8/3.
    assert result.values["p"] == pytest.approx(1, abs=1e-8)
    assert result.values["A"] == pytest.approx(4 / 3, rel=1e-8)
    assert result.values["B"] == pytest.approx(8 / 3, rel=1e-8)


_A_TO_3B = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="{namespace}" level="{level}" version="{version}">
  <model id="a_to_3b">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false" {b_attrs}/>
    </listOfSpecies>
    <listOfParameters><parameter id="three" value="3" constant="true"/></listOfParameters>
    <listOfReactions>
      <reaction id="J" reversible="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts>{product}</listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><ci> A </ci></math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>"""
_STOICH_MATH = ('<speciesReference species="B"><stoichiometryMath><math xmlns="http://www.w3.org/1998/Math/MathML">'
                "<ci> three </ci></math></stoichiometryMath></speciesReference>")
_PLAIN_B = '<speciesReference species="B" stoichiometry="1" constant="true"/>'


@pytest.mark.parametrize(
    "text, reason",
    [
        # A -> n B with n set by an initial assignment (suite 00516, 01077).
        (_A_TO_3B.format(namespace="http://www.sbml.org/sbml/level3/version2/core", level=3, version=2, b_attrs="",
                         product='<speciesReference id="nB" species="B" stoichiometry="1" constant="true"/>').replace(
            "</listOfParameters>", '</listOfParameters><listOfInitialAssignments><initialAssignment symbol="nB">'
            '<math xmlns="http://www.w3.org/1998/Math/MathML"><ci> three </ci></math></initialAssignment>'
            "</listOfInitialAssignments>"), "stoichiometries of 'nB' are computed"),
        # Level 2 stoichiometryMath (suite 00069).
        (_A_TO_3B.format(namespace="http://www.sbml.org/sbml/level2/version4", level=2, version=4,
                         b_attrs="", product=_STOICH_MATH).replace(
            ' hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"', "").replace(
            ' constant="true"', ""), "stoichiometries of 'J:B' are computed"),
        # A species conversion factor of 3 on B (suite 01642).
        (_A_TO_3B.format(namespace="http://www.sbml.org/sbml/level3/version2/core", level=3, version=2,
                         b_attrs='conversionFactor="three"', product=_PLAIN_B),
         "conversion factors of species 'B' scale the stoichiometry"),
    ],
    ids=["initial_assignment", "stoichiometryMath", "conversion_factor"],
)
def test_computed_stoichiometry_turns_moiety_analysis_off(text, reason):
    # The conservation law is 3 A + B = 3; libRoadRunner's analysis would use A + B = 1 (it
    # refuses stoichiometryMath itself, and gets the other two wrong).
    model = Model.from_antimony(text) if text.startswith("model") else Model.from_sbml(text)
    engine = Engine(model)
    assert not engine.moiety_analysis
    assert any(reason in n for n in engine.notes), engine.notes
    engine.roadrunner.integrator.setValue("relative_tolerance", 1e-10)
    traj = engine.time_course(2.0, 5, ["A", "B"])
    np.testing.assert_allclose(traj[:, 2], 3 * (1 - np.exp(-traj[:, 0])), rtol=1e-7)


FAST_L3V1 = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
  <model id="fast_equilibrium">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfReactions>
      <reaction id="J0" reversible="false" fast="false">
        <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 2 </cn></math></kineticLaw>
      </reaction>
      <reaction id="J1" reversible="true" fast="true">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><minus/><apply><times/><cn> 10 </cn><ci> A </ci></apply><apply><times/><cn> 5 </cn><ci> B </ci></apply></apply>
        </math></kineticLaw>
      </reaction>
      <reaction id="J2" reversible="false" fast="false">
        <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/></listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><ci> B </ci></math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>"""


def test_fast_reactions_are_refused():
    # libRoadRunner with moiety analysis loads this model and treats J1 as an ordinary reaction
    # (SBML Test Suite 00870, 01547: wrong trajectories). It changes steady states too: with J1
    # at rapid equilibrium (10 A = 5 B) and B = 2, A = 1; as an ordinary reaction, A = 1.2.
    with pytest.raises(UnsupportedModelError, match=r"reactions 'J1' are fast"):
        Engine(Model.from_sbml(FAST_L3V1))
    model = Model.from_sbml(FAST_L3V1)
    model.sbml_model.getReaction("J1").setFast(False)  # the advice in the message
    result = Engine(model).steady_state(throw=True)
    assert result.values["A"] == pytest.approx(1.2, rel=1e-9) and result.values["B"] == pytest.approx(2.0, rel=1e-9)
