"""The engine on real BioModels (tests/data/biomodels), cross-checked against COPASI
(tests/copasi_reference.py) by SBML id. Why each disagreement happens is in
docs/biomodels_findings.md; the tests below pin each case."""

import json

import pytest

from copasi_reference import BIOMODELS_DIR, copasi_steady_state, max_relative_difference
from epl_sysbio import Engine, Model, Status


def _engine(number: str) -> Engine:
    return Engine(Model.from_sbml_file(BIOMODELS_DIR / f"BIOMD{number}.xml"))


def _agreement(number: str, **copasi_options):
    ours = _engine(number).steady_state()
    cop = copasi_steady_state(BIOMODELS_DIR / f"BIOMD{number}.xml", mca=False, **copasi_options)
    reference = {**cop.concentrations, **cop.ode_values}
    common = {k: v for k, v in ours.values.items() if k in reference}
    worst, where = max_relative_difference(common, {k: reference[k] for k in common})
    return ours, cop, worst, where, len(common)


def test_brown_2004_matches_published_reference():
    reference = json.loads((BIOMODELS_DIR / "BIOMD0000000033.reference.json").read_text())
    model = Model.from_sbml_file(BIOMODELS_DIR / "BIOMD0000000033.xml")
    # "keyed by species name": this Level 2 Version 1 file names species by id only
    by_name = {(s.getName() or s.getId()): s.getId() for s in model.sbml_model.getListOfSpecies()}
    result = Engine(model).steady_state()
    assert result.stable
    scale = max(abs(v) for v in reference["values"].values())
    for name, expected in reference["values"].items():
        got = result.values[by_name[name]]
        # 1e-6 relative; species that are ~0 in the reference are compared on the model's scale
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-12 * scale), name


@pytest.mark.parametrize("number", ["0000000033", "0000000635"])
def test_stable_models_agree_with_copasi(number):
    ours, cop, worst, where, n = _agreement(number)
    assert cop.status.startswith("found") and cop.stability == "stable"
    assert ours.status is Status.STABLE
    assert n >= 20
    assert worst <= 1e-6, (where, worst)


def test_kholodenko_2000_is_an_unstable_focus_in_both_engines():
    ours, cop, worst, where, _ = _agreement("0000000010")
    assert ours.status is Status.UNSTABLE and cop.stability == "unstable"
    assert worst <= 1e-6, (where, worst)
    # a complex pair with positive real part: an unstable focus, the sign of oscillation
    top = ours.eigenvalues[ours.eigenvalues.real.argmax()]
    assert top.real == pytest.approx(cop.max_real_eigenvalue, rel=1e-3)
    assert abs(top.imag) > 0
    with pytest.raises(Exception, match="unstable"):
        _engine("0000000010").steady_state(throw=True)


def test_hodgkin_huxley_rate_rules_are_solved():
    ours, cop, worst, where, n = _agreement("0000000020")
    assert n == 4 and ours.stable and ours.method.value == "relaxation"
    assert worst <= 1e-6, (where, worst)
    expected = {"V": -0.0036207, "m": 0.052955, "h": 0.595994, "n": 0.317732}
    for sid, value in expected.items():
        assert ours.values[sid] == pytest.approx(value, rel=1e-4, abs=1e-7)


def test_izhikevich_events_get_a_clear_status():
    result = _engine("0000000127").steady_state()
    assert result.status is Status.UNSUPPORTED
    assert "events" in result.message and "time_course" in result.message
