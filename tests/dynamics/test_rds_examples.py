"""sbml_models/epl_appendix_b.ant: it is the generated example, and its steady state is the analytic one."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from epl_sysbio.dynamics import appendix_b_spec, spec_from_model
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine


@pytest.fixture
def model(sbml_models_dir) -> Model:
    return Model.from_antimony_file(sbml_models_dir / "epl_appendix_b.ant")


def test_the_file_is_the_generated_example(model):
    spec = spec_from_model(model)
    assert spec == appendix_b_spec()
    assert "Appendix B" in spec.notes and "x_LR / x_R = exp(a_R - a_LR)" in spec.notes
    assert [n.species_id for n in spec.nodes_with_role("input")] == ["x_L_out"]
    assert model.validate().ok


def test_steady_state_is_the_analytic_one(model):
    spec = appendix_b_spec()
    result = Engine(model).steady_state()
    assert result.status.value == "stable", result.message
    v = result.values
    a = {g.name: g.potential for g in spec.genes}
    # Ligand at the bath potential mu = 0 in out and mem.
    assert v["x_L_out"] == pytest.approx(np.exp(-1 - a["L"]), rel=1e-9)
    assert v["x_L_mem"] == pytest.approx(np.exp(-1 - a["L"]), rel=1e-9)
    # Binding equilibrium with the receptor conserved (initial R + LR = 1.1).
    r_total = 1.0 + 0.1
    lr = r_total / (1 + np.exp(a["LR"] - a["R"]))
    assert v["x_LR_mem"] == pytest.approx(lr, rel=1e-9)
    assert v["x_R_mem"] == pytest.approx(r_total - lr, rel=1e-9)
    # Ion at mu = 0 in all three spaces: ln x + 1 + a_I + q * phi = 0, q = 1, distance 1,
    # phi_out = x_mem, phi_mem = x_out + x_ins, phi_ins = x_mem.
    def mu(x):
        out, mem, ins = x
        return np.log(x) + 1 + a["I"] + np.array([mem, out + ins, mem])

    ion = scipy.optimize.fsolve(mu, np.full(3, 0.3), xtol=1e-12)
    assert np.abs(mu(ion)).max() < 1e-12
    np.testing.assert_allclose([v["x_I_out"], v["x_I_mem"], v["x_I_ins"]], ion, rtol=1e-9)
    assert abs(v["p_I_mem"]) < 1e-12 and abs(v["p_I_ins"]) < 1e-12
