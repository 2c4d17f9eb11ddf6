"""Each bundled neuron model against its analytic steady state (formulas in the model files)."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine


def goldbeter_koshland(v1, v2, j1, j2):
    b = v2 - v1 + j1 * v2 + j2 * v1
    return 2 * v1 * j2 / (b + math.sqrt(b * b - 4 * (v2 - v1) * v1 * j2))


def _engine(sbml_models_dir, name):
    return Engine(Model.from_antimony_file(sbml_models_dir / f"{name}.ant"))


@pytest.mark.parametrize("u", [0.0, 0.3, 0.8, 0.95, 1.0, 1.05, 1.2, 2.0, 5.0])
def test_phosphorylation_cycle_is_goldbeter_koshland(sbml_models_dir, u):
    engine = _engine(sbml_models_dir, "phosphorylation_cycle_neuron")
    result = engine.steady_state({"u": u}, start="reset")
    assert result.stable
    expected = goldbeter_koshland(1.0 * u, 1.0, 0.05, 0.05)
    assert result.values["Xp"] == pytest.approx(expected, rel=1e-8, abs=1e-12)
    assert result.values["X"] + result.values["Xp"] == pytest.approx(1.0, rel=1e-12)


def test_phosphorylation_cycle_response_is_sigmoid(sbml_models_dir):
    engine = _engine(sbml_models_dir, "phosphorylation_cycle_neuron")
    u = np.linspace(0, 3, 601)
    batch = engine.steady_state_batch([{"u": float(x)} for x in u], ["[Xp]"], start="warm")
    y = batch.values[:, 0]
    assert batch.stable.all()
    assert np.all(np.diff(y) > 0)
    slope = np.gradient(y, u)
    # Steepest at the switch u = 1 and ultrasensitive: 10 % -> 90 % over a narrow input range.
    assert abs(u[np.argmax(slope)] - 1.0) <= 0.05
    u10, u90 = np.interp(0.1, y, u), np.interp(0.9, y, u)
    # Response coefficient u90/u10 equals the analytic Goldbeter-Koshland one; a
    # Michaelian (hyperbolic) response would need a factor 81.
    exact = [brentq(lambda x, t=t: goldbeter_koshland(x, 1.0, 0.05, 0.05) - t, 1e-6, 3.0) for t in (0.1, 0.9)]
    assert u10 == pytest.approx(exact[0], rel=1e-3) and u90 == pytest.approx(exact[1], rel=1e-3)
    assert u90 / u10 < 81 / 10


def test_receptor_synapse_quadratic(sbml_models_dir):
    engine = _engine(sbml_models_dir, "receptor_synapse")
    kon, koff, kdes, kres, lt, rt = 5.0, 2.0, 0.5, 0.25, 2.0, 1.0
    a = 1 + kdes / kres
    qa, qb, qc = kon * a * a, -(kon * a * (lt + rt) + koff), kon * lt * rt
    c = (-qb - math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)
    result = engine.steady_state()
    assert result.stable
    v = result.values
    assert v["C"] == pytest.approx(c, rel=1e-9)
    assert v["D"] == pytest.approx(kdes / kres * c, rel=1e-9)
    assert v["L"] == pytest.approx(lt - a * c, rel=1e-9)
    assert v["R"] == pytest.approx(rt - a * c, rel=1e-9)
    assert len(engine.conserved_totals()) == 2


@pytest.mark.parametrize("u", [0.0, 1.0, 4.0])
def test_homeostatic_unit(sbml_models_dir, u):
    engine = _engine(sbml_models_dir, "homeostatic_unit")
    result = engine.steady_state({"u": u}, start="reset")
    atp = 0.2 * 5 / (0.2 + 0.1 * u)
    assert result.stable
    assert result.values["ATP"] == pytest.approx(atp, rel=1e-9)
    assert result.values["ADP"] == pytest.approx(0.1 * u * atp / 0.2, rel=1e-9, abs=1e-12)
    assert result.max_real_eigenvalue == pytest.approx(-0.2, rel=1e-6)
