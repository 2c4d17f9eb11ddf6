"""The PyTorch adapter: gradcheck in double precision, training with a torch optimizer,
failed samples, and no torch import at package import time."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from deq_helpers import CONSERVED_CYCLE, SADDLE, SBML_MODELS

from epl_sysbio.deq import EquilibriumLayer
from epl_sysbio.errors import SteadyStateError
from epl_sysbio.model import Model

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from epl_sysbio.deq import EquilibriumFunction, MolecularLayer  # noqa: E402


def test_import_epl_sysbio_does_not_import_torch():
    code = "import sys, epl_sysbio, epl_sysbio.deq; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_gradcheck_of_the_equilibrium_function():
    layer = EquilibriumLayer(Model.from_antimony(CONSERVED_CYCLE), inputs=["A", "[B]", "k4"],
                             outputs=["[C]", "D"], params=["k1", "k2", "k3"])
    x = torch.tensor([[2.0, 1.5, 0.2], [1.0, 3.0, 0.5]], dtype=torch.float64, requires_grad=True)
    theta = torch.tensor(layer.params, requires_grad=True)

    def f(x, theta):
        return EquilibriumFunction.apply(x, theta, layer, "raise", lambda out: None)

    assert torch.autograd.gradcheck(f, (x, theta), eps=1e-6, atol=1e-8, rtol=1e-5)


def _phospho_layer():
    model = Model.from_antimony_file(SBML_MODELS / "phosphorylation_cycle_neuron.ant")
    return EquilibriumLayer(model, inputs=["u"], outputs=["[Xp]"], params=["Km_kin", "Km_pase"])


def test_gradcheck_of_a_small_hybrid_network():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Softplus(),
                        MolecularLayer(_phospho_layer(), units=3, rng=np.random.default_rng(0)),
                        nn.Linear(3, 1)).double()
    x = torch.tensor([[0.3, -0.2], [1.0, 0.5]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(net, (x,), eps=1e-6, atol=1e-8, rtol=1e-5)
    # the molecular parameters get the implicit gradient too
    theta = net[2].theta
    y = net(x).sum()
    (g,) = torch.autograd.grad(y, theta)
    eps = 1e-6
    with torch.no_grad():
        theta[1, 0] += eps
        up = net(x).sum()
        theta[1, 0] -= 2 * eps
        down = net(x).sum()
        theta[1, 0] += eps
    assert float(g[1, 0]) == pytest.approx(float((up - down) / (2 * eps)), rel=1e-5)


def test_sequential_trains_with_a_torch_optimizer():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 1))
    target = torch.from_numpy((x[:, 0] > 0.2).astype(float))[:, None]
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(1, 2), nn.Softplus(), MolecularLayer(_phospho_layer(), units=2, rng=rng),
                        nn.Linear(2, 1)).double()
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(torch.from_numpy(x)), target)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_failed_samples_raise_or_are_masked():
    layer = EquilibriumLayer(Model.from_antimony(SADDLE), inputs=["c"], outputs=["[X]"], params=["k"])
    x = torch.tensor([[1.0], [5.0]], dtype=torch.float64, requires_grad=True)
    with pytest.raises(SteadyStateError, match="sample 0: unstable"):
        MolecularLayer(layer)(x)
    masked = MolecularLayer(layer, on_failure="mask")
    y = masked(x)
    assert masked.last_ok.tolist() == [False, True]
    assert masked.last_outputs[0].status[0].value == "unstable"
    assert float(y.detach()[0, 0]) == 0.0
    y.sum().backward()
    assert float(x.grad[0, 0]) == 0.0 and torch.isfinite(x.grad).all()
