"""Property: any text fed to the loaders ends in a model or an EplSysbioError; never a
crash, a C++ traceback or a hang. Loaded models also survive the engine."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epl_sysbio import EplSysbioError
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine, SteadyStateOptions

from inline_models import CONSERVED_CYCLE

ANTIMONY_TOKENS = [
    "model m\n", "end\n", "A", "B", "C", "k1", "k2", " -> ", " => ", "; ", "+", "*", "/", "(", ")",
    "=", " 1", " 0", " -1", " 2.5", "\n", "compartment c", "species ", " in c", "$", "J1: ", "function f(x)",
    "at (time > 1): A = 0", "A' = -k1*A", "const ", "var ", "unit u = mole", "1e308", "nan", "inf", ",",
]

SBML_TEXT = Model.from_antimony(CONSERVED_CYCLE).to_sbml()
OPTIONS = SteadyStateOptions(presimulation_times=(1.0,), relax_t_max=10.0)


def _load_and_exercise(load, text):
    """Load, then compile and solve; only EplSysbioError may escape (and is the expected end)."""
    try:
        model = load(text)
        Engine(model, options=OPTIONS).steady_state()
    except EplSysbioError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ANTIMONY_TOKENS), max_size=30).map("".join) | st.text(max_size=200))
def test_antimony_fragments(text):
    _load_and_exercise(Model.from_antimony, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(SBML_TEXT) - 1),
    st.integers(0, 200),
    st.text(alphabet=string.printable, max_size=20),
)
def test_mutated_sbml(position, cut, insert):
    _load_and_exercise(Model.from_sbml, SBML_TEXT[:position] + insert + SBML_TEXT[position + cut:])
