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


def test_float32_network_trains_and_keeps_its_dtype():
    """After an nn.Linear in float32 the layer returns float32 and backward() works (float64 inside)."""
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(2, 3), nn.Softplus(), MolecularLayer(_phospho_layer(), units=3), nn.Linear(3, 1))
    x = torch.tensor([[0.3, -0.2], [1.0, 0.5], [0.1, 0.9]], dtype=torch.float32)
    hidden = net[:3](x)
    assert hidden.dtype == torch.float32 and hidden.device == x.device
    loss = net(x).pow(2).sum()
    loss.backward()
    theta = net[2].theta
    assert theta.dtype == torch.float64 and theta.grad is not None and torch.isfinite(theta.grad).all()
    assert net[0].weight.grad.dtype == torch.float32 and torch.isfinite(net[0].weight.grad).all()
    # the same gradient as the float64 computation, to float32 precision
    net64 = nn.Sequential(nn.Linear(2, 3), nn.Softplus(), MolecularLayer(_phospho_layer(), units=3),
                          nn.Linear(3, 1)).double()
    net64.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    net64(x.double()).pow(2).sum().backward()
    np.testing.assert_allclose(net[0].weight.grad.numpy(), net64[0].weight.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_leading_dimensions_like_nn_linear():
    layer = MolecularLayer(_phospho_layer(), units=2)
    assert (layer.in_features, layer.out_features) == (2, 2)
    x = torch.rand(3, 4, 2, dtype=torch.float64) + 0.2
    y = layer(x)
    assert y.shape == (3, 4, 2) and layer.last_ok.shape == (3, 4)
    np.testing.assert_allclose(y.reshape(12, 2).detach().numpy(), layer(x.reshape(12, 2)).detach().numpy())
    assert layer(x[0, 0]).shape == (2,)
    from epl_sysbio.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match=r"\(\*, 2\)"):
        layer(torch.ones(3, 5))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_in_cuda_out():
    layer = MolecularLayer(_phospho_layer()).cuda()
    x = torch.tensor([[0.5], [1.5]], device="cuda", requires_grad=True)
    y = layer(x)
    assert y.device == x.device and y.dtype == x.dtype
    y.sum().backward()
    assert x.grad.device == x.device


def test_without_torch_the_message_names_the_extra():
    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    from epl_sysbio.deq import MolecularLayer\n"
            "except ModuleNotFoundError as exc:\n    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("OptionalDependencyError") and "pip install 'epl_sysbio[torch]'" in out
