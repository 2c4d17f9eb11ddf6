"""BIOMD0000000033 (Brown et al. 2004, NGF/EGF signalling in PC12 cells) as an equilibrium layer.

Inputs: the EGF and NGF amounts (each moves a conserved total: ligand + bound
receptor). Outputs: active Sos (right below the receptors) and active Erk (the
end of the cascade). Forward values against COPASI; implicit gradients against
central finite differences. (Rap1Active and the fully activated species are
saturated here: their derivatives are ~1e-17 and finite differences only see
solver noise, so they make a poor yardstick.)
"""

from __future__ import annotations

import numpy as np
import pytest
from copasi_reference import BIOMODELS_DIR, copasi_steady_state
from deq_helpers import fd_inputs, fd_params, relative_error

from epl_sysbio.deq import EquilibriumLayer
from epl_sysbio.model import Model

OUTPUTS = ["[SosActive]", "[ErkActive]"]
DOSES = np.array([[1e5, 1e4], [1e6, 1e5], [10002000.0, 456000.0]])  # the last: the model's own amounts


@pytest.fixture(scope="module")
def layer():
    model = Model.from_sbml_file(BIOMODELS_DIR / "BIOMD0000000033.xml")
    return EquilibriumLayer(model, inputs=["EGF", "NGF"], outputs=OUTPUTS, params=["kEGF", "KmEGF", "kdSos", "KmdSos"])


def test_forward_values_agree_with_copasi(layer):
    out = layer.forward(DOSES)
    assert out.ok.all(), out.messages
    for (egf, ngf), row in zip(DOSES, out.values):
        # compartment 'cell' has volume 1: COPASI's initial concentrations are these amounts
        copasi = copasi_steady_state("BIOMD0000000033.xml", {"EGF": egf, "NGF": ngf}, mca=False)
        assert copasi.stability == "stable"
        expected = [copasi.concentrations[s[1:-1]] for s in OUTPUTS]
        np.testing.assert_allclose(row, expected, rtol=1e-7)


def test_gradients_agree_with_central_finite_differences(layer):
    out = layer.forward(DOSES, gradient=True)
    assert out.ok.all()
    assert np.all(np.abs(out.d_inputs) > 0) and np.all(np.abs(out.d_params[:, 0]) > 0)
    assert relative_error(out.d_params, fd_params(layer, DOSES, step=1e-4)) < 1e-5
    assert relative_error(out.d_inputs, fd_inputs(layer, DOSES, step=1e-5)) < 1e-5
