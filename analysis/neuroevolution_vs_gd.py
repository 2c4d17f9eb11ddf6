"""Neuroevolution as gradient descent (Whitelam et al. 2021; DESIGN.md section 1 item 2).

    python analysis/neuroevolution_vs_gd.py --out runs/neuroevolution_vs_gd [--quick] [--seed 0]

Three reproductions, each comparing the average of independent conditioned-mutation
trajectories with time-matched gradient descent:

(1) beta = inf, a 1-30-1 tanh network fitting sin(2 pi theta) on 1000 points,
    initial weights N(0, 1e-4) (variance), alpha = 1e-5, 1000 trajectories, against
    *clipped* gradient descent, for lambda in {0.4, 0.2, 0.1}
    (sigma = sqrt(2 pi) lambda alpha);
(2) beta = 1000, a 1-256-1 tanh network (100 points, initial weights N(0, 0.05^2)),
    alpha = 1e-4, lambda = 1
    (sigma = sqrt(2 lambda alpha / beta)), against plain gradient descent:
    Delta at the final time against the number n of averaged trajectories;
(3) beta = inf on the log rate constants of a molecular equilibrium layer (a
    phosphorylation cycle whose product binds a receptor, solved to steady state
    by libRoadRunner through epl_sysbio.deq.EquilibriumLayer), loss on two
    steady-state outputs, gradient by the layer's implicit-function-theorem
    gradient in log-rate space.

Writes CSV and PNG into --out and prints one JSON line of headline figures last.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _script import save_figure, start_run, write_csv  # noqa: E402  (sibling module)
from rich.progress import Progress  # noqa: E402
from scipy.stats import norm  # noqa: E402

from epl_sysbio.papers import (  # noqa: E402
    TanhNetwork,
    delta,
    gradient_descent,
    mutation_step,
    run_conditioned_mutation,
    time_matched_sigma,
)

LAMBDAS = (0.4, 0.2, 0.1)




def sine_network(width: int, n_points: int) -> TanhNetwork:
    theta = np.linspace(0.0, 1.0, n_points, endpoint=False)
    return TanhNetwork(width, theta, np.sin(2 * np.pi * theta), chunk=20)


def run_ensemble(progress: Progress, label: str, loss, x0, **kw):
    task = progress.add_task(label, total=kw["n_steps"])
    return run_conditioned_mutation(loss, x0, progress=lambda s: progress.update(task, completed=s),
                                    **kw)


# --------------------------------------------------------------------------- (1)


def one_step_check(net: TanhNetwork, x0: np.ndarray, sigma: float, n: int,
                   rng: np.random.Generator) -> dict:
    """One-step statistics at beta = inf at ``x0`` from ``n`` independent mutations.

    The measured mean step is compared with ``-(sigma/sqrt(2 pi)) g/|g|``. Its
    sampling error: each coordinate of the accepted step has variance about
    ``sigma^2/2``, so the expected norm of the error of the mean is
    ``sigma sqrt(d/(2n))``; relative to ``sigma/sqrt(2 pi)`` that is the
    ``noise_floor`` reported next to ``drift_rel_error``. The component along
    ``g`` alone (``drift_parallel_ratio``, ideally 1) has relative error
    ``sqrt(pi/n)``.
    """
    g = net.gradient(x0)
    unit = g / np.linalg.norm(g)
    expected = -(sigma / np.sqrt(2 * np.pi)) * unit
    total, second, accepted, done = np.zeros_like(x0), np.zeros_like(x0), 0, 0
    while done < n:
        k = min(1000, n - done)
        x = np.repeat(x0[None, :], k, axis=0)
        x_new, _, acc = mutation_step(net.loss, x, net.loss(x), sigma, np.inf, rng)
        step = x_new - x
        total += step.sum(axis=0)
        second += (step**2).sum(axis=0)
        accepted += int(acc.sum())
        done += k
    mean = total / n
    d = x0.size
    return dict(
        one_step_acceptance=accepted / n,
        drift_rel_error=float(np.linalg.norm(mean - expected) / np.linalg.norm(expected)),
        drift_rel_error_noise_floor=float(np.sqrt(d / (2 * n)) * np.sqrt(2 * np.pi)),
        drift_parallel_ratio=float(-(mean @ unit) / (sigma / np.sqrt(2 * np.pi))),
        drift_cosine=float(mean @ expected / (np.linalg.norm(mean) * np.linalg.norm(expected))),
        second_moment_over_half_sigma2=float(np.mean(second / n) / (sigma**2 / 2)),
        one_step_samples=n,
    )


def experiment_lambdas(cfg: dict, rng: np.random.Generator, progress: Progress) -> dict:
    net = sine_network(30, 1000)
    alpha = 1e-5
    x0 = net.initial_parameters(rng, std=1e-2)  # N(0, 1e-4): variance 1e-4
    results = {}
    for lam in LAMBDAS:
        sigma = time_matched_sigma(alpha, lam)
        seed = int(rng.integers(2**31))
        ens = run_ensemble(progress, f"(1) beta = inf, lambda = {lam}", net.loss, x0,
                           n_trajectories=cfg["n1"], sigma=sigma, beta=np.inf,
                           n_steps=cfg["steps1"], record_every=cfg["record1"],
                           rng=np.random.default_rng(seed), seed=seed)
        # One mutation step = lambda gradient steps of rate alpha.
        gd_every = lam * cfg["record1"]
        assert abs(gd_every - round(gd_every)) < 1e-9, "record1 * lambda must be an integer"
        _, gd = gradient_descent(net.gradient, x0, rate=alpha,
                                 n_steps=int(round(lam * cfg["steps1"])),
                                 record_every=int(round(gd_every)), clipped=True)
        results[lam] = dict(ens=ens, gd=gd, gd_steps=lam * ens.steps, sigma=sigma,
                            delta=delta(gd, ens.mean), moved=delta(gd, x0))
    stats = one_step_check(net, x0, time_matched_sigma(alpha, 0.1), cfg["one_step"], rng)
    return dict(results=results, x0=x0, stats=stats, alpha=alpha)


# --------------------------------------------------------------------------- (2)


def experiment_finite_beta(cfg: dict, rng: np.random.Generator, progress: Progress) -> dict:
    net = sine_network(256, cfg["points2"])
    alpha, lam, beta = 1e-4, 1.0, 1000.0
    sigma = time_matched_sigma(alpha, lam, beta)
    # Initial weights N(0, 0.05^2): large enough that the drift beats the
    # sampling noise at n = 1000 (|grad U| of order 0.5), small enough that
    # kappa = beta |grad U| sigma stays of order 0.3 (0.32 at seed 0).
    x0 = net.initial_parameters(rng, std=0.05)
    seed = int(rng.integers(2**31))
    ens = run_ensemble(progress, "(2) beta = 1000, width 256", net.loss, x0,
                       n_trajectories=cfg["n2"], sigma=sigma, beta=beta,
                       n_steps=cfg["steps2"], record_every=cfg["steps2"],
                       rng=np.random.default_rng(seed), seed=seed)
    _, gd = gradient_descent(net.gradient, x0, rate=alpha, n_steps=cfg["steps2"],
                             record_every=cfg["steps2"], clipped=False)
    kappa = beta * np.linalg.norm(net.gradient(x0)) * sigma
    sizes = [n for n in (1, 3, 10, 30, 100, 300, 1000) if n <= cfg["n2"]]
    rows = []
    for n in sizes:
        # Average Delta over the disjoint groups of n trajectories.
        groups = ens.final[: (cfg["n2"] // n) * n].reshape(-1, n, x0.size).mean(axis=1)
        d = delta(gd[-1], groups)
        rows.append((n, float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))
                     if d.size > 1 else float("nan"), d.size))
    moved = float(delta(gd[-1], x0))
    # For a linear loss the mean step is c(kappa) times the gradient step,
    # c = 2 exp(kappa^2/2) Q(kappa) (see epl_sysbio.papers.correspondence), so
    # the mean over infinitely many runs misses GD by about (1 - c)^2 * moved.
    c = 2.0 * np.exp(kappa**2 / 2) * norm.sf(kappa)
    return dict(rows=rows, sigma=sigma, kappa=float(kappa), moved=moved,
                bias_floor=float((1.0 - c) ** 2 * moved),
                acceptance_rate=ens.acceptance_rate,
                noise_per_step=sigma**2, steps=cfg["steps2"])


# --------------------------------------------------------------------------- (3)

MOLECULAR_MODEL = """
model phospho_binding
  // A phosphorylation cycle (Michaelis-Menten kinase and phosphatase) whose
  // product Sp binds a receptor R into a complex C (mass action).
  // Conserved totals: S + Sp + C = 1 and R + C = 0.5.
  compartment cell = 1;
  species S in cell, Sp in cell, R in cell, C in cell;
  S = 1; Sp = 0; R = 0.5; C = 0;
  kcat1 = 1; Km1 = 0.5; kcat2 = 0.8; Km2 = 0.3; kon = 2; koff = 0.5;
  J1: S -> Sp; kcat1*S/(Km1 + S);
  J2: Sp -> S; kcat2*Sp/(Km2 + Sp);
  J3: Sp + R -> C; kon*Sp*R - koff*C;
