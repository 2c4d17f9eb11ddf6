import pickle

import libsbml
import pytest

from epl_sysbio import (
    EplSysbioError,
    InvalidValueError,
    ModelFileNotFoundError,
    ModelLoadError,
    ModelValidationError,
    UnknownIdError,
)
from epl_sysbio.model import Model, load_model

from inline_models import CONSERVED_CYCLE

ANNOTATION = '<annotation><epl:role xmlns:epl="https://epl-sysbio.org/ns" kind="input"/></annotation>'


def test_constructors_are_separate(tmp_path):
    m = Model.from_antimony(CONSERVED_CYCLE)
    assert m.species_ids == ["A", "B", "C", "D"]
    sbml = m.to_sbml()
    assert Model.from_sbml(sbml).reaction_ids == ["J1", "J2", "J3"]
    p = tmp_path / "m.xml"
    p.write_text(sbml)
    assert Model.from_sbml_file(p).id == "conserved_cycle"
    # A path given as text is never read as a file.
    with pytest.raises(ModelLoadError, match="not XML"):
        Model.from_sbml(str(p))
    with pytest.raises(ModelLoadError, match="looks like XML"):
        Model.from_antimony(sbml)


def test_from_roadrunner_and_tellurium_object():
    import tellurium as te

    rr = te.loada(CONSERVED_CYCLE)
    m = Model.from_roadrunner(rr)
    assert set(m.species_ids) == {"A", "B", "C", "D"}
    with pytest.raises(ModelLoadError, match="roadrunner"):
        Model.from_roadrunner(object())


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ModelFileNotFoundError, match="does not exist"):
        Model.from_sbml_file(tmp_path / "nope.xml")
    empty = tmp_path / "empty.ant"
    empty.write_text("  \n")
    with pytest.raises(ModelLoadError, match="empty"):
        load_model(empty)
    with pytest.raises(ModelFileNotFoundError, match="not a file"):
        load_model(tmp_path)


def test_malformed_xml_reports_line():
    with pytest.raises(ModelLoadError, match="line"):
        Model.from_sbml('<?xml version="1.0"?>\n<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">\n<model id="m"><listOfSpecies>\n</sbml>')


def test_entity_bomb_refused_before_parsing():
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">' for i in range(9))
        + ']>\n<sbml>&lol8;</sbml>'
    )
    with pytest.raises(ModelLoadError, match="ENTITY"):
        Model.from_sbml(bomb)


def test_invalid_sbml_names_element_and_line():
    sbml = Model.from_antimony(CONSERVED_CYCLE).to_sbml()
    broken = sbml.replace('compartment="c"', 'compartment="nowhere"', 1)
    with pytest.raises(ModelValidationError) as info:
        Model.from_sbml(broken)
    msg = str(info.value)
    assert "'A'" in msg and "line" in msg and "nowhere" in msg
    report = Model.from_sbml(broken, validate=False).validate()
    assert not report.ok
    assert any(i.element_id == "A" and i.line > 0 and i.severity == "error" for i in report.errors)


def test_antimony_syntax_error():
    with pytest.raises(ModelLoadError, match="Antimony could not read"):
        Model.from_antimony("model m\n  A -> B; k*\nend")


def test_set_values_and_checks():
    m = Model.from_antimony(CONSERVED_CYCLE)
    m.set_values({"k1": 2.5, "A": 4.0, "c": 3.0})
    assert m.get_value("k1") == 2.5 and m.get_value("A") == 4.0 and m.get_value("c") == 3.0
    with pytest.raises(UnknownIdError, match="'zz'"):
        m.set_values({"zz": 1.0, "k1": 7.0})
    assert m.get_value("k1") == 2.5  # nothing changed
    with pytest.raises(InvalidValueError, match=">= 0"):
        m.set_value("A", -1.0)
    with pytest.raises(InvalidValueError, match="finite"):
        m.set_value("k2", float("nan"))


