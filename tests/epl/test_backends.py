"""The learner's two engines replay the same injections and agree: the compiled kernel (native) against
libRoadRunner (the reference), on generated networks with Hamiltonian edges, charges and reservoirs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from epl_sysbio.dynamics import random_spec, spec_to_model
from epl_sysbio.epl.backends import NativeDynamics
from epl_sysbio.epl.learner import EplLearner, LearnerOptions
from epl_sysbio.epl.substrate import LearnerNetwork, assign_roles
from epl_sysbio.simulate import Engine

#: Tight integration on both sides, so that what differs is the engines, not their tolerances.
TIGHT = LearnerOptions(integrator_rtol=1e-6, integrator_atol=1e-9, atol=1e-10, rtol=1e-10,
                       max_integrator_steps=100000)


def networks(count: int = 6, seed: int = 11) -> list[LearnerNetwork]:
    """Networks of 10-40 species (nodes and momenta) with Hamiltonian edges, charges and reservoirs, with roles.

    Charges small enough that H stays convex: one equilibrium per set of conserved totals, so that
    "the" learned state is defined whichever route a solver takes to it.
    """
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        spec = random_spec(rng, n_nodes=int(rng.integers(8, 24)), reservoir_probability=0.25, max_charge=1,
                           charge_scale=0.1)
        species = len(spec.nodes) + len(spec.momentum_nodes)
        if not (spec.hamiltonian and any(n.reservoir for n in spec.nodes) and np.any(spec.charges() != 0)
                and 10 <= species <= 40):
            continue
        network = assign_roles(spec, 4, 2, 2)
        if not isinstance(network, str):
            out.append(network)
    return out


NETWORKS = networks()


def pair(network: LearnerNetwork, options: LearnerOptions) -> tuple[EplLearner, EplLearner]:
    spec, roles = network.spec, (network.inputs, network.outputs, network.feedback)
    native = EplLearner(NativeDynamics(spec, options.tolerances), *roles, options)
    engine = Engine(spec_to_model(spec))
    momenta = tuple(n.momentum_id for n in spec.nodes if n.momentum_id in engine.floating_ids)
    reference = EplLearner(engine, *roles, options, signed=momenta)
    return native, reference


def relative_gap(native: EplLearner, reference: EplLearner) -> float:
    a, b = native.learned_state(), reference.learned_state()
    x = np.array([a[s] for s in a])
    return float(np.abs(x - np.array([b[s] for s in a])).max() / np.abs(x).max())


def network_id(network: LearnerNetwork) -> str:
    return f"{len(network.spec.nodes)}nodes-{len(network.spec.momentum_nodes)}momenta"


@pytest.mark.parametrize("network", NETWORKS, ids=network_id)
def test_both_engines_replay_the_same_injections_to_the_same_states_outputs_and_actions(network):
    native, reference = pair(network, TIGHT)
    assert native.initialise() == reference.initialise() == "ok"
    assert relative_gap(native, reference) <= 1e-8
    rng = np.random.default_rng(len(network.spec.nodes))
    kernel = native.dynamics.kernel
    inputs = np.array([kernel.index[s] for s in native.inputs])
    feedback = np.array([kernel.index[s] for s in native.feedback])
    for step in range(20):
        x = rng.uniform(0.0, 1.0, 4) * (rng.random(4) < 0.7)
        totals = kernel.conserved_totals()
        a, b = native.step(x), reference.step(x)
        assert a.status == b.status == "ok"
        assert a.trace.shape == b.trace.shape == (TIGHT.response_points, 3)
        np.testing.assert_allclose(a.activity, b.activity, rtol=0, atol=1e-4)
        assert int(np.argmax(a.activity)) == int(np.argmax(b.activity)), f"step {step}"
        fb = rng.uniform(0.0, 0.5, 2)
        assert native.feed_back(fb) == reference.feed_back(fb) == "ok"
        assert relative_gap(native, reference) <= 1e-8, f"step {step}"
        # the kernel's conserved totals moved by exactly what was injected
        injected = np.zeros(len(kernel.ids))
        np.add.at(injected, inputs, x)
        np.add.at(injected, feedback, fb)
        np.testing.assert_allclose(kernel.conserved_totals() - totals, kernel.conservation @ injected,
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("network", NETWORKS[:3], ids=network_id)
def test_default_tolerances_pick_the_same_actions(network):
    """At the learner's default (looser) integration tolerances the outputs agree to within ten times
    the integration tolerance of their size, and every action is the same."""
    options = LearnerOptions()
    native, reference = pair(network, options)
    assert native.initialise() == reference.initialise() == "ok"
    rng = np.random.default_rng(3)
    for _ in range(30):
        x = rng.uniform(0.0, 1.0, 4)
        a, b = native.step(x), reference.step(x)
        assert a.status == b.status == "ok"
        assert np.argmax(a.activity) == np.argmax(b.activity)
        size = np.abs(b.trace[:, 1:]).max()
        assert np.abs(a.activity - b.activity).max() <= 10 * options.integrator_rtol * size
        fb = rng.uniform(0.0, 0.5, 2)
        assert native.feed_back(fb) == reference.feed_back(fb) == "ok"
    assert relative_gap(native, reference) <= 1e-6


def test_a_converged_response_still_has_a_value():
    """No input at an equilibrium: the window runs whole and Active is computed, not left empty."""
    for learner in pair(NETWORKS[0], dataclasses.replace(LearnerOptions(), active="mean")):
        assert learner.initialise() == "ok"
        response = learner.step(np.zeros(4))
        assert response.trace.shape == (6, 3)
        expected = [learner.learned_state()[s] for s in learner.outputs]
        np.testing.assert_allclose(response.activity, expected, rtol=1e-6)


def test_the_work_cap_stops_the_learner_as_too_stiff_on_both_engines():
    options = dataclasses.replace(TIGHT, max_integrator_steps=10)
    statuses = []
    for learner in pair(NETWORKS[1], options):
        assert learner.initialise() in ("ok", "too_stiff")
        if learner.ok:
            learner.step(np.full(4, 5.0))
        statuses.append((learner.status, learner.message))
    assert [s for s, _ in statuses] == ["too_stiff", "too_stiff"]
    assert "RODAS3" in statuses[0][1] and "CV_TOO_MUCH_WORK" in statuses[1][1]
