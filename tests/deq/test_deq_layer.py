"""EquilibriumLayer: forward values, implicit gradients against central finite differences,
per-sample status of failed samples, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from deq_helpers import CONSERVED_CYCLE, SADDLE, SBML_MODELS, fd_inputs, fd_params, relative_error

from epl_sysbio.deq import EquilibriumLayer, LayerOptions
from epl_sysbio.errors import (
    ConfigError,
    InvalidValueError,
    SteadyStateError,
    UnknownIdError,
    UnsupportedModelError,
)
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine, Status

#: Function definition (Hill with a trainable exponent), an assignment rule in a
#: rate law, a boundary-species input, a substance-only species in another
#: compartment, and (added below) a local parameter.
FEATURES = """
function hill(x, K, n)
  x^n/(K^n + x^n)
end
model features
  compartment c = 0.3, d = 2
  species S in c, P in c, $B in c
  substanceOnly species Q in d
  keff := k0*exp(-a*P)
  J1: $B -> S; c*vin*hill(B, Kb, nh)
  J2: S -> P; c*keff*S
  J3: P -> Q; c*kt*P - kr*Q
  J4: Q -> ; kq*Q
  J5: S -> ; c*kd5*S
  B = 0.6; S = 0; P = 0; Q = 0
  vin = 2; Kb = 0.5; nh = 2.5; k0 = 1.5; a = 0.4; kt = 0.7; kr = 0.2; kq = 0.3; kd5 = 0.4