def test_add_and_remove_species_and_reactions():
    m = Model.from_antimony(CONSERVED_CYCLE)
    m.add_species("E", "c", initial_concentration=1.0)
    m.add_reaction("J4", {"E": 1}, {"A": 1}, "c*k5*E*B", parameters={"k5": 0.1})
    assert "J4" in m.reaction_ids and m.get_value("k5") == 0.1
    law = m.sbml_model.getReaction("J4")
    assert [law.getModifier(i).getSpecies() for i in range(law.getNumModifiers())] == ["B"]
    with pytest.raises(UnknownIdError, match="'k9'"):
        m.add_reaction("J5", ["E"], [], "k9*E")
    with pytest.raises(InvalidValueError, match="still used by 'J4'"):
        m.remove_species("E")
    m.remove_reaction("J4")
    m.remove_species("E")
    assert "E" not in m.species_ids
    assert Model.from_sbml(m.to_sbml()).validate().ok


def test_rename_follows_references():
    m = Model.from_antimony(CONSERVED_CYCLE)
    m.rename("A", "ATP")
    m.rename("k1", "k_bind")
    m.rename("c", "cytosol")
    text = m.to_sbml()
    assert Model.from_sbml(text).validate().ok
    j1 = m.sbml_model.getReaction("J1")
    formula = libsbml.formulaToL3String(j1.getKineticLaw().getMath())
    assert "ATP" in formula and "k_bind" in formula and "cytosol" in formula
    assert j1.getReactant(0).getSpecies() == "ATP"
    assert m.sbml_model.getSpecies("B").getCompartment() == "cytosol"
    with pytest.raises(InvalidValueError, match="already used"):
        m.rename("B", "C")


def test_round_trip_sbml_antimony_sbml_keeps_everything():
    m = Model.from_antimony(CONSERVED_CYCLE)
    sp = m.sbml_model.getSpecies("A")
    sp.setMetaId("meta_A")
    sp.setAnnotation(ANNOTATION)
    m.sbml_model.getReaction("J1").setSBOTerm(176)
    back = Model.from_antimony(Model.from_sbml(m.to_sbml()).to_antimony())
    a, b = m.sbml_model, back.sbml_model
    assert sorted(m.species_ids) == sorted(back.species_ids)
    assert sorted(m.reaction_ids) == sorted(back.reaction_ids)
    for p in a.getListOfParameters():
        assert b.getParameter(p.getId()).getValue() == p.getValue()
    for r in a.getListOfReactions():
        f1 = libsbml.formulaToL3String(r.getKineticLaw().getMath())
        f2 = libsbml.formulaToL3String(b.getReaction(r.getId()).getKineticLaw().getMath())
        assert f1 == f2
    assert b.getReaction("J1").getSBOTerm() == 176
    assert 'kind="input"' in b.getSpecies("A").getAnnotationString()


@pytest.mark.parametrize("name", ["phosphorylation_cycle_neuron", "receptor_synapse", "homeostatic_unit"])
def test_bundled_models_export_valid_l3v2(sbml_models_dir, name):
    m = Model.from_antimony_file(sbml_models_dir / f"{name}.ant")
    text = m.to_sbml()
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert doc.checkConsistency() == 0 or all(
        doc.getError(i).getSeverity() < libsbml.LIBSBML_SEV_ERROR for i in range(doc.getNumErrors())
    )


def test_pickles_as_text():
    m = Model.from_antimony(CONSERVED_CYCLE)
    m.set_value("k1", 3.0)
    clone = pickle.loads(pickle.dumps(m))
    assert clone.get_value("k1") == 3.0 and clone.species_ids == m.species_ids


def test_save_chooses_format(tmp_path):
    m = Model.from_antimony(CONSERVED_CYCLE)
    assert load_model(m.save(tmp_path / "x.xml")).species_ids == m.species_ids
    assert load_model(m.save(tmp_path / "x.ant")).species_ids == m.species_ids
    with pytest.raises(EplSysbioError, match="suffix"):
        m.save(tmp_path / "x.bin")
