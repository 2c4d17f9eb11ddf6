"""The one stopping rule, its compiled twins in the kernel, and the `unchecked` stability status."""

import numpy as np
import pytest

from epl_sysbio.dynamics import kernel
from epl_sysbio.errors import InvalidValueError
from epl_sysbio.simulate import Engine, SteadyStateOptions, Status
from epl_sysbio.simulate.stopping import StoppingRule


def test_rule_passes_exactly_at_its_tolerance():
    rule = StoppingRule(atol=1e-6, rtol=1e-3)
    assert rule.tolerance(2.0) == pytest.approx(1e-6 + 2e-3)
    assert rule.passes(rule.tolerance(2.0), 2.0) and not rule.passes(rule.tolerance(2.0) * 1.001, 2.0)
    assert not rule.passes(float("nan"), 1.0)


def test_steady_refuses_negative_concentrations_beyond_the_tolerance():
    rule = StoppingRule(atol=1e-9, rtol=1e-9)
    f = np.zeros(2)
    assert rule.steady(f, np.array([1.0, -1e-12]))
    assert not rule.steady(f, np.array([1.0, -1e-3]))
    assert rule.steady(f, np.array([1.0, -1e-3]), n_species=1)  # the second entry is a rate-rule variable


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), True, "1e-9"])
def test_rule_refuses_bad_tolerances(bad):
    with pytest.raises(InvalidValueError, match="atol"):
        StoppingRule(atol=bad, rtol=1e-9)


def test_compiled_twins_agree_with_the_rule():
    rng = np.random.default_rng(3)
    for _ in range(200):
        y = rng.standard_normal(4) * 10.0 ** rng.uniform(-6, 3)
        f = rng.standard_normal(4) * 10.0 ** rng.uniform(-12, 0)
        atol, rtol = 10.0 ** rng.uniform(-10, -2, size=2)
        rule = StoppingRule(atol=atol, rtol=rtol)
        norm_f, norm_y = float(np.linalg.norm(f)), float(np.linalg.norm(y))
        assert kernel.residual_ok(y, f, atol, rtol) == rule.passes(norm_f, norm_y)
        everything_allowed = np.zeros(4, dtype=bool)  # no sign or drop check: only the residual test is left
        assert kernel.newton_accepted(y, y, everything_allowed, atol, rtol, norm_f, norm_y, 0.0) == rule.passes(
            norm_f, norm_y)


def test_options_and_learner_tolerances_share_the_rule():
    from epl_sysbio.epl.learner import LearnerOptions

    assert SteadyStateOptions(atol=1e-7, rtol=1e-5).stopping == StoppingRule(atol=1e-7, rtol=1e-5)
    options = LearnerOptions()
    assert options.tolerances.stopping == StoppingRule(atol=options.atol, rtol=options.rtol)


def test_stability_off_reports_unchecked_not_stable():
    engine = Engine("""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="birth_death">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="S" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false"
      boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfParameters><parameter id="k" value="1" constant="true"/><parameter id="v" value="2" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="make" reversible="false"><listOfProducts><speciesReference species="S" stoichiometry="1"
        constant="true"/></listOfProducts><kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><ci>v</ci>
        </math></kineticLaw></reaction>
      <reaction id="decay" reversible="false"><listOfReactants><speciesReference species="S" stoichiometry="1"
        constant="true"/></listOfReactants><kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply>
        <times/><ci>k</ci><ci>S</ci></apply></math></kineticLaw></reaction>
    </listOfReactions>
  </model>
</sbml>""")
    unchecked = engine.steady_state(options=SteadyStateOptions(stability=False), throw=True)
    assert unchecked.status is Status.UNCHECKED and unchecked.converged and not unchecked.stable
    assert unchecked.eigenvalues is None and "stability" not in unchecked.message
    assert unchecked["S"] == pytest.approx(2.0)
    checked = engine.steady_state(start="reset")
    assert checked.status is Status.STABLE and checked.eigenvalues is not None
