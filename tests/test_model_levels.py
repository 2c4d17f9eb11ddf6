"""Level/version conversion on export and Level 2 unit names on load (epl_sysbio.model.levels).

Each class of model here was refused or lost by our export before (SBML Test
Suite cases named in each test); each test also simulates the export with
libRoadRunner and checks the trajectory the model means.
"""

import libsbml
import numpy as np
import pytest
import roadrunner

from epl_sysbio import ModelValidationError
from epl_sysbio.model import Model

# L3V1: reaction J2's local parameter S1 shadows species S1, a modifier of J2
# (allowed in L3V1, forbidden in L3V2 by rule 21173); like suite case 00059.
# A global parameter already holds the id the rename would take first.
SHADOWING_L3V1 = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
  <model id="shadow">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="S1" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="S2" compartment="c" initialAmount="2" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="S3" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters><parameter id="J2_S1" value="100" constant="true"/></listOfParameters>
    <listOfReactions>
      <reaction id="J1" reversible="false" fast="false">
        <listOfReactants><speciesReference species="S1" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="S2" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><cn>0.5</cn><ci>S1</ci></apply></math></kineticLaw>
      </reaction>
      <reaction id="J2" reversible="false" fast="false">
        <listOfReactants><speciesReference species="S2" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="S3" stoichiometry="1" constant="true"/></listOfProducts>
        <listOfModifiers><modifierSpeciesReference species="S1"/></listOfModifiers>
        <kineticLaw>
          <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>S1</ci><ci>S2</ci></apply></math>
          <listOfLocalParameters><localParameter id="S1" value="0.3"/></listOfLocalParameters>
        </kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>"""


def _stoich_math_l2v5(reactants: list[str], kinetic_law: str = "<cn> -1 </cn>", extra: str = "") -> str:
    refs = "".join(
        f'<speciesReference id="A_sr{i}" species="A"><stoichiometryMath>'
        f'<math xmlns="http://www.w3.org/1998/Math/MathML">{math}</math></stoichiometryMath></speciesReference>'
        for i, math in enumerate(reactants)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level2/version5" level="2" version="5">
  <model id="stoich">
    <listOfCompartments><compartment id="C" size="1"/></listOfCompartments>
    <listOfSpecies><species id="A" compartment="C" initialAmount="1"/></listOfSpecies>
    {extra}
    <listOfReactions>
      <reaction id="J0" reversible="false">
        <listOfReactants>{refs}</listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{kinetic_law}</math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>"""


def _trajectory(sbml: str, selections: list[str], t_end: float = 2.0, points: int = 11) -> np.ndarray:
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.setValue("relative_tolerance", 1e-10)
    rr.integrator.setValue("absolute_tolerance", 1e-14)
    return np.asarray(rr.simulate(0, t_end, points, ["time"] + selections))


def test_local_parameter_shadowing_a_species_is_renamed_for_l3v2():
    model = Model.from_sbml(SHADOWING_L3V1)
    exported = model.to_sbml()  # used to raise "exported SBML L3V2 is invalid" (rule 21173)
    doc = libsbml.readSBMLFromString(exported)
    law = doc.getModel().getReaction("J2").getKineticLaw()
    # J2_S1 is a global parameter already, so the rename takes the next free id.
    assert [p.getId() for p in law.getListOfLocalParameters()] == ["J2_S1_2"]
    assert libsbml.formulaToL3String(law.getMath()) == "J2_S1_2 * S2"
    # J1 had no local parameter: its S1 is still the species.
    assert libsbml.formulaToL3String(doc.getModel().getReaction("J1").getKineticLaw().getMath()) == "0.5 * S1"
    species = ["S1", "S2", "S3"]
    original = _trajectory(SHADOWING_L3V1, species)
    np.testing.assert_allclose(_trajectory(exported, species), original, rtol=1e-8, atol=1e-12)
    # The local value 0.3 (not species S1, which starts at 1) drives J2: dS3/dt(0) = 0.3 * 2.
    rr = roadrunner.RoadRunner(exported)
    assert rr.getRatesOfChange()[list(rr.model.getFloatingSpeciesIds()).index("S3")] == pytest.approx(0.6)


@pytest.mark.parametrize(
    "maths, per_unit_rate",
    [
        (["<cn type='integer'> 2 </cn>", "<cn type='integer'> 1 </cn>"], 3.0),  # suite 01435
        (["<cn> 2.5 </cn>"], 2.5),
    ],
)
def test_constant_stoichiometry_math_becomes_a_constant_stoichiometry(maths, per_unit_rate):
    text = _stoich_math_l2v5(maths)
    exported = Model.from_sbml(text).to_sbml()
    doc = libsbml.readSBMLFromString(exported)  # keep the document alive while its model is used
    m = doc.getModel()
    assert m.getNumRules() == 0
    refs = m.getReaction("J0").getListOfReactants()
    assert [r.getConstant() for r in refs] == [True] * len(maths)
    assert sum(r.getStoichiometry() for r in refs) == pytest.approx(per_unit_rate)
    # Rate -1: each reactant unit is produced back, A(t) = 1 + per_unit_rate * t. Before the fix
    # libRoadRunner failed on the export (CVODE convergence failure at t = 0) with two references.
    traj = _trajectory(exported, ["A"])
    np.testing.assert_allclose(traj[:, 1], 1 + per_unit_rate * traj[:, 0], rtol=1e-9)
    np.testing.assert_allclose(traj, _trajectory(text, ["A"]), rtol=1e-9)


