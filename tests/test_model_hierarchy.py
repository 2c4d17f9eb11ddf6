"""Hierarchical (comp) models are flattened on load (epl_sysbio.model.hierarchy).

The same file run by libRoadRunner (which flattens it itself) is the reference
for the ids and the trajectories. Suite cases 01165-01168 and 01471-01477 were
refused before.
"""

import numpy as np
import pytest
import roadrunner

from epl_sysbio import ModelLoadError
from epl_sysbio.model import Model, load_model

COMP_NS = 'xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1"'

DECAY_DEFINITION = """
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="S" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="X" compartment="c" initialConcentration="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters><parameter id="k" value="0.5" constant="true"/></listOfParameters>
    <listOfReactions>
      <reaction id="J" reversible="false">
        <listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="X" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>k</ci><ci>S</ci><ci>c</ci></apply></math></kineticLaw>
      </reaction>
    </listOfReactions>"""

# Two copies of `decay`: the top-level compartment c replaces both copies' c; the
# top-level species S replaces A's S (starting at 5) but not B's.
OUTER = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" {ns} level="3" version="2" comp:required="true">
  <model id="outer">
    <listOfCompartments>
      <compartment id="c" size="1" constant="true">
        <comp:listOfReplacedElements>
          <comp:replacedElement comp:submodelRef="A" comp:idRef="c"/>
          <comp:replacedElement comp:submodelRef="B" comp:idRef="c"/>
        </comp:listOfReplacedElements>
      </compartment>
    </listOfCompartments>
    <listOfSpecies>
      <species id="S" compartment="c" initialConcentration="5" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false">
        <comp:listOfReplacedElements><comp:replacedElement comp:submodelRef="A" comp:idRef="S"/></comp:listOfReplacedElements>
      </species>
    </listOfSpecies>
    <comp:listOfSubmodels>
      <comp:submodel comp:id="A" comp:modelRef="decay"/>
      <comp:submodel comp:id="B" comp:modelRef="decay"/>
    </comp:listOfSubmodels>
  </model>
  {definitions}
</sbml>"""

INTERNAL = OUTER.format(
    ns=COMP_NS,
    definitions=f'<comp:listOfModelDefinitions><comp:modelDefinition id="decay">{DECAY_DEFINITION}'
    "</comp:modelDefinition></comp:listOfModelDefinitions>",
)


def _external(source: str) -> str:
    return OUTER.format(
        ns=COMP_NS,
        definitions="<comp:listOfExternalModelDefinitions>"
        f'<comp:externalModelDefinition comp:id="decay" comp:source="{source}" comp:modelRef="decay"/>'
        "</comp:listOfExternalModelDefinitions>",
    )


DECAY_FILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="decay">{DECAY_DEFINITION}
  </model>
</sbml>"""

FLAT_SPECIES = ["A__X", "B__S", "B__X", "S"]


def _trajectory(sbml, selections: list[str]) -> np.ndarray:
    rr = roadrunner.RoadRunner(str(sbml))
    rr.integrator.setValue("relative_tolerance", 1e-10)
    rr.integrator.setValue("absolute_tolerance", 1e-14)
    return np.asarray(rr.simulate(0, 4, 9, ["time"] + selections))


@pytest.fixture
def internal_file(tmp_path):
    # libRoadRunner 2.10 flattens a comp model only when given its file: given the same
    # text it silently keeps the top-level model alone (floating species ['S'] here).
    path = tmp_path / "internal.xml"
    path.write_text(INTERNAL)
    return path


def test_hierarchical_model_is_flattened_with_libroadrunners_ids(internal_file):
    model = Model.from_sbml(INTERNAL)
    assert sorted(model.species_ids) == FLAT_SPECIES
    assert sorted(model.reaction_ids) == ["A__J", "B__J"]
    assert sorted(model.parameter_ids) == ["A__k", "B__k"]
    assert model.compartment_ids == ["c"]
    assert any("'A', 'B'" in note and "<submodel>__<id>" in note for note in model.notes)
    exported = model.to_sbml()
    assert "comp:" not in exported
    # libRoadRunner flattens the original itself: same ids, same trajectories.
    rr = roadrunner.RoadRunner(str(internal_file))
    assert sorted(rr.model.getFloatingSpeciesIds()) == FLAT_SPECIES
    selections = [f"[{s}]" for s in FLAT_SPECIES]
    np.testing.assert_allclose(_trajectory(exported, selections), _trajectory(internal_file, selections), rtol=1e-9)
    # The replacement took effect: S starts at 5, B's own copy at 1.
    assert model.get_value("S") == 5 and model.get_value("B__S") == 1


def test_flattened_ids_can_be_edited():
    model = Model.from_sbml(INTERNAL)
    model.rename("B__S", "substrate_B")
    model.set_value("A__k", 1.0)
    exported = model.to_sbml()
    traj = _trajectory(exported, ["[S]", "[substrate_B]"])
    np.testing.assert_allclose(traj[:, 1], 5 * np.exp(-traj[:, 0]), rtol=1e-8)
    np.testing.assert_allclose(traj[:, 2], np.exp(-0.5 * traj[:, 0]), rtol=1e-8)


def test_external_model_definition_resolves_next_to_the_file(tmp_path, internal_file):
    (tmp_path / "decay.xml").write_text(DECAY_FILE)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "decay.xml").write_text(DECAY_FILE)
    for source in ("decay.xml", "sub/decay.xml"):
        main = tmp_path / f"outer_{source.replace('/', '_')}"
        main.write_text(_external(source))
        model = Model.from_sbml_file(main)
        assert sorted(model.species_ids) == FLAT_SPECIES
        assert sorted(load_model(main).species_ids) == FLAT_SPECIES  # what the command line uses
        selections = [f"[{s}]" for s in FLAT_SPECIES]
        np.testing.assert_allclose(
            _trajectory(model.to_sbml(), selections), _trajectory(internal_file, selections), rtol=1e-9
        )


def test_external_model_definition_in_text_is_refused():
    with pytest.raises(ModelLoadError, match=r"'decay.xml'.*Model.from_sbml_file"):
        Model.from_sbml(_external("decay.xml"))


@pytest.mark.parametrize(
    "source, message",
    [
        ("../decay.xml", "not a relative path inside"),
        ("/etc/decay.xml", "not a relative path inside"),
        ("http://example.org/decay.xml", "not a relative path inside"),
        ("missing.xml", "does not exist"),
        ("doctype.xml", "DOCTYPE"),
    ],
)
def test_external_model_files_outside_the_directory_or_unsafe_are_refused(tmp_path, source, message):
    (tmp_path / "decay.xml").write_text(DECAY_FILE)  # one level up from the model for "../decay.xml"
    (tmp_path / "model").mkdir()
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>' + DECAY_FILE.split("?>", 1)[1]
    (tmp_path / "model" / "doctype.xml").write_text(bomb)
    main = tmp_path / "model" / "outer.xml"
    main.write_text(_external(source))
    with pytest.raises(ModelLoadError, match=message):
        Model.from_sbml_file(main)