end
"""
RATE_IDS = ("kcat1", "Km1", "kcat2", "Km2", "kon", "koff")
OUTPUT_IDS = ("Sp", "C")


class MolecularSteadyStateLoss:
    """Squared error of steady-state outputs of a molecular equilibrium layer.

    ``U(theta) = sum_k (y_k(exp theta) - y*_k)^2`` over the outputs ``y`` =
    steady-state amounts of ``Sp`` and ``C``; ``theta`` are the log rate
    constants. The layer (:class:`epl_sysbio.deq.EquilibriumLayer`) compiles
    the model once, warm-starts each solve from the previous steady state (a
    failed warm start is retried from the initial state) and reports a status
    per solve: anything but a stable steady state gives ``U = inf`` (the
    mutant is rejected). The gradient is the layer's implicit-function-theorem
    gradient, ``dU/dtheta_i = 2 sum_k (y_k - y*_k) (dy_k/dk_i) k_i`` with
    ``k = exp(theta)``: no finite differences.
    """

    def __init__(self, targets: np.ndarray | None = None):
        from epl_sysbio.deq import EquilibriumLayer, LayerOptions
        from epl_sysbio.model import Model

        self.layer = EquilibriumLayer(Model.from_antimony(MOLECULAR_MODEL), inputs=[], outputs=list(OUTPUT_IDS),
                                      params=list(RATE_IDS), options=LayerOptions(start="warm"))
        self._no_inputs = np.zeros((1, 0))
        self.n_solves = 0
        self.targets = np.zeros(len(OUTPUT_IDS)) if targets is None else np.asarray(targets)

    def _forward(self, log_rates: np.ndarray, gradient: bool):
        self.n_solves += 1
        return self.layer.forward(self._no_inputs, params=np.exp(log_rates), gradient=gradient)

    def outputs(self, log_rates: np.ndarray) -> np.ndarray:
        """Steady-state outputs for one parameter vector; ``(d,) -> (k,)`` (NaN unless stable)."""
        return self._forward(log_rates, gradient=False).values[0]

    def loss(self, log_rates: np.ndarray) -> np.ndarray:
        """Batched loss; ``(n, d) -> (n,)``."""
        out = np.empty(log_rates.shape[0])
        for i, row in enumerate(log_rates):
            err = self.outputs(row) - self.targets
            out[i] = np.inf if np.any(np.isnan(err)) else float(err @ err)
        return out

    def gradient(self, log_rates: np.ndarray) -> np.ndarray:
        """Implicit gradient in log-rate space; ``(d,) -> (d,)``."""
        result = self._forward(log_rates, gradient=True).require_ok()
        err = result.values[0] - self.targets
        return 2.0 * (err @ result.d_params[0]) * np.exp(log_rates)


def experiment_molecular(cfg: dict, rng: np.random.Generator, progress: Progress) -> dict:
    true_log = np.log([1.0, 0.5, 0.8, 0.3, 2.0, 0.5])
    layer = MolecularSteadyStateLoss()
    layer.targets = layer.outputs(true_log)
    x0 = true_log + rng.normal(0.0, 0.5, true_log.size)
    alpha, lam = 1e-2, 0.1
    sigma = time_matched_sigma(alpha, lam)
    seed = int(rng.integers(2**31))
    t0 = time.perf_counter()
    ens = run_ensemble(progress, "(3) molecular layer, beta = inf", layer.loss, x0,
                       n_trajectories=cfg["n3"], sigma=sigma, beta=np.inf,
                       n_steps=cfg["steps3"], record_every=cfg["record3"],
                       rng=np.random.default_rng(seed), seed=seed)
    seconds = time.perf_counter() - t0
    solves = layer.n_solves
    _, gd = gradient_descent(layer.gradient, x0, rate=alpha,
                             n_steps=int(round(lam * cfg["steps3"])),
                             record_every=int(round(lam * cfg["record3"])), clipped=True)
    return dict(ens=ens, gd=gd, gd_steps=lam * ens.steps, delta=delta(gd, ens.mean),
                moved=delta(gd, x0), gd_loss=layer.loss(gd), sigma=sigma,
                ms_per_solve=1e3 * seconds / solves, true_log=true_log)


# --------------------------------------------------------------------------- plots


def plot_correspondence(out: Path, exp1: dict) -> None:
    res = exp1["results"][0.1]
    ens, gd, t = res["ens"], res["gd"], res["gd_steps"]
    x0 = exp1["x0"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    ax = axes[0]
    # The four parameters that moved most under gradient descent.
    idx = np.argsort(-np.abs(gd[-1] - x0))[:4]
    for k, i in enumerate(idx):
        col = f"C{k}"
        for j in range(min(2, ens.sample.shape[1])):
            ax.plot(t, ens.sample[:, j, i] - x0[i], color=col, lw=0.6, alpha=0.35,
                    label="single trajectories" if (k == 0 and j == 0) else None)
        ax.plot(t, ens.mean[:, i] - x0[i], color=col, lw=2.2,
                label=f"mean of {ens.final.shape[0]} trajectories" if k == 0 else None)
        ax.plot(t, gd[:, i] - x0[i], "k--", lw=1.2,
                label="clipped gradient descent" if k == 0 else None)
    ax.set_xlabel(r"time in gradient steps ($\lambda$ x mutation steps)")
    ax.set_ylabel(r"weight change $x_i(t) - x_i(0)$")
    ax.set_title(r"(1) 1-30-1 tanh net, $\beta=\infty$, $\lambda = 0.1$, $\alpha=10^{-5}$")
    ax.legend(fontsize=8)
    ax = axes[1]
    for lam, col in zip(LAMBDAS, ["C3", "C1", "C0"]):
        r = exp1["results"][lam]
        ax.plot(r["gd_steps"][1:], r["delta"][1:], "-", color=col, label=rf"$\lambda$ = {lam}")
    r = exp1["results"][LAMBDAS[0]]
    ax.plot(r["gd_steps"][1:], r["moved"][1:], "k:", label=r"GD displacement, mean$_i(x_i(t)-x_i(0))^2$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("time in gradient steps")
    ax.set_ylabel(r"$\Delta(t)$ = mean$_i\,(x_{GD,i} - \langle x_i\rangle)^2$")
    ax.set_title(r"$\Delta(t)$ shrinks with $\lambda$ (mutation scale $\sigma=\sqrt{2\pi}\lambda\alpha$)")
    ax.legend(fontsize=8)
    save_figure(fig, out / "correspondence.png", dpi=100)


def plot_delta_vs_n(out: Path, exp2: dict) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.5))
    n = np.array([r[0] for r in exp2["rows"]])
    d = np.array([r[1] for r in exp2["rows"]])
    err = np.array([r[2] for r in exp2["rows"]])
    ax.errorbar(n, d, yerr=np.nan_to_num(err), fmt="o-", capsize=3,
                label=r"$\Delta$ at the final time, mean over disjoint groups")
    ax.plot(n, d[0] / n, "k--", lw=1, label=r"$\propto 1/n$ (pure sampling noise)")
    ax.axhline(exp2["moved"], color="grey", ls=":",
               label="GD displacement mean$_i(x_i(T)-x_i(0))^2$")
    ax.axhline(exp2["bias_floor"], color="C3", ls="-.",
               label=rf"finite-$\kappa$ floor $(1-c(\kappa))^2\times$displacement, "
                     rf"$\kappa$ = {exp2['kappa']:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number n of averaged trajectories")
    ax.set_ylabel(r"$\Delta$ = mean$_i\,(x_{GD,i} - \langle x_i\rangle_n)^2$")
    ax.set_title(rf"(2) $\beta$ = 1000, 1-256-1 tanh net, {exp2['steps']} steps, "
                 r"$\alpha=10^{-4}$, $\lambda=1$")
    ax.legend(fontsize=8)
    save_figure(fig, out / "delta_vs_n.png", dpi=100)


def plot_molecular(out: Path, exp3: dict) -> None:
    ens, gd, t = exp3["ens"], exp3["gd"], exp3["gd_steps"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ax = axes[0]
    for i, name in enumerate(RATE_IDS):
        ax.plot(t, ens.mean[:, i] - gd[0, i], color=f"C{i}", lw=2, label=f"{name}: mean")
        ax.plot(t, gd[:, i] - gd[0, i], "k--", lw=1)
    ax.plot([], [], "k--", label="clipped GD (implicit gradient)")
    ax.set_xlabel("time in gradient steps")
    ax.set_ylabel(r"change of log rate constant, $\theta_i(t)-\theta_i(0)$")
    ax.set_title(f"(3) molecular equilibrium layer, mean of {ens.final.shape[0]} trajectories")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    ax.plot(t, ens.mean_loss, label="mean loss of the trajectories")
    ax.plot(t, exp3["gd_loss"], "k--", label="loss along clipped GD")
    ax.plot(t[1:], exp3["delta"][1:], label=r"$\Delta(t)$")
    ax.set_yscale("log")
    ax.set_xlabel("time in gradient steps")
    ax.set_ylabel("loss / $\\Delta$")
    ax.set_title("steady-state loss on [Sp], [C] and the distance to GD")
    ax.legend(fontsize=8)
    save_figure(fig, out / "molecular.png", dpi=100)


FULL = dict(n1=1000, steps1=480, record1=10, one_step=100_000,
            n2=1000, steps2=400, points2=100, n3=200, steps3=600, record3=20)
QUICK = dict(n1=100, steps1=40, record1=10, one_step=5_000,
             n2=100, steps2=10, points2=50, n3=20, steps3=40, record3=20)


def main(argv: list[str] | None = None) -> dict:
    args, cfg, rng = start_run(__doc__.splitlines()[0], argv, FULL, QUICK)
    start = time.perf_counter()
    with Progress(transient=True) as progress:
        exp1 = experiment_lambdas(cfg, rng, progress)
        exp2 = experiment_finite_beta(cfg, rng, progress)
        exp3 = experiment_molecular(cfg, rng, progress)

    rows = []
    for lam, r in exp1["results"].items():
        rows += [[lam, s, t, d, m] for s, t, d, m in
                 zip(r["ens"].steps, r["gd_steps"], r["delta"], r["moved"])]
    write_csv(args.out / "delta_by_lambda.csv",
              ["lambda", "mutation_step", "gd_step", "delta", "gd_displacement"], rows)
    r01 = exp1["results"][0.1]
    d = exp1["x0"].size
    write_csv(args.out / "weights_lambda0.1.csv",
              ["gd_step"] + [f"mean_{i}" for i in range(d)] + [f"gd_{i}" for i in range(d)],
              [[t, *m, *g] for t, m, g in zip(r01["gd_steps"], r01["ens"].mean, r01["gd"])])
    write_csv(args.out / "delta_vs_n.csv", ["n", "delta", "sem", "groups"], exp2["rows"])
    write_csv(args.out / "molecular.csv",
              ["gd_step", "mean_loss", "gd_loss", "delta"]
              + [f"mean_log_{k}" for k in RATE_IDS] + [f"gd_log_{k}" for k in RATE_IDS],
              [[t, ml, gl, dd, *m, *g] for t, ml, gl, dd, m, g in
               zip(exp3["gd_steps"], exp3["ens"].mean_loss, exp3["gd_loss"], exp3["delta"],
                   exp3["ens"].mean, exp3["gd"])])
    plot_correspondence(args.out, exp1)
    plot_delta_vs_n(args.out, exp2)
    plot_molecular(args.out, exp3)

    # Delta at the latest time all lambdas reach (that of the smallest lambda).
    t_common = exp1["results"][min(LAMBDAS)]["gd_steps"][-1]
    at_common = {}
    for lam, r in exp1["results"].items():
        k = int(np.flatnonzero(np.isclose(r["gd_steps"], t_common))[0])
        at_common[str(lam)] = float(r["delta"][k])
    headline = dict(
        seed=args.seed,
        quick=args.quick,
        acceptance_rate=exp1["results"][0.1]["ens"].acceptance_rate,
        acceptance_rate_by_lambda={str(k): r["ens"].acceptance_rate
                                   for k, r in exp1["results"].items()},
        **exp1["stats"],
        delta_final_by_lambda=at_common,
        delta_final_time_gd_steps=float(t_common),
        gd_displacement_at_that_time=float(exp1["results"][0.1]["moved"][-1]),
        delta_own_final_by_lambda={str(k): float(r["delta"][-1])
                                   for k, r in exp1["results"].items()},
        finite_beta_delta_by_n={str(r[0]): r[1] for r in exp2["rows"]},
        finite_beta_gd_displacement=exp2["moved"],
        finite_beta_kappa=exp2["kappa"],
        finite_beta_bias_floor=exp2["bias_floor"],
        finite_beta_acceptance_rate=exp2["acceptance_rate"],
        molecular_delta_final=float(exp3["delta"][-1]),
        molecular_gd_displacement=float(exp3["moved"][-1]),
        molecular_loss_start=float(exp3["gd_loss"][0]),
        molecular_loss_final_gd=float(exp3["gd_loss"][-1]),
        molecular_loss_final_mean=float(exp3["ens"].mean_loss[-1]),
        molecular_acceptance_rate=exp3["ens"].acceptance_rate,
        molecular_ms_per_steady_state=exp3["ms_per_solve"],
        seconds=round(time.perf_counter() - start, 1),
    )
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
