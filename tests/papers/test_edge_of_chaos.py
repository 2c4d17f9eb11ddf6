"""Tests of epl_sysbio.papers.edge_of_chaos: couplings, speed potential, mean field,
spectrum edge, simulated transition and Langevin equipartition."""

from __future__ import annotations

import numpy as np
import pytest

from epl_sysbio.papers import (
    LangevinOptions,
    SimulationOptions,
    coupling_matrix,
    elliptic_spectrum_edge,
    estimate_transition,
    fixed_point_order_parameters,
    langevin_speed_potential,
    mean_field,
    minimise_speed_potential,
    simulate_activity,
    spectrum_edge,
    speed,
    speed_potential,
    speed_potential_gradient,
)
from epl_sysbio.errors import InvalidValueError


@pytest.mark.parametrize("gamma", [0.0, 0.5, -0.3])
def test_coupling_statistics(gamma: float) -> None:
    n, g = 400, 1.3
    j = coupling_matrix(n, g, gamma, np.random.default_rng(0))
    iu = np.triu_indices(n, 1)
    a, b = j[iu] * np.sqrt(n) / g, j.T[iu] * np.sqrt(n) / g
    m = a.size  # 79800 pairs
    # Sample variance of m unit-variance Gaussians: SE sqrt(2/m) = 0.005; 5 SE.
    assert np.var(a) == pytest.approx(1.0, abs=5 * np.sqrt(2 / m))
    # Sample correlation: SE (1 - gamma^2)/sqrt(m) <= 0.0036; 5 SE.
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(gamma, abs=5 / np.sqrt(m))


