"""Exact (symbolic) elasticities in the steady-state analyses: units of every species kind,
against central differences of the rates; the fallback when a law has no derivative rule."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio import Engine, Model
from epl_sysbio.analysis.mca import control_coefficients
from epl_sysbio.analysis.network import SpeciesNetwork
from epl_sysbio.errors import InvalidValueError
from epl_sysbio.simulate.numerics import finite_difference_jacobian

# A in concentration, B substance-only (its symbol is an amount), C constant (a boundary species),
# w an assignment rule reading A, in a compartment of volume 2.5 (units show up as factors 2.5).
UNITS = """
model units
  compartment cell = 2.5
  species A in cell = 1.2, B in cell = 0.8, C in cell = 0.5, P in cell = 0.3
  substanceOnly species B
  const C
  w := A^2 / (K + A^2)
  J1: -> A; cell * k0 * C
  J2: A -> B; cell * k1 * w * A / (Km + A)
  J3: B -> P; k2 * B^h / (1 + B^h) * C
  J4: P -> ; cell * k3 * P * A
  k0 = 1; k1 = 2; k2 = 5; k3 = 0.7; K = 0.6; Km = 0.4; h = 2.3
end
"""


def _finite_differences(net: SpeciesNetwork, c: np.ndarray) -> np.ndarray:
    net.set_concentrations(c)
    return finite_difference_jacobian(c, net.reaction_rates(), net.set_concentrations, net.reaction_rates, central=True)


def test_exact_elasticities_have_the_units_of_finite_differences_for_every_species_kind():
    engine = Engine(Model.from_antimony(UNITS))
    net = SpeciesNetwork(engine)
    assert net.elasticity_method == "exact"
    assert sorted(net.species) == ["A", "B", "P"]
    c = net.concentrations()
    exact = net.elasticities(c)
    fd = _finite_differences(net, c)
    assert np.count_nonzero(exact) == 4  # J2:A, J3:B, J4:A,P and nothing else
    assert exact == pytest.approx(fd, rel=1e-8, abs=1e-12)
    # dJ3/d[B] = V dJ3/dB: B's symbol is its amount, the elasticity is per concentration
    b = 0.8
    d_amount = 5 * 0.5 * 2.3 * b ** 1.3 / (1 + b ** 2.3) ** 2
    assert exact[net.reactions.index("J3"), net.species.index("B")] == pytest.approx(2.5 * d_amount, rel=1e-12)


def test_control_coefficients_from_exact_elasticities_pass_the_theorems():
    engine = Engine(Model.from_antimony(UNITS))
    assert engine.steady_state().converged
    cc = control_coefficients(engine)
    assert cc.elasticity_method == "exact"
    assert cc.summation_error < 1e-12 and cc.connectivity_error < 1e-12


def test_a_law_without_a_derivative_rule_falls_back_to_central_differences_and_says_so():
    text = UNITS.replace("cell * k3 * P * A", "cell * k3 * P * A * (1 + floor(A))")
    engine = Engine(Model.from_antimony(text))
    net = SpeciesNetwork(engine)
    assert net.elasticity_method.startswith("central differences") and "floor(A)" in net.elasticity_method
    engine.steady_state()
    cc = control_coefficients(engine, net)
    assert cc.elasticity_method == net.elasticity_method
    assert cc.summation_error < 1e-9


def test_engine_write_amounts_checks_the_shape():
    engine = Engine(Model.from_antimony(UNITS))
    amounts = np.array([engine.get_value(s) for s in engine.floating_ids]) * 2
    engine.write_amounts(amounts)
    assert [engine.get_value(s) for s in engine.floating_ids] == pytest.approx(amounts.tolist())
    with pytest.raises(InvalidValueError, match=r"shape \(3,\) in floating_ids order; got shape \(2,\)"):
        engine.write_amounts(amounts[:2])
