"""Tests of epl_sysbio.papers.correspondence: one-step statistics of conditioned
mutation on random quadratics, time matching, and the tanh network's gradient."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from epl_sysbio.papers import (
    TanhNetwork,
    delta,
    gradient_descent,
    mutation_step,
    run_conditioned_mutation,
    time_matched_sigma,
)
from epl_sysbio.errors import InvalidValueError

D = 5


def random_quadratic(rng: np.random.Generator):
    """U(x) = (x - m)^T A (x - m) / 2 with eigenvalues of A in [1, 3]; batched."""
    q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    a = q @ np.diag(rng.uniform(1.0, 3.0, D)) @ q.T
    m = rng.standard_normal(D)

    def loss(x: np.ndarray) -> np.ndarray:
        y = x - m
        return 0.5 * np.einsum("ni,ij,nj->n", y, a, y)

    def grad(x: np.ndarray) -> np.ndarray:
        return a @ (x - m)

    return loss, grad, m


def one_step_sample(loss, x0, sigma, beta, n, rng, chunk=400_000):
    """Steps x' - x0 of n independent one-step mutations from x0; shape (n, D)."""
    steps, accepted = [], []
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        x = np.repeat(x0[None, :], k, axis=0)
        x_new, _, acc = mutation_step(loss, x, loss(x), sigma, beta, rng)
        steps.append(x_new - x)
        accepted.append(acc)
    return np.concatenate(steps), np.concatenate(accepted)


@pytest.mark.parametrize("seed", [0, 1])
def test_one_step_statistics_at_infinite_beta(seed: int) -> None:
    rng = np.random.default_rng(seed)
    loss, grad, m = random_quadratic(rng)
    x0 = m + rng.standard_normal(D)
    g = grad(x0)
    # sigma small against |g|/curvature (~0.3), so dU = g.eps up to O(sigma) relative.
    sigma, n = 1e-4, 400_000
    step, acc = one_step_sample(loss, x0, sigma, np.inf, n, rng)
    # Acceptance: Bernoulli(1/2), SE = 0.5/sqrt(n) = 7.9e-4; 5 SE.
    assert acc.mean() == pytest.approx(0.5, abs=5 * 0.5 / np.sqrt(n))
    # Mean step -(sigma/sqrt(2 pi)) g/|g|; each coordinate of eps 1{acc} has
    # variance <= sigma^2/2, SE sigma/sqrt(2n); 5 SE per coordinate.
    expected = -(sigma / np.sqrt(2 * np.pi)) * g / np.linalg.norm(g)
    np.testing.assert_allclose(step.mean(axis=0), expected, atol=5 * sigma / np.sqrt(2 * n))
    # Second moment sigma^2/2 per coordinate; Var(eps_i^2 1{acc}) = 3/2 - 1/4 = 5/4 sigma^4.
    np.testing.assert_allclose((step**2).mean(axis=0), sigma**2 / 2,
                               atol=5 * sigma**2 * np.sqrt(1.25 / n))


def test_one_step_mean_at_finite_beta_is_gradient_descent() -> None:
    rng = np.random.default_rng(2)
    loss, grad, m = random_quadratic(rng)
    x0 = m + rng.standard_normal(D)
    g = grad(x0)
    gnorm = np.linalg.norm(g)
    sigma, n = 1e-4, 1_600_000
    kappa = 0.1
    beta = kappa / (gnorm * sigma)
    step, acc = one_step_sample(loss, x0, sigma, beta, n, rng)
    # Linear loss, exactly: mean step = -(beta sigma^2/2) g * c(kappa),
    # c = 2 exp(kappa^2/2) Q(kappa) -> 1 as kappa -> 0 (c(0.1) = 0.925); the
    # acceptance is 1/2 + exp(kappa^2/2) Q(kappa).
    c = 2 * np.exp(kappa**2 / 2) * norm.sf(kappa)
    gd_step = -(beta * sigma**2 / 2) * g
    # Per-coordinate SE <= sigma/sqrt(n) = 7.9e-8 against |gd_step| ~ 5e-6; 5 SE.
    np.testing.assert_allclose(step.mean(axis=0), c * gd_step, atol=5 * sigma / np.sqrt(n))
    assert acc.mean() == pytest.approx(0.5 + c / 2, abs=5 * 0.5 / np.sqrt(n))
    # The small-kappa law itself, with its known O(kappa) bias allowed for.
    np.testing.assert_allclose(step.mean(axis=0), gd_step,
                               atol=(1 - c) * np.abs(gd_step).max() + 5 * sigma / np.sqrt(n))


def test_time_matching_formulas() -> None:
    assert time_matched_sigma(1e-5, 0.1) == pytest.approx(np.sqrt(2 * np.pi) * 1e-6)
    assert time_matched_sigma(1e-4, 1.0, 1000.0) == pytest.approx(np.sqrt(2e-7))
    with pytest.raises(InvalidValueError, match="'beta' parameter of time_matched_sigma"):
        time_matched_sigma(1e-4, 1.0, -1.0)
    with pytest.raises(ValueError, match="'lam' parameter"):
        time_matched_sigma(1e-4, 0.0)