end
"""


def features_model() -> Model:
    model = Model.from_antimony(FEATURES)
    sbml = model.sbml_model
    sbml.removeParameter("kd5")  # J5's constant becomes local: promoted to J5_kd5 inside the layer
    local = sbml.getReaction("J5").getKineticLaw().createParameter()
    local.setId("kd5")
    local.setValue(0.4)
    return model


CASES = {
    # two conservation laws, compartment volume 2, species inputs (amount and concentration)
    "conserved_cycle": dict(
        model=lambda: Model.from_antimony(CONSERVED_CYCLE),
        inputs=["A", "[B]", "k4"], outputs=["[C]", "D", "J2"], params=["k1", "k2", "k3"],
        x=[[2.0, 1.5, 0.2], [1.0, 3.0, 0.5], [4.0, 0.7, 0.1]],
    ),
    # Michaelis-Menten kinase/phosphatase cycle (ultrasensitive), one conservation law
    "michaelis_menten": dict(
        model=lambda: Model.from_antimony_file(SBML_MODELS / "phosphorylation_cycle_neuron.ant"),
        inputs=["u"], outputs=["[Xp]", "kinase"], params=["kcat_kin", "Km_kin", "V_pase", "Km_pase"],
        x=[[0.5], [0.97], [1.1], [2.0]],
    ),
    "features": dict(
        model=features_model,
        inputs=["[B]", "vin"], outputs=["[S]", "P", "Q", "[Q]", "J4"], params=["Kb", "nh", "k0", "a", "kt", "kr", "kq"],
        x=[[0.6, 2.0], [1.5, 0.8]],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_agree_with_central_finite_differences(case):
    spec = CASES[case]
    layer = EquilibriumLayer(spec["model"](), inputs=spec["inputs"], outputs=spec["outputs"], params=spec["params"])
    x = np.array(spec["x"])
    out = layer.forward(x, gradient=True)
    assert out.ok.all(), out.messages
    assert relative_error(out.d_params, fd_params(layer, x)) < 1e-5
    assert relative_error(out.d_inputs, fd_inputs(layer, x)) < 1e-5


def test_forward_values_are_the_engines_steady_states():
    model = Model.from_antimony(CONSERVED_CYCLE)
    layer = EquilibriumLayer(model, inputs=["A", "k4"], outputs=["[A]", "B", "J1"], params=["k1"])
    out = layer.forward(np.array([[2.0, 0.2], [5.0, 0.4]]))
    engine = Engine(model)
    for row, (a, k4) in zip(out.values, [(2.0, 0.2), (5.0, 0.4)]):
        result = engine.steady_state({"A": a, "k4": k4}, start="reset")
        assert row[0] == pytest.approx(result.values["A"], rel=1e-9)
        assert row[1] == pytest.approx(result.amounts["B"], rel=1e-9)
        assert row[2] == pytest.approx(result.fluxes["J1"], rel=1e-9, abs=1e-12)
    # the amount input moved the conserved total A + C + D (amounts, volume 2)
    assert out.values[1, 0] > out.values[0, 0]


def test_warm_start_gives_the_reset_values():
    model = Model.from_antimony_file(SBML_MODELS / "phosphorylation_cycle_neuron.ant")
    x = np.linspace(0.2, 2.0, 7)[:, None]
    reset = EquilibriumLayer(model, inputs=["u"], outputs=["[Xp]"], params=[]).forward(x, gradient=True)
    warm = EquilibriumLayer(model, inputs=["u"], outputs=["[Xp]"], params=[],
                            options=LayerOptions(start="warm")).forward(x, gradient=True)
    np.testing.assert_allclose(warm.values, reset.values, rtol=1e-8)
    np.testing.assert_allclose(warm.d_inputs, reset.d_inputs, rtol=1e-6)
    assert reset.d_params.shape == (7, 1, 0)


def test_unstable_samples_are_masked_with_their_status():
    layer = EquilibriumLayer(Model.from_antimony(SADDLE), inputs=["c"], outputs=["[X]"], params=["k"])
    out = layer.forward(np.array([[1.0], [5.0]]), gradient=True)
    assert out.status == (Status.UNSTABLE, Status.STABLE)
    assert out.ok.tolist() == [False, True]
    assert np.isnan(out.values[0]).all() and np.isnan(out.d_params[0]).all() and np.isnan(out.d_inputs[0]).all()
    assert np.isfinite(out.values[1]).all() and np.isfinite(out.d_params[1]).all()
    assert "max Re(lambda) = 1" in out.messages[0]
    with pytest.raises(SteadyStateError, match="sample 0: unstable"):
        out.require_ok()


def test_unconverged_samples_are_masked_with_their_status():
    text = "model runaway\n compartment cell = 1\n species X in cell\n make: -> X; cell*k\n X = 0; k = 1\nend\n"
    from epl_sysbio.simulate import SteadyStateOptions

    options = LayerOptions(steady_state=SteadyStateOptions(presimulation_times=(1.0,), relax_t_max=10.0))
    layer = EquilibriumLayer(Model.from_antimony(text), inputs=[], outputs=["[X]"], params=["k"], options=options)
    out = layer.forward(np.zeros((1, 0)), gradient=True)
    assert out.status == (Status.NOT_CONVERGED,) and not out.ok[0]
    assert np.isnan(out.values).all() and np.isnan(out.d_params).all()


def test_bad_arguments_get_clear_errors():
    model = Model.from_antimony(CONSERVED_CYCLE)
    with pytest.raises(UnknownIdError, match="'nope'"):
        EquilibriumLayer(model, inputs=["nope"], outputs=["C"], params=[])
    with pytest.raises(InvalidValueError, match="both inputs and params"):
        EquilibriumLayer(model, inputs=["k1"], outputs=["C"], params=["k1"])
    with pytest.raises(InvalidValueError, match="not free global parameters"):
        EquilibriumLayer(model, inputs=[], outputs=["C"], params=["A"])
    with pytest.raises(InvalidValueError, match="more than once"):
        EquilibriumLayer(model, inputs=["A", "A"], outputs=["C"], params=[])
    with pytest.raises(InvalidValueError, match="neither state species nor reactions"):
        EquilibriumLayer(model, inputs=[], outputs=["k1"], params=[])
    with pytest.raises(UnsupportedModelError, match="compartment"):
        EquilibriumLayer(model, inputs=["c"], outputs=["C"], params=[])
    with pytest.raises(ConfigError, match="start='reset'"):
        EquilibriumLayer(model, inputs=["A"], outputs=["C"], params=[], options=LayerOptions(start="warm"))
    with pytest.raises(ConfigError, match="'start' parameter of LayerOptions"):
        LayerOptions(start="cold")
    layer = EquilibriumLayer(model, inputs=["A"], outputs=["C"], params=["k1"])
    with pytest.raises(InvalidValueError, match=r"shape \(B, 1\)"):
        layer.forward(np.ones((2, 3)))
    with pytest.raises(InvalidValueError, match="must be finite"):
        layer.set_params([np.nan])


def test_models_a_steady_state_gradient_does_not_exist_for_are_refused():
    events = "model ev\n species X = 1\n J: X -> ; k*X\n k = 1\n at time > 1: X = 2\nend\n"
    with pytest.raises(UnsupportedModelError, match="events"):
        EquilibriumLayer(Model.from_antimony(events), inputs=[], outputs=["X"], params=["k"])
    rate_rule = "model rr\n species X = 1\n J: X -> ; k*X\n y' = -y\n y = 1; k = 1\nend\n"
    with pytest.raises(UnsupportedModelError, match="rate rules on 'y'"):
        EquilibriumLayer(Model.from_antimony(rate_rule), inputs=[], outputs=["X"], params=["k"])


def test_generated_epl_network_gradients_agree_with_central_finite_differences():
    """A random RDS from epl_sysbio.dynamics (2 chemical, 3 diffusion, 3 Hamiltonian edges, one
    reservoir, momenta as species, 3 conservation laws), rendered to SBML by spec_to_model."""
    from epl_sysbio.dynamics import random_spec, spec_to_model

    spec = random_spec(np.random.default_rng(3), n_nodes=8, edge_probability=0.9, reservoir_probability=0.3)
    model = spec_to_model(spec)
    species = [n.species_id for n in spec.nodes]
    potentials = [p for p in model.parameter_ids if p.startswith("a_")]
    rates = [p for p in model.parameter_ids if p.startswith(("k_", "v_", "h_"))]
    layer = EquilibriumLayer(model, inputs=species[:2], outputs=species[2:], params=potentials + rates)
    assert layer.gradient_rule.n_conservation_laws == 3
    x = np.array([[1.0, 1.5], [2.0, 0.7]])
    out = layer.forward(x, gradient=True)
    assert out.ok.all(), out.messages
    # Detailed balance: the steady state is the energy minimum, moved by the potentials a_g and
    # the injected amounts but not by any rate constant.
    assert np.abs(out.d_params[:, :, : len(potentials)]).max() > 0.1
    assert np.abs(out.d_params[:, :, len(potentials) :]).max() < 1e-12
    assert np.abs(out.d_inputs).max() > 0.1
    # Step 1e-3: the rate-constant columns are exactly 0, where finite differences only see
    # roundoff / step (1e-11 at step 1e-5); the O(h^2) truncation stays ~1e-6.
    assert relative_error(out.d_params, fd_params(layer, x, step=1e-3)) < 1e-5
    assert relative_error(out.d_inputs, fd_inputs(layer, x)) < 1e-5
