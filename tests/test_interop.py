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


def test_math_inspection_survives_tellurium_import():
    """Importing tellurium loads a second SWIG runtime, after which libsbml's
    ASTNode.getType() returns enum pointers; the model's math inspection must not
    depend on it (it once silently lost the time dependence of BIOMD0000000853)."""
    import subprocess
    import sys

    code = (
        "import tellurium as te\n"
        "te.loada('model m\\n A -> B; k*A\\n k=1; A=1\\nend')\n"
        "from epl_sysbio import Model\n"
        "m = Model.from_antimony('model m\\n A -> B; k*A*(1 + sin(time))\\n k=1; A=1\\nend')\n"
        "assert m.uses_time\n"
        "m.add_species('E', m.compartment_ids[0], initial_amount=1.0)\n"
        "m.add_reaction('J2', ['B'], ['A'], 'kb*B*E', parameters={'kb': 0.1})\n"
        "r = m.sbml_model.getReaction('J2')\n"
        "assert [r.getModifier(i).getSpecies() for i in range(r.getNumModifiers())] == ['E']\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
