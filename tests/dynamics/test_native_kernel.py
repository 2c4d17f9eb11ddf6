"""The compiled kernel (epl_sysbio.dynamics.kernel / native) against its references: the NumPy flows,
finite differences, libRoadRunner's moiety analysis, time courses and steady states."""

from __future__ import annotations

import numpy as np
import pytest
from rds_fixtures import small_spec

from epl_sysbio.dynamics import ReferenceDynamics, random_spec, spec_to_model
from epl_sysbio.dynamics.native import NativeDynamics
from epl_sysbio.simulate import Engine


def specs(count: int = 6, seed: int = 7):
    """Random specs with charges, reservoirs and Hamiltonian edges (the kernel's whole vocabulary)."""
    rng = np.random.default_rng(seed)
    out = [small_spec()]
    while len(out) < count:
        spec = random_spec(rng, n_nodes=int(rng.integers(6, 22)), reservoir_probability=0.25, max_charge=1,
                           charge_scale=0.3)
        if spec.hamiltonian and any(n.reservoir for n in spec.nodes) and np.any(spec.charges() != 0):
            out.append(spec)
    return out


SPECS = specs()


def random_state(dyn: NativeDynamics, rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.uniform(0.3, 2.0, dyn.n), rng.normal(0.0, 0.5, dyn.nm)])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{len(s.nodes)}")
def test_rates_equal_the_numpy_reference(spec):
    dyn, ref = NativeDynamics(spec), ReferenceDynamics(spec)
    rng = np.random.default_rng(1)
    mom = list(spec.momentum_nodes)
    for _ in range(5):
        y = random_state(dyn, rng)
        p = np.zeros(dyn.n)
        p[mom] = y[dyn.n:]
        dx, dp = ref.rhs(y[:dyn.n], p)
        expected = np.concatenate([dx, dp[mom]])
        np.testing.assert_allclose(dyn.rhs(y), expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{len(s.nodes)}")
def test_jacobian_equals_central_differences(spec):
    dyn = NativeDynamics(spec)
    y = random_state(dyn, np.random.default_rng(2))
    jm = dyn.jacobian(y)
    fd = np.empty_like(jm)
    for j in range(len(y)):
        step = 1e-6 * max(1.0, abs(y[j]))
        up, down = y.copy(), y.copy()
        up[j] += step
        down[j] -= step
        fd[:, j] = (dyn.rhs(up) - dyn.rhs(down)) / (2 * step)
    assert np.abs(jm - fd).max() <= 1e-7 * np.abs(jm).max()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{len(s.nodes)}")
def test_conservation_laws_are_libroadrunners(spec):
    dyn = NativeDynamics(spec)
    assert np.abs(dyn.conservation @ dyn.stoichiometry).max() < 1e-12
    engine = Engine(spec_to_model(spec))
    laws = engine.roadrunner.model.getNumConservedMoieties()
    assert dyn.conservation.shape[0] == laws
    # the same laws: libRoadRunner's conservation matrix lies in the span of ours
    if laws:
        gamma = engine.conservation_matrix[:, [engine.floating_ids.index(s) for s in dyn.ids]]
        projected = gamma @ dyn.conservation.T @ dyn.conservation
        np.testing.assert_allclose(projected, gamma, atol=1e-10)


@pytest.mark.parametrize("spec", SPECS[:4], ids=lambda s: f"{s.name}-{len(s.nodes)}")
def test_trajectories_equal_libroadrunners(spec):
    """RODAS4 and CVODE at tight tolerances, from the same perturbed state: the same trajectory."""
    dyn = NativeDynamics(spec)
    rng = np.random.default_rng(3)
    dyn.y[: dyn.n] *= rng.uniform(0.5, 1.5, dyn.n)
    dyn.y[dyn.n:] = rng.normal(0.0, 0.3, dyn.nm)
    engine = Engine(spec_to_model(spec), conserved_moiety_analysis=False)
    order = [engine.floating_ids.index(s) for s in dyn.ids]
    start = np.empty(len(dyn.ids))
    start[order] = dyn.y
    engine.write_amounts(start)
    rr = engine.roadrunner
    rr.integrator.setValue("relative_tolerance", 1e-11)
    rr.integrator.setValue("absolute_tolerance", 1e-14)
    expected = np.asarray(rr.simulate(0.0, 3.0, 7, ["time"] + list(dyn.ids)))
    run = dyn.integrate(3.0, 7, np.arange(len(dyn.ids)), rtol=1e-10, atol=1e-13, max_steps=100000)
    assert run.status == "ok"
    np.testing.assert_allclose(run.trace[:, 0], expected[:, 0], rtol=1e-14)
    scale = np.abs(expected[:, 1:]).max()
    assert np.abs(run.trace[:, 1:] - expected[:, 1:]).max() <= 1e-7 * scale


def settle(dyn: NativeDynamics) -> None:
    """Newton, or (far from equilibrium, as libRoadRunner's engine presimulates) a relaxation and then Newton."""
    if not dyn.newton(atol=1e-10, rtol=1e-10).converged:
        run = dyn.relax(1000.0, atol=1e-3, rtol=1e-3, integrator_rtol=1e-6, integrator_atol=1e-10, max_steps=100000)
        assert run.status == "ok"
        assert dyn.newton(atol=1e-10, rtol=1e-10).converged


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{len(s.nodes)}")
def test_newton_finds_libroadrunners_steady_state_and_keeps_the_totals(spec):
    dyn = NativeDynamics(spec)
    totals = dyn.conserved_totals()
    settle(dyn)
    assert np.abs(dyn.conserved_totals() - totals).max() <= 1e-12 * max(1.0, np.abs(totals).max())
    result = Engine(spec_to_model(spec)).steady_state()
    assert result.status.value == "stable"
    expected = np.array([result.values[s] for s in dyn.ids])
    assert np.abs(dyn.y - expected).max() <= 1e-9 * np.abs(expected).max()


def test_injections_move_the_totals_by_exactly_the_injected_amounts():
    spec = SPECS[1]
    dyn = NativeDynamics(spec)
    settle(dyn)
    rng = np.random.default_rng(4)
    for _ in range(5):
        before = dyn.conserved_totals()
        delta = np.zeros(len(dyn.ids))
        nodes = rng.choice(dyn.n, size=3, replace=False)
        delta[nodes] = rng.uniform(0.1, 1.0, 3)
        dyn.y += delta
        assert dyn.newton(atol=1e-10, rtol=1e-10).converged
        moved = dyn.conserved_totals() - before
        np.testing.assert_allclose(moved, dyn.conservation @ delta, rtol=0, atol=1e-12)


def test_the_work_cap_stops_a_window_deterministically():
    spec = SPECS[2]
    outcomes = []
    for _ in range(2):
        dyn = NativeDynamics(spec)
        dyn.y[: dyn.n] *= 3.0  # far from equilibrium: the first steps are short
        run = dyn.integrate(5.0, 3, np.array([0]), rtol=1e-10, atol=1e-14, max_steps=10)
        outcomes.append((run.status, run.time, run.attempts, dyn.y.tobytes()))
    assert outcomes[0][0] == "too_stiff" and outcomes[0][2] == 11
    assert outcomes[0] == outcomes[1]


def test_newton_gives_up_within_its_iteration_bound():
    """A frictionless Hamiltonian pair has a continuum of equilibria: Newton's matrix is singular there."""
    spec = small_spec(friction=0.0)
    dyn = NativeDynamics(spec)
    dyn.y[dyn.n:] = 0.5
    result = dyn.newton(atol=1e-14, rtol=1e-14, max_iter=7)
    assert result.iterations <= 7
    if not result.converged:  # the state is left as it was
        assert np.all(dyn.y[dyn.n:] == 0.5)


def test_ctrl_c_while_the_kernel_loads_is_raised_when_the_load_ends():
    """numba loads through LLVM callbacks, where a KeyboardInterrupt is swallowed; jit_warmup holds it."""
    import ctypes
    import os
    import signal

    from epl_sysbio.dynamics.native import _interrupt_held

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        callback = ctypes.CFUNCTYPE(None)(lambda: os.kill(os.getpid(), signal.SIGINT))
        finished = []
        with pytest.raises(KeyboardInterrupt):
            with _interrupt_held():
                callback()  # unheld, the interrupt raised inside it would be lost ("Exception ignored ...")
                finished.append(True)  # the held block runs to its end
        assert finished == [True] and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
