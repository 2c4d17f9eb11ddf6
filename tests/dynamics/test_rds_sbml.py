"""The SBML generator: compiled rates equal the NumPy reference; validity; round trips."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.dynamics import (
    RdsSpec,
    ReferenceDynamics,
    random_spec,
    spec_from_model,
    spec_to_model,
)
from epl_sysbio.errors import InvalidValueError, ModelLoadError
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine


def compiled_rates(spec: RdsSpec, x: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """libRoadRunner's dx/dt and dp/dt (momentum nodes only) of the generated model at (x, p)."""
    # Unreduced: states are written whole (momenta may be negative, which Engine.set_amounts refuses).
    engine = Engine(spec_to_model(spec), conserved_moiety_analysis=False)
    index = {s: i for i, s in enumerate(engine.floating_ids)}
    amounts = np.zeros(len(index))
    mom = list(spec.momentum_nodes)
    for i, node in enumerate(spec.nodes):
        amounts[index[node.species_id]] = x[i]
    for i in mom:
        amounts[index[spec.nodes[i].momentum_id]] = p[i]
    engine.roadrunner.model.setFloatingSpeciesAmounts(amounts)
    rates = engine.rates_of_change()  # compartments have size 1: concentration rates = amount rates
    dx = np.array([rates[index[n.species_id]] for n in spec.nodes])
    dp = np.array([rates[index[spec.nodes[i].momentum_id]] for i in mom])
    return dx, dp


def random_state(spec: RdsSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(spec.nodes)
    x = np.exp(rng.uniform(np.log(0.05), np.log(5.0), n))
    p = np.zeros(n)
    p[list(spec.momentum_nodes)] = rng.normal(0.0, 1.0, len(spec.momentum_nodes))
    return x, p


def assert_rates_equal(spec: RdsSpec, rng: np.random.Generator) -> None:
    x, p = random_state(spec, rng)
    want_dx, want_dp = ReferenceDynamics(spec).rhs(x, p)
    dx, dp = compiled_rates(spec, x, p)
    # 1e-10 relative; the floor is for entries that cancel to ~0 (relative to the largest rate).
    np.testing.assert_allclose(dx, want_dx, rtol=1e-10, atol=1e-13 * np.abs(want_dx).max())
    want_dp = want_dp[list(spec.momentum_nodes)]
    if len(want_dp):
        np.testing.assert_allclose(dp, want_dp, rtol=1e-10, atol=1e-13 * np.abs(want_dp).max())


def test_compiled_rates_equal_numpy_reference_on_the_small_spec(spec, rng):
    for _ in range(5):
        assert_rates_equal(spec, rng)


@pytest.mark.parametrize("seed", range(12))
def test_compiled_rates_equal_numpy_reference_on_random_specs(seed):
    rng = np.random.default_rng(seed)
    spec = random_spec(rng, n_nodes=int(rng.integers(2, 40)), max_charge=2, charge_scale=0.5,
                       reservoir_probability=0.3)
    assert_rates_equal(spec, rng)


def test_generated_sbml_is_valid_and_readable(spec):
    model = spec_to_model(spec)
    report = model.validate()
    assert report.ok and len(report.errors) == 0, str(report)
    assert not report.warnings, str(report)
    sbml = model.to_sbml()
    assert 'sboTerm="SBO:0000176"' in sbml and "<epl:rds" in sbml
    assert set(model.species_ids) >= {"x_A_out", "x_AB_ins", "p_A_mem", "p_A_ins"}
    assert "p_A_out" not in model.species_ids  # no Hamiltonian edge: no momentum species
    assert {"k_R_A_B_AB_ins", "k_D_A_out_mem", "v_H_A_mem_ins", "h_AB_mem", "c_A_mem", "a_AB"} <= set(
        model.parameter_ids)
    assert model.reaction_ids == ["R_A_B_AB_ins", "D_A_out_mem", "H_A_mem_ins_x", "H_A_mem_ins_p",
                                  "C_A_mem", "C_A_ins", "E_AB_mem"]


def test_round_trip_through_sbml_and_antimony(spec):
    model = spec_to_model(spec)
    assert spec_from_model(model) == spec
    assert spec_from_model(Model.from_sbml(model.to_sbml())) == spec
    assert spec_from_model(Model.from_antimony(model.to_antimony())) == spec
    back = spec_from_model(Model.from_antimony(model.to_antimony()))
    assert back.nodes_with_role("input")[0].species_id == "x_A_out"


def test_round_trip_keeps_values_edited_in_the_sbml(spec):
    model = spec_to_model(spec)
    model.set_values({"k_D_A_out_mem": 3.5, "v_H_A_mem_ins": 0.25, "a_B": 1.5, "x_A_ins": 7.0,
                      "h_AB_mem": 0.05, "c_A_ins": 2.0, "dist_mem_ins": 4.0})
    back = spec_from_model(model)
    assert back.diffusion[0].rate == 3.5 and back.hamiltonian[0].rate == 0.25
    assert back.gene("B").potential == 1.5 and back.node("A", "ins").initial_amount == 7.0
    assert back.node("AB", "mem").reservoir == 0.05 and back.node("A", "ins").friction == 2.0
    assert back.links[1].distance == 4.0


def test_round_trip_refuses_an_edited_mass_and_a_foreign_model(spec):
    model = spec_to_model(spec)
    model.set_values({"m_A": 5.0})
    with pytest.raises(InvalidValueError, match="'m_A'.*components"):
        spec_from_model(model)
    with pytest.raises(ModelLoadError, match="no <epl:rds> annotation"):
        spec_from_model(Model.from_antimony("model plain\n S = 1\n J: S -> ; S\nend"))


def test_parameters_change_rates_without_recompiling(spec):
    engine = Engine(spec_to_model(spec), conserved_moiety_analysis=False)
    before = engine.rates_of_change()[engine.floating_ids.index("x_A_out")]
    engine.set_values({"k_D_A_out_mem": 2 * 1.3})
    after = engine.rates_of_change()[engine.floating_ids.index("x_A_out")]
    assert after == pytest.approx(2 * before, rel=1e-12)
