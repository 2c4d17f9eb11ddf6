"""Models go in from tellurium and come out for tellurium and COPASI."""

import pytest

from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine

BUNDLED = ["phosphorylation_cycle_neuron", "receptor_synapse", "homeostatic_unit"]


@pytest.mark.parametrize("name", BUNDLED)
def test_exported_sbml_loads_in_tellurium_with_same_steady_state(sbml_models_dir, name):
    import tellurium as te

    model = Model.from_antimony_file(sbml_models_dir / f"{name}.ant")
    ours = Engine(model).steady_state()
    rr = te.loads(model.to_sbml())
    rr.conservedMoietyAnalysis = True
    rr.steadyState()
    for sid, value in ours.values.items():
        assert rr[f"[{sid}]"] == pytest.approx(value, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("name", BUNDLED)
def test_exported_antimony_loads_in_tellurium(sbml_models_dir, name):
    import tellurium as te

    model = Model.from_antimony_file(sbml_models_dir / f"{name}.ant")
    rr = te.loada(model.to_antimony())
    assert sorted(rr.model.getFloatingSpeciesIds()) == sorted(model.floating_species_ids)


def test_tellurium_model_goes_in(sbml_models_dir):
    import tellurium as te

    rr = te.loada((sbml_models_dir / "receptor_synapse.ant").read_text())
    rr.simulate(0, 3, 10)  # current state differs from the initial one
    model = Model.from_roadrunner(rr)
    assert Engine(model).steady_state().stable