def test_stoichiometry_math_of_constant_parameters_becomes_an_initial_assignment():
    params = '<listOfParameters><parameter id="n" value="1.5" constant="true"/></listOfParameters>'
    maths = ["<apply><times/><cn> 2 </cn><ci> n </ci></apply>"]
    exported = Model.from_sbml(_stoich_math_l2v5(maths, extra=params)).to_sbml()
    doc = libsbml.readSBMLFromString(exported)  # keep the document alive while its model is used
    m = doc.getModel()
    assert m.getNumRules() == 0
    assert m.getReaction("J0").getReactant(0).getConstant()
    assert libsbml.formulaToL3String(m.getInitialAssignmentBySymbol("A_sr0").getMath()) == "2 * n"
    traj = _trajectory(exported, ["A"])
    np.testing.assert_allclose(traj[:, 1], 1 + 3.0 * traj[:, 0], rtol=1e-9)


def test_variable_stoichiometry_math_stays_a_rule():
    maths = ["<apply><plus/><cn> 1 </cn><csymbol encoding='text' "
             "definitionURL='http://www.sbml.org/sbml/symbols/time'> t </csymbol></apply>"]
    text = _stoich_math_l2v5(maths)
    exported = Model.from_sbml(text).to_sbml()
    doc = libsbml.readSBMLFromString(exported)  # keep the document alive while its model is used
    m = doc.getModel()
    assert m.getRule("A_sr0") is not None and not m.getReaction("J0").getReactant(0).getConstant()
    # dA/dt = (1 + t): A(t) = 1 + t + t^2 / 2.
    traj = _trajectory(exported, ["A"])
    t = traj[:, 0]
    np.testing.assert_allclose(traj[:, 1], 1 + t + t**2 / 2, rtol=1e-8)


L3_WITH_LEVEL2_UNIT = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="units" timeUnits="second" areaUnits="area" volumeUnits="{volume}">
    <listOfParameters><parameter id="p" value="1" constant="false"/></listOfParameters>
    <listOfRules><rateRule variable="p"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>2</cn></math></rateRule></listOfRules>
  </model>
</sbml>"""


def test_level2_unit_name_in_a_level3_model_is_defined_not_refused():
    # Suite case 00959 names areaUnits="area", a Level 2 built-in; libsbml check 10313 refused it.
    model = Model.from_sbml(L3_WITH_LEVEL2_UNIT.format(volume="litre"))
    assert model.validate().ok
    assert any("'area'" in note and "metre^2" in note for note in model.notes)
    unit = model.sbml_model.getUnitDefinition("area").getUnit(0)
    assert (libsbml.UnitKind_toString(unit.getKind()), unit.getExponent()) == ("metre", 2)
    assert "areaUnits=\"area\"" in model.to_sbml()


def test_unknown_unit_name_is_still_refused():
    with pytest.raises(ModelValidationError, match="10313"):
        Model.from_sbml(L3_WITH_LEVEL2_UNIT.format(volume="furlong_cubed"))


def test_fast_reaction_keeps_its_meaning_in_a_level3_version1_export():
    # SBML L3V2 has no 'fast' attribute; libsbml's conversion drops it and the export would
    # simulate a rapid-equilibrium reaction as an ordinary one (suite 01396, 01547, 01565).
    text = SHADOWING_L3V1.replace('<reaction id="J1" reversible="false" fast="false">',
                                  '<reaction id="J1" reversible="false" fast="true">')
    exported = Model.from_sbml(text).to_sbml()
    doc = libsbml.readSBMLFromString(exported)
    assert (doc.getLevel(), doc.getVersion()) == (3, 1)
    assert doc.getModel().getReaction("J1").getFast()
    with pytest.raises(RuntimeError, match="Unable to support 'fast' reactions"):
        roadrunner.RoadRunner(exported)  # as for the original: refused, not silently wrong


def test_rename_reaches_level2_stoichiometry_math():
    # libsbml does not list <stoichiometryMath> among a model's elements (suite 01481).
    maths = ["<apply><times/><cn> 2 </cn><ci> A </ci></apply>"]
    model = Model.from_sbml(_stoich_math_l2v5(maths))
    model.rename("A", "A_renamed")
    exported = model.to_sbml()
    doc = libsbml.readSBMLFromString(exported)
    rule = doc.getModel().getRule("A_sr0")
    assert libsbml.formulaToL3String(rule.getMath()) == "2 * A_renamed"