def test_bad_parameters_raise_with_the_template() -> None:
    with pytest.raises(InvalidValueError, match="'gamma' parameter of coupling_matrix"):
        coupling_matrix(10, 1.0, 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="'step' parameter of LangevinOptions"):
        LangevinOptions(step=-1.0)
    with pytest.raises(ValueError, match="'response' parameter of mean_field"):
        mean_field(1.0, 0.0, response="exact")  # type: ignore[arg-type]


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    n = 30
    j = coupling_matrix(n, 1.5, 0.3, rng)
    x = rng.standard_normal((n, 2))
    grad = speed_potential_gradient(x, j)
    h = 1e-6
    for i in range(n):
        e = np.zeros((n, 1))
        e[i] = h
        fd = (speed_potential(x + e, j) - speed_potential(x - e, j)) / (2 * h)
        np.testing.assert_allclose(grad[i], fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(speed_potential(x, j), 0.5 * np.sum(speed(x, j) ** 2, axis=0))


def test_mean_field_quoted_values() -> None:
    for response in ("factorised", "cavity"):
        assert mean_field(1.2, 0.0, response).C == pytest.approx(0.175, abs=0.005)
        assert mean_field(0.8, 0.5, response).C == pytest.approx(0.18, abs=0.01)
    # The two response equations differ above g_c (documented in mean_field).
    assert mean_field(0.8, 0.5, "factorised").C == pytest.approx(0.1785, abs=5e-4)
    assert mean_field(0.8, 0.5, "cavity").C == pytest.approx(0.1885, abs=5e-4)


@pytest.mark.parametrize("gamma", [0.0, 0.2, 0.5])
def test_mean_field_transition_and_response_peak(gamma: float) -> None:
    gc = 1.0 / (1.0 + gamma)
    below = [mean_field(g, gamma) for g in gc * np.array([0.5, 0.9, 0.99])]
    assert all(s.C == 0.0 for s in below)
    above = [mean_field(g, gamma) for g in gc * np.array([1.01, 1.05, 1.2, 1.5])]
    cs = [s.C for s in above]
    assert 0 < cs[0] < 0.02  # continuous onset
    assert np.all(np.diff(cs) > 0)
    grid = gc * np.linspace(0.7, 1.3, 61)
    r = np.array([mean_field(g, gamma).R for g in grid])
    assert r.max() == pytest.approx(1.0 + gamma, abs=1e-6)
    assert mean_field(gc, gamma).R == pytest.approx(1.0 + gamma, abs=1e-6)
    # Strictly smaller away from g_c on both sides (gamma = 0: flat R = 1 below g_c).
    assert np.all(r[grid > gc * 1.01] < 1.0 + gamma - 1e-3)
    if gamma > 0:
        assert np.all(r[grid < gc * 0.99] < 1.0 + gamma - 1e-3)


@pytest.mark.parametrize("gamma", [0.0, 0.5])
def test_spectrum_edge_follows_the_elliptic_law(gamma: float) -> None:
    # Finite-N real-edge fluctuations are about 0.02 at N = 400 (measured);
    # the mean of 3 draws is held to 0.05.
    rng = np.random.default_rng(2)
    edges = [spectrum_edge(coupling_matrix(400, 0.9, gamma, rng)) for _ in range(3)]
    assert np.mean(edges) == pytest.approx(elliptic_spectrum_edge(0.9, gamma), abs=0.05)


@pytest.mark.parametrize("gamma", [0.0, 0.5])
def test_simulated_transition(gamma: float) -> None:
    rng = np.random.default_rng(3)
    n = 400
    j0 = coupling_matrix(n, 1.0, gamma, rng)
    gc = 1.0 / (1.0 + gamma)
    gains = gc + np.linspace(-0.15, 0.1, 6)
    times, rms, _ = simulate_activity(j0, gains, rng.standard_normal(n),
                                      SimulationOptions(t_end=150.0))
    est = estimate_transition(gains, times, rms)
    # The decaying runs are linear, so the transition is sharp for this matrix:
    # g* = 1/(1 + edge of -I + J0). Tolerance 0.01 covers the fit window.
    assert est.g == pytest.approx(1.0 / (1.0 + spectrum_edge(j0)), abs=0.01)
    assert est.g == pytest.approx(gc, abs=0.06)  # one finite-N draw
    assert est.last_decayed < est.g <= est.first_persistent + 0.01
    assert np.all(est.rates[gains < gc - 0.1] < -0.05)


def test_fixed_point_order_parameters_at_origin() -> None:
    j = coupling_matrix(50, 0.5, 0.0, np.random.default_rng(4))
    x, energy = minimise_speed_potential(j, np.random.default_rng(5).standard_normal(50))
    assert energy < 1e-16
    c, r = fixed_point_order_parameters(j, x)
    assert c < 1e-12
    # At x = 0, R = tr((I - J)^-1)/N.
    assert r == pytest.approx(np.trace(np.linalg.inv(np.eye(50) - j)) / 50, rel=1e-6)


@pytest.mark.parametrize("g", [0.8, 1.2])
def test_langevin_energy_per_neuron_is_equipartition(g: float) -> None:
    rng = np.random.default_rng(6)
    n = 200
    j0 = coupling_matrix(n, 1.0, 0.0, rng)
    _, _, x_dyn = simulate_activity(j0, np.array([g]), rng.standard_normal(n),
                                    SimulationOptions(t_end=50.0))
    x_min, energy = minimise_speed_potential(g * j0, x_dyn[:, 0], gtol=1e-8, max_iter=3000)
    assert energy / n < 1e-10
    for beta in (1e2, 1e3, 1e4):
        res = langevin_speed_potential(
            g * j0, np.repeat(x_min[:, None], 4, axis=1), beta, rng,
            LangevinOptions(step=2e-3, n_burn=8000, n_samples=8000),
        )
        # Equipartition: <E>/N = 1/(2 beta). Measured spread between 4 chains
        # is about 2 %; the claim under test is 10 %.
        assert res.energy_per_neuron * 2 * beta == pytest.approx(1.0, rel=0.1)


# The whole script (506 s of a loaded 2-core worker, measured): `make test-long`. Each figure it draws is
# checked in the suite above on the library function that computes it.
@pytest.mark.long
def test_script_quick_run(tmp_path) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "analysis" / "edge_of_chaos.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True, timeout=600)
    headline = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(headline["transition_g"]) == {"0.0", "0.2", "0.5"}
    assert headline["C_g1.2_gamma0"] == pytest.approx(0.175, abs=0.005)
    assert headline["C_g0.8_gamma0.5"] == pytest.approx(0.18, abs=0.01)
    assert headline["R_peak"]["0.5"]["R"] == pytest.approx(1.5, abs=1e-6)
    assert set(headline["energy_per_neuron"]) == {"100.0", "1000.0", "10000.0"}
    for name in ("phase_diagram.png", "order_parameters.png", "langevin.png",
                 "phase_diagram.csv", "transitions.csv", "langevin.csv"):
        assert (tmp_path / name).stat().st_size > 0
