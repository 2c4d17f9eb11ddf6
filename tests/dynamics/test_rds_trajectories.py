"""Property tests on random specs, simulated by libRoadRunner from the generated SBML.

Trajectories are checked over the part CVODE integrates: a few per cent of random specs
drive a node towards x = 0 (or, with a reservoir and opposite charges, to infinity) and
the integrator stops there (see rds_fixtures.trajectory and docs/dynamics.md).

H never rises; the Hamiltonian flow alone conserves H; without a reservoir the
totals M^T x stay constant and x stays positive; with only chemical flow the
engine's steady state is the minimiser of H under the conservation laws
(found independently with scipy.optimize); steady states are stable.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rds_fixtures import trajectory

from epl_sysbio.dynamics import ReferenceDynamics, random_spec, spec_to_model
from epl_sysbio.simulate import Engine

seeds = st.integers(0, 2**32 - 1)


def without(spec, *, reservoir=False, hamiltonian=False, chemistry=False, friction=None):
    """The spec with some flows removed (and friction set, if given)."""
    nodes = tuple(dataclasses.replace(n, reservoir=n.reservoir if reservoir is False else 0.0,
                                      friction=n.friction if friction is None else friction) for n in spec.nodes)
    return dataclasses.replace(
        spec, nodes=nodes,
        hamiltonian=() if hamiltonian else spec.hamiltonian,
        reactions=() if chemistry else spec.reactions,
        diffusion=() if chemistry else spec.diffusion)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, n_nodes=st.integers(2, 25))
def test_energy_never_rises_along_a_trajectory(seed, n_nodes):
    rng = np.random.default_rng(seed)
    spec = random_spec(rng, n_nodes=n_nodes, reservoir_probability=0.3, charge_scale=0.3)
    p0 = rng.normal(0, 0.5, n_nodes)
    t, x, p = trajectory(spec, 20.0, 401, p0)
    # A Hamiltonian edge can drain a node within the first chunk (x -> 0 with its momentum
    # frozen, CVODE fails; docs/dynamics.md): then there is no trajectory to check.
    assume(len(t) > 1)
    h = ReferenceDynamics(spec).energy(x, p)
    assert np.all(x > 0)
    # Solver tolerance: each step may err by about rtol * (|H| + sum |x ln x| + ...) of its terms.
    scale = 1e-8 * (np.abs(h).max() + np.abs(x * np.log(x)).sum(axis=1).max() + 1.0)
    assert np.max(np.diff(h)) <= scale, (np.max(np.diff(h)), scale)
    assert h[-1] <= h[0]


@settings(max_examples=15, deadline=None)
@given(seed=seeds, n_nodes=st.integers(2, 25))
def test_hamiltonian_flow_alone_conserves_energy(seed, n_nodes):
    rng = np.random.default_rng(seed)
    spec = without(random_spec(rng, n_nodes=n_nodes, edge_probability=0.9, charge_scale=0.3),
                   reservoir=True, chemistry=True, friction=0.0)
    assume(spec.hamiltonian)
    # Short horizon, small momenta: p^2 in mu makes dp/dt quadratic in p, and without friction the
    # flow can blow up in finite time (x -> 0, p -> inf at constant H; docs/dynamics.md).
    p0 = rng.normal(0, 0.3, n_nodes)
    t, x, p = trajectory(spec, 1.0, 101, p0)
    assume(len(t) > 1)  # see test_energy_never_rises_along_a_trajectory
    h = ReferenceDynamics(spec).energy(x, p)
    moved = np.abs(x - x[0]).max()
    assert moved > 1e-4  # something happened
    assert np.abs(h - h[0]).max() <= 1e-7 * (abs(h[0]) + np.abs(x * np.log(x)).sum(axis=1).max() + 1.0)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, n_nodes=st.integers(2, 25))
def test_without_reservoir_totals_are_constant_and_x_stays_positive(seed, n_nodes):
    rng = np.random.default_rng(seed)
    spec = without(random_spec(rng, n_nodes=n_nodes, charge_scale=0.3), reservoir=True)
    t, x, p = trajectory(spec, 20.0, 201, rng.normal(0, 1, n_nodes))
    totals = ReferenceDynamics(spec).conserved_totals(x)
    # A node drained by a Hamiltonian edge decays towards 0 faster than exponentially (seed 1371, 25 nodes:
    # 0.79 -> 1.8e-24 in 2 time units); once it is far below CVODE's absolute tolerance (1e-12) its sign is
    # integration noise (-1e-39 there). Positive means: never below 0 by more than the integrator resolves.
    assert np.all(x > -1e-12), x.min()
    np.testing.assert_allclose(totals, np.broadcast_to(totals[0], totals.shape), rtol=1e-9)


def h_minimiser(spec) -> np.ndarray:
    """argmin H(x, 0) subject to C x = C x0 (C: every conservation law of the stoichiometry), x > 0.

    Independent of libRoadRunner: SLSQP in y = ln x, then Newton on the KKT conditions
    mu(x) = C^T lambda, C x = C x0 (scipy.optimize.root), which the minimiser satisfies.
    """
    ref = ReferenceDynamics(spec)
    alpha, beta = spec.stoichiometry()
    laws = scipy.linalg.null_space((beta - alpha).T).T  # rows span {c : c . nu_r = 0 for all r}
    x0 = np.array([n.initial_amount for n in spec.nodes])
    target = laws @ x0
    zero = np.zeros(len(x0))
    res = scipy.optimize.minimize(
        lambda y: ref.energy(np.exp(y), zero), np.log(x0),
        jac=lambda y: ref.chemical_potential(np.exp(y), zero) * np.exp(y),
        constraints=[{"type": "eq", "fun": lambda y: laws @ np.exp(y) - target,
                      "jac": lambda y: laws * np.exp(y)}],
        method="SLSQP", options={"ftol": 1e-14, "maxiter": 1000})
    n, m = len(x0), len(laws)

    def kkt(z):
        y, lam = z[:n], z[n:]
        return np.concatenate([ref.chemical_potential(np.exp(y), zero) - laws.T @ lam, laws @ np.exp(y) - target])

    lam0 = np.linalg.lstsq(laws.T, ref.chemical_potential(np.exp(res.x), zero), rcond=None)[0]
    sol = scipy.optimize.root(kkt, np.concatenate([res.x, lam0]), method="hybr", options={"xtol": 1e-14})
    assert np.abs(kkt(sol.x)).max() < 1e-10, sol.message  # hybr may stop at "xtol too small" once exact
    return np.exp(sol.x[:n])


@settings(max_examples=15, deadline=None)
@given(seed=seeds, n_nodes=st.integers(2, 20))
def test_chemical_steady_state_minimises_energy(seed, n_nodes):
    rng = np.random.default_rng(seed)
    spec = without(random_spec(rng, n_nodes=n_nodes, charge_scale=0.1), reservoir=True, hamiltonian=True)
    engine = Engine(spec_to_model(spec))
    result = engine.steady_state()
    assert result.status.value == "stable", result.message
    x = np.array([result.amounts[n.species_id] for n in spec.nodes])
    np.testing.assert_allclose(x, h_minimiser(spec), rtol=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_steady_states_of_random_specs_are_stable_with_friction_and_marginal_without(seed):
    rng = np.random.default_rng(1000 + seed)
    spec = random_spec(rng, n_nodes=int(rng.integers(5, 51)), edge_probability=0.7)
    result = Engine(spec_to_model(spec)).steady_state()
    assert result.status.value == "stable", result.message
    mom = list(spec.momentum_nodes)
    assert np.abs([result.amounts[spec.nodes[i].momentum_id] for i in mom]).max(initial=0.0) < 1e-9
    if spec.hamiltonian:
        frictionless = Engine(spec_to_model(without(spec, friction=0.0))).steady_state()
        assert frictionless.status.value in ("marginal", "not_converged"), frictionless.message