@pytest.mark.parametrize(("beta", "alpha"), [(np.inf, 1e-3), (0.2, 1e-4)])
def test_ensemble_mean_follows_time_matched_gradient_descent(beta: float, alpha: float) -> None:
    rng = np.random.default_rng(3)
    loss, grad, m = random_quadratic(rng)
    x0 = m + 2 * rng.standard_normal(D)
    lam, n_steps, n = 1.0, 400, 2000
    sigma = time_matched_sigma(alpha, lam, beta)
    if np.isfinite(beta):
        # The finite-beta law needs kappa = beta |g| sigma << 1 (here about 0.1).
        assert beta * np.linalg.norm(grad(x0)) * sigma < 0.15
    ens = run_conditioned_mutation(
        loss, x0, n_trajectories=n, sigma=sigma, beta=beta, n_steps=n_steps,
        record_every=100, rng=rng, seed=3,
    )
    _, gd = gradient_descent(grad, x0, rate=alpha, n_steps=int(lam * n_steps),
                             record_every=int(lam * 100), clipped=np.isinf(beta))
    moved = delta(gd[-1], x0)
    gap = delta(gd, ens.mean)
    # Noise floor of the mean: variance per coordinate <= n_steps sigma^2 / n;
    # 25 times it is 5 SE on the root-mean-square distance. The systematic part
    # (O(sigma) at beta = inf, O(kappa) ~ 8 % of the step at finite beta) is held
    # to 10 % of the root-mean-square displacement.
    assert gap[-1] < 25 * n_steps * sigma**2 / n + 1e-2 * moved
    assert gap[-1] < 3e-2 * moved
    if np.isinf(beta):
        assert ens.acceptance_rate == pytest.approx(0.5, abs=0.01)
    assert ens.mean.shape == (5, D) and ens.final.shape == (n, D) and ens.seed == 3


def test_tanh_network_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(4)
    theta = np.linspace(0, 1, 50, endpoint=False)
    net = TanhNetwork(7, theta, np.sin(2 * np.pi * theta), chunk=2)
    p = 0.7 * rng.standard_normal((3, net.n_parameters))
    h = 1e-6
    fd = np.array([(net.loss(p + h * e) - net.loss(p - h * e)) / (2 * h)
                   for e in np.eye(net.n_parameters)]).T
    np.testing.assert_allclose(net.gradient(p), fd, atol=1e-8)
    np.testing.assert_allclose(net.gradient(p[0]), fd[0], atol=1e-8)
    assert net.loss(p).shape == (3,)


def test_script_quick_run(tmp_path) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "analysis" / "neuroevolution_vs_gd.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True, timeout=600)
    headline = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("acceptance_rate", "drift_rel_error", "delta_final_by_lambda"):
        assert key in headline
    assert headline["acceptance_rate"] == pytest.approx(0.5, abs=0.05)  # 4000 proposals
    assert set(headline["delta_final_by_lambda"]) == {"0.4", "0.2", "0.1"}
    assert headline["molecular_loss_final_gd"] < headline["molecular_loss_start"]
    for name in ("correspondence.png", "delta_vs_n.png", "molecular.png",
                 "delta_by_lambda.csv", "delta_vs_n.csv", "molecular.csv"):
        assert (tmp_path / name).stat().st_size > 0


def _load_script(name: str):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "analysis" / f"{name}.py"
    sys.path.insert(0, str(path.parent))  # the scripts import their sibling _script
    spec = importlib.util.spec_from_file_location(f"analysis_script_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_molecular_layer_loss_gradient_and_conservation() -> None:
    import time

    script = _load_script("neuroevolution_vs_gd")
    layer = script.MolecularSteadyStateLoss()
    reference = np.log([1.0, 0.5, 0.8, 0.3, 2.0, 0.5])
    layer.targets = layer.outputs(reference)
    assert np.all((layer.targets > 0) & (layer.targets < 0.5))
    theta = reference + np.random.default_rng(5).normal(0, 0.5, reference.size)
    sp, c = layer.outputs(theta)
    # Conserved totals survive parameter changes (the layer writes and reads by id).
    s_free = layer.layer.engine.get_value("S")
    assert s_free + sp + c == pytest.approx(1.0, abs=1e-9)
    assert layer.layer.engine.get_value("R") + c == pytest.approx(0.5, abs=1e-9)
    assert layer.loss(reference[None, :])[0] == pytest.approx(0.0, abs=1e-20)
    grad = layer.gradient(theta)
    # The implicit gradient against central differences of the loss (h = 1e-4 in log space).
    h = 1e-4
    fd = np.array([(layer.loss((theta + h * e)[None, :])[0] - layer.loss((theta - h * e)[None, :])[0]) / (2 * h)
                   for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-10)
    u0 = layer.loss(theta[None, :])[0]
    assert layer.loss((theta - 1e-2 * grad / np.linalg.norm(grad))[None, :])[0] < u0
    # Compiled once: a solve costs well under a millisecond (a recompile is ~100 ms).
    start = time.perf_counter()
    layer.loss(np.repeat(theta[None, :], 200, axis=0))
    assert (time.perf_counter() - start) / 200 < 5e-3
