"""The NumPy reference: gradients, the sign of dH/dt per flow, and the closed forms it must reduce to."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rds_fixtures import compiled_rates, random_state, rng, small_spec, spec  # noqa: F401 (fixtures)

from epl_sysbio.dynamics import (
    FLOWS,
    Component,
    Diffusion,
    Gene,
    Node,
    RdsSpec,
    Reaction,
    ReferenceDynamics,
    Space,
    SpaceLink,
    random_spec,
)
from epl_sysbio.errors import InvalidValueError

seeds = st.integers(0, 2**32 - 1)


def test_mu_and_w_are_the_gradients_of_h(spec, rng):
    ref = ReferenceDynamics(spec)
    x, p = random_state(spec, rng)
    p = rng.normal(size=len(x))  # every node, not just momentum nodes: the formulas hold for all
    eps = 1e-6
    eye = np.eye(len(x))
    dh_dx = (ref.energy(x + eps * eye, p) - ref.energy(x - eps * eye, p)) / (2 * eps)
    dh_dp = (ref.energy(x, p + eps * eye) - ref.energy(x, p - eps * eye)) / (2 * eps)
    np.testing.assert_allclose(dh_dx, ref.chemical_potential(x, p), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(dh_dp, ref.velocity(x, p), rtol=1e-7, atol=1e-8)


def test_batches_equal_single_states(spec, rng):
    ref = ReferenceDynamics(spec)
    states = [random_state(spec, rng) for _ in range(7)]
    xs = np.stack([s[0] for s in states]).reshape(7, 1, -1)
    ps = np.stack([s[1] for s in states]).reshape(7, 1, -1)
    dx, dp = ref.rhs(xs, ps)
    assert dx.shape == dp.shape == xs.shape and ref.energy(xs, ps).shape == (7, 1)
    for i, (x, p) in enumerate(states):
        one = ref.rhs(x, p)
        np.testing.assert_allclose(dx[i, 0], one[0], rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(dp[i, 0], one[1], rtol=1e-14, atol=1e-300)
    with pytest.raises(InvalidValueError, match="unknown flows 'friction'"):
        ref.rhs(states[0][0], states[0][1], flows=("friction",))


@settings(max_examples=40, deadline=None)
@given(seed=seeds)
def test_dh_dt_per_flow(seed):
    """dH/dt = mu . dx/dt + w . dp/dt: <= 0 for every flow, exactly 0 for the Hamiltonian one."""
    rng = np.random.default_rng(seed)
    spec = random_spec(rng, n_nodes=int(rng.integers(2, 30)), reservoir_probability=0.3)
    ref = ReferenceDynamics(spec)
    x, p = random_state(spec, rng)
    mu, w = ref.chemical_potential(x, p), ref.velocity(x, p)
    for flow in FLOWS:
        dx, dp = ref.rhs(x, p, flows=(flow,))
        terms = np.concatenate([mu * dx, w * dp])
        dh = terms.sum()
        scale = np.abs(terms).sum() + 1e-300
        if flow == "hamiltonian":
            assert abs(dh) <= 1e-12 * scale
        else:
            assert dh <= 1e-12 * scale


def test_mass_action_for_a_plus_b_and_dimerisation():
    """With V = 0 and p = 0: forward constant k e^(alpha.(1+a)), backward k e^(beta.(1+a))."""
    spec = RdsSpec(
        components=(Component(name="a", charge=1.0), Component(name="b", charge=-2.0)),
        genes=(Gene(name="A", composition={"a": 1}, potential=0.3), Gene(name="B", composition={"b": 1},
                                                                           potential=-0.7),
               Gene(name="C", composition={"a": 1, "b": 1}, potential=1.1),
               Gene(name="AA", composition={"a": 2}, potential=-0.2)),
        spaces=(Space(name="cell"),),  # one space: no neighbours, so V = 0 despite the charges
        nodes=tuple(Node(gene=g, space="cell") for g in ("A", "B", "C", "AA")),
        reactions=(Reaction(reactants=("A", "B"), product="C", space="cell", rate=0.8),
                   Reaction(reactants=("A", "A"), product="AA", space="cell", rate=2.5)),
    )
    x = np.array([0.7, 1.9, 0.4, 1.3])
    p = np.zeros(4)
    kf1, kb1 = 0.8 * np.exp(2 + 0.3 - 0.7), 0.8 * np.exp(1 + 1.1)
    kf2, kb2 = 2.5 * np.exp(2 * (1 + 0.3)), 2.5 * np.exp(1 - 0.2)
    j1 = kf1 * x[0] * x[1] - kb1 * x[2]
    j2 = kf2 * x[0] ** 2 - kb2 * x[3]
    expected = np.array([-j1 - 2 * j2, -j1, j1, j2])
    dx, dp = ReferenceDynamics(spec).rhs(x, p)
    np.testing.assert_allclose(dx, expected, rtol=1e-13)
    np.testing.assert_array_equal(dp, 0.0)
    np.testing.assert_allclose(compiled_rates(spec, x, p)[0], expected, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(n_spaces=st.integers(2, 9), rate=st.floats(0.01, 100.0), potential=st.floats(-2.0, 2.0), seed=seeds)
def test_diffusion_on_a_chain_is_the_discrete_laplacian(n_spaces, rate, potential, seed):
    spaces = [f"s{i}" for i in range(n_spaces)]
    spec = RdsSpec(
        components=(Component(name="c", charge=0.0),), genes=(Gene(name="G", composition={"c": 1},
                                                                  potential=potential),),
        spaces=tuple(Space(name=s) for s in spaces),
        links=tuple(SpaceLink(a=a, b=b) for a, b in zip(spaces, spaces[1:])),
        nodes=tuple(Node(gene="G", space=s) for s in spaces),
        diffusion=tuple(Diffusion(gene="G", a=a, b=b, rate=rate) for a, b in zip(spaces, spaces[1:])),
    )
    x = np.random.default_rng(seed).uniform(0.1, 5.0, n_spaces)
    # Discrete Laplacian with no-flux ends: (L x)_i = x_{i-1} - 2 x_i + x_{i+1}, missing neighbours dropped.
    lap = -2 * np.eye(n_spaces) + np.eye(n_spaces, k=1) + np.eye(n_spaces, k=-1)
    lap[0, 0] = lap[-1, -1] = -1
    expected = rate * np.exp(1 + potential) * (lap @ x)
    scale = rate * np.exp(1 + potential) * x.max()
    dx, _ = ReferenceDynamics(spec).rhs(x, np.zeros(n_spaces))
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-14 * scale)
    np.testing.assert_allclose(compiled_rates(spec, x, np.zeros(n_spaces))[0], expected, rtol=1e-12,
                               atol=1e-14 * scale)


def test_energy_of_the_small_spec_by_hand():
    spec = small_spec()
    ref = ReferenceDynamics(spec)
    x = np.arange(1.0, 8.0)
    p = np.linspace(-1, 1, 7)
    a = ref.a
    v = spec.electric_matrix()
    expected = np.sum(x * np.log(x) + a * x) + 0.5 * x @ v @ x + np.sum(x * p**2 / (2 * spec.masses()))
    assert ref.energy(x, p) == pytest.approx(expected, rel=1e-14)
    assert ref.energy(np.zeros(7), p) == 0.0  # x ln x -> 0
