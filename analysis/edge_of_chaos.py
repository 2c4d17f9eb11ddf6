"""Edge of chaos of dx/dt = -x + J tanh(x): phase diagram and order parameters,
simulation next to mean-field theory (Qiu & Huang 2024; DESIGN.md section 1 item 3).

    python analysis/edge_of_chaos.py --out runs/edge_of_chaos [--quick] [--seed 0]

Writes into --out:
  phase_diagram.csv/.png      mean-field C over (g, gamma), theory line g(1+gamma) = 1,
                              transitions found by direct simulation (N = 1000)
  transitions.csv, decay_rates.png
                              per gamma and coupling draw: simulated transition, the
                              1/(1 + spectrum edge) of the same matrix, decay rates
  order_parameters.csv/.png   C(g) and R(g): mean field (both response forms) and
                              fixed points found by zero-temperature minimisation
  spectrum.png                eigenvalues of the Jacobian at x = 0 and the elliptic law
  langevin.csv/.png           energy per neuron of Langevin samples of exp(-beta E)
and prints one JSON line of headline figures as its last line.
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

from epl_sysbio.papers import (  # noqa: E402
    LangevinOptions,
    SimulationOptions,
    coupling_matrix,
    estimate_transition,
    fixed_point_order_parameters,
    langevin_speed_potential,
    mean_field,
    minimise_speed_potential,
    simulate_activity,
    spectrum_edge,
)
from epl_sysbio.errors import EplSysbioError  # noqa: E402

GAMMAS = (0.0, 0.2, 0.5)
BETAS = (1e2, 1e3, 1e4)
LANGEVIN_GAINS = (0.8, 1.2)
FIXED_POINT_ENERGY = 1e-12  # E/N below which a minimum of E counts as a fixed point




def phase_diagram(cfg: dict, progress: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gains = np.linspace(0.2, 2.0, cfg["phase_g"])
    gammas = np.linspace(0.0, 0.8, cfg["phase_gamma"])
    c = np.full((gammas.size, gains.size), np.nan)
    task = progress.add_task("mean-field phase diagram", total=c.size)
    for i, gamma in enumerate(gammas):
        for j, g in enumerate(gains):
            try:
                c[i, j] = mean_field(g, gamma).C
            except EplSysbioError:
                pass  # left NaN: outside what the mean-field solver handles
            progress.advance(task)
    return gains, gammas, c


def simulated_transitions(cfg: dict, rng: np.random.Generator, progress: Progress) -> list[dict]:
    n = cfg["n_transition"]
    rows = []
    task = progress.add_task(f"simulated transitions (N = {n})",
                             total=len(GAMMAS) * cfg["draws"])
    for gamma in GAMMAS:
        gc = 1.0 / (1.0 + gamma)
        gains = gc + np.linspace(-0.15, 0.10, cfg["scan_points"])
        for draw in range(cfg["draws"]):
            j0 = coupling_matrix(n, 1.0, gamma, rng)
            times, rms, _ = simulate_activity(j0, gains, rng.standard_normal(n),
                                              SimulationOptions(t_end=cfg["t_end"]))
            est = estimate_transition(gains, times, rms)
            rows.append(dict(gamma=gamma, draw=draw, g_sim=est.g,
                             g_edge=1.0 / (1.0 + spectrum_edge(j0)),
                             last_decayed=est.last_decayed,
                             first_persistent=est.first_persistent,
                             gains=gains, rates=est.rates, decayed=est.decayed))
            progress.advance(task)
    return rows


def order_parameters(cfg: dict, rng: np.random.Generator, progress: Progress) -> tuple[dict, list]:
    """Mean-field curves, and C, R at zero-temperature minima of E (fixed points)."""
    curves = {}
    for gamma in GAMMAS:
        gc = 1.0 / (1.0 + gamma)
        grid = np.linspace(0.3, 2.0, cfg["curve_points"])
        grid = np.unique(np.concatenate([grid, [gc]]))
        fact = [mean_field(g, gamma, "factorised") for g in grid]
        cav = []
        for g in grid:
            try:
                cav.append(mean_field(g, gamma, "cavity").C)
            except EplSysbioError:
                cav.append(np.nan)
        curves[gamma] = dict(g=grid, C=np.array([s.C for s in fact]),
                             R=np.array([s.R for s in fact]), C_cavity=np.array(cav))
    n = cfg["n_fixed_point"]
    points = []
    rel = cfg["fixed_point_gains"]
    task = progress.add_task(f"fixed points by E minimisation (N = {n})",
                             total=len(GAMMAS) * len(rel))
    for gamma in GAMMAS:
        for r in rel:
            g = r / (1.0 + gamma)
            j0 = coupling_matrix(n, 1.0, gamma, rng)
            # Start from the end of a run of the dynamics, then descend E: the
            # minimum found is a fixed point near the attractor (x = 0 below g_c).
            _, _, x = simulate_activity(j0, np.array([g]), rng.standard_normal(n),
                                        SimulationOptions(t_end=50.0))
            x_min, energy = minimise_speed_potential(g * j0, x[:, 0], gtol=1e-9,
                                                     max_iter=cfg["minimise_iter"])
            c_fp, r_fp = fixed_point_order_parameters(g * j0, x_min)
            points.append(dict(gamma=gamma, g=g, C=c_fp, R=r_fp, energy_per_neuron=energy / n))
            progress.advance(task)
    return curves, points


def langevin(cfg: dict, rng: np.random.Generator, progress: Progress) -> list[dict]:
    n = cfg["n_langevin"]
    rows = []
    runs = [(g, beta, cfg["step"]) for g in LANGEVIN_GAINS for beta in BETAS]
    runs.append((1.2, 1e3, cfg["step"] / 2))  # step-size check
    task = progress.add_task(f"Langevin sampling of exp(-beta E) (N = {n})", total=len(runs))
    starts = {}
    for g in LANGEVIN_GAINS:
        j0 = coupling_matrix(n, 1.0, 0.0, rng)
        _, _, x = simulate_activity(j0, np.array([g]), rng.standard_normal(n),
                                    SimulationOptions(t_end=50.0))
        x_min, _ = minimise_speed_potential(g * j0, x[:, 0], gtol=1e-9,
                                            max_iter=cfg["minimise_iter"])
        starts[g] = (g * j0, x_min)
    for g, beta, step in runs:
        coupling, x_min = starts[g]
        res = langevin_speed_potential(
            coupling, np.repeat(x_min[:, None], cfg["chains"], axis=1), beta, rng,
            LangevinOptions(step=step, n_burn=cfg["langevin_steps"],
                            n_samples=cfg["langevin_steps"]),
        )
        rows.append(dict(g=g, beta=beta, step=step, energy_per_neuron=res.energy_per_neuron,
                         sem=res.energy_per_neuron_sem,
                         ratio=res.energy_per_neuron * 2 * beta,
                         C=float(np.mean(np.tanh(res.x) ** 2))))
        progress.advance(task)
    return rows


def plot_phase_diagram(out: Path, gains, gammas, c, summary, n: int) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    mesh = ax.pcolormesh(gains, gammas, c, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=r"mean-field $C=\langle\tanh^2 x\rangle$")
    gam = np.linspace(0, 0.8, 100)
    ax.plot(1 / (1 + gam), gam, "w--", lw=2, label=r"theory $g(1+\gamma)=1$")
    ys = list(summary)
    xs = [summary[k]["mean"] for k in ys]
    errs = [summary[k]["sem"] for k in ys]
    ax.errorbar(xs, ys, xerr=errs, fmt="o", color="red", mec="k", capsize=3,
                label=f"simulation, N = {n} (decay vs persistent activity)")
    ax.set_xlabel("gain g")
    ax.set_ylabel(r"symmetry $\gamma$ = corr$(J_{ij}, J_{ji})$")
    ax.set_title(r"Edge of chaos of $\dot x = -x + J\tanh x$" "\n"
                 r"C = 0 left of the line (x = 0 stable), C > 0 right of it")
    ax.legend(loc="upper right", fontsize=8)
    save_figure(fig, out / "phase_diagram.png", dpi=110)


def plot_order_parameters(out: Path, curves, points) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    colours = dict(zip(GAMMAS, ["C0", "C1", "C2"]))
    for gamma, cur in curves.items():
        col = colours[gamma]
        axes[0].plot(cur["g"], cur["C"], color=col, label=rf"mean field, $\gamma$={gamma}")
        axes[0].plot(cur["g"], cur["C_cavity"], color=col, ls=":", lw=1)
        axes[1].plot(cur["g"], cur["R"], color=col, label=rf"mean field, $\gamma$={gamma}")
        axes[1].axvline(1 / (1 + gamma), color=col, lw=0.6, ls="--")
        # A minimum with E/N >= 1e-12 (L-BFGS stopped at its iteration cap) is a
        # slow point, not a fixed point: drawn hollow, and its R (near-singular
        # I - J D) is not drawn.
        pts = [p for p in points if p["gamma"] == gamma]
        good = [p for p in pts if p["energy_per_neuron"] < FIXED_POINT_ENERGY]
        slow = [p for p in pts if p["energy_per_neuron"] >= FIXED_POINT_ENERGY]
        axes[0].plot([p["g"] for p in good], [p["C"] for p in good], "o", color=col, mec="k",
                     label=rf"fixed points (E minimisation), $\gamma$={gamma}")
        axes[0].plot([p["g"] for p in slow], [p["C"] for p in slow], "o", mfc="none", mec=col)
        axes[1].plot([p["g"] for p in good], [p["R"] for p in good], "o", color=col, mec="k",
                     label=rf"fixed points, $\gamma$={gamma}")
    axes[0].plot([], [], "o", mfc="none", mec="k", label="slow points (E/N > 1e-12)")
    axes[0].set_xlabel("gain g")
    axes[0].set_ylabel(r"$C = \langle \tanh^2 x\rangle$")
    axes[0].set_title("order parameter (dotted: exact-cavity response form)")
    axes[1].set_xlabel("gain g")
    axes[1].set_ylabel(r"local response $R$")
    axes[1].set_title(r"response peaks at $1+\gamma$ at $g_c = 1/(1+\gamma)$ (dashed)")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    save_figure(fig, out / "order_parameters.png", dpi=110)


def plot_decay_rates(out: Path, rows, n: int) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.3))
    colours = dict(zip(GAMMAS, ["C0", "C1", "C2"]))
    for row in rows:
        col = colours[row["gamma"]]
        lbl = rf"$\gamma$={row['gamma']}" if row["draw"] == 0 else None
        ax.plot(row["gains"], row["rates"], "o-", color=col, ms=3, lw=0.8, label=lbl)
        ax.axvline(row["g_sim"], color=col, lw=0.5, alpha=0.5)
    for gamma in GAMMAS:
        ax.axvline(1 / (1 + gamma), color=colours[gamma], ls="--", lw=1.5)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("gain g")
    ax.set_ylabel(r"late growth rate of RMS activity, $d\,\log|x|/dt$")
    ax.set_title(f"direct simulation, N = {n}: rate < 0 decays to 0, = 0 persists\n"
                 "thin lines: fitted transition per draw; dashed: 1/(1+gamma)")
    ax.legend(fontsize=8)
    save_figure(fig, out / "decay_rates.png", dpi=110)


def plot_spectrum(out: Path, rng: np.random.Generator, n: int) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    g, gamma = 0.8, 0.5
    ev = np.linalg.eigvals(coupling_matrix(n, g, gamma, rng)) - 1.0
    ax.plot(ev.real, ev.imag, ".", ms=2, label=f"eigenvalues, N = {n}")
    th = np.linspace(0, 2 * np.pi, 300)
    ax.plot(-1 + g * (1 + gamma) * np.cos(th), g * (1 - gamma) * np.sin(th), "r-",
            label="elliptic law")
    ax.axvline(0, color="k", lw=0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    ax.set_title(rf"Jacobian $-I+J$ at x = 0, g = {g}, $\gamma$ = {gamma}" "\n"
                 rf"real edge g(1+$\gamma$)-1 = {g * (1 + gamma) - 1:.2f}")
    ax.legend(fontsize=8, loc="lower left")
    save_figure(fig, out / "spectrum.png", dpi=110)


def plot_langevin(out: Path, rows) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.3))
    base = [r for r in rows if r["step"] == max(x["step"] for x in rows)]
    for g, marker in zip(LANGEVIN_GAINS, ["o", "s"]):
        rs = [r for r in base if r["g"] == g]
        ax.errorbar([r["beta"] for r in rs], [r["ratio"] for r in rs],
                    yerr=[2 * r["beta"] * r["sem"] for r in rs], fmt=marker + "-",
                    capsize=3, label=f"g = {g}")
    ax.axhline(1.0, color="k", lw=1, label=r"equipartition $E/N = 1/(2\beta)$")
    ax.axhspan(0.9, 1.1, color="grey", alpha=0.2, label="within 10 %")
    ax.set_xscale("log")
    ax.set_ylim(0.8, 1.2)
    ax.set_xlabel(r"inverse temperature $\beta$")
    ax.set_ylabel(r"$2\beta\,\langle E\rangle/N$")
    ax.set_title(r"Langevin sampling of $\exp(-\beta E)$, $E = |F(x)|^2/2$, $\gamma = 0$")
    ax.legend(fontsize=8)
    save_figure(fig, out / "langevin.png", dpi=110)


FULL = dict(phase_g=37, phase_gamma=17, n_transition=1000, draws=4, scan_points=11,
            t_end=200.0, curve_points=69, n_fixed_point=500,
            fixed_point_gains=(0.8, 1.1, 1.25, 1.5, 1.8), minimise_iter=5000,
            n_langevin=500, chains=4, step=2e-3, langevin_steps=20000)
QUICK = dict(phase_g=10, phase_gamma=5, n_transition=300, draws=2, scan_points=6,
             t_end=120.0, curve_points=15, n_fixed_point=150, fixed_point_gains=(0.8, 1.5),
             minimise_iter=2000, n_langevin=150, chains=2, step=2e-3, langevin_steps=3000)


def main(argv: list[str] | None = None) -> dict:
    args, cfg, rng = start_run(__doc__.splitlines()[0], argv, FULL, QUICK)
    start = time.perf_counter()

    with Progress(transient=True) as progress:
        gains, gammas, c = phase_diagram(cfg, progress)
        trans = simulated_transitions(cfg, rng, progress)
        curves, points = order_parameters(cfg, rng, progress)
        lang = langevin(cfg, rng, progress)

    write_csv(args.out / "phase_diagram.csv", ["g", "gamma", "C_mean_field"],
              [[g, gam, c[i, j]] for i, gam in enumerate(gammas) for j, g in enumerate(gains)])
    write_csv(args.out / "transitions.csv",
              ["gamma", "draw", "g_simulation", "g_spectrum_edge", "last_decayed_g",
               "first_persistent_g"],
              [[r["gamma"], r["draw"], r["g_sim"], r["g_edge"], r["last_decayed"],
                r["first_persistent"]] for r in trans])
    write_csv(args.out / "order_parameters.csv",
              ["source", "gamma", "g", "C", "R", "C_cavity", "energy_per_neuron"],
              [["mean_field", gam, g, cc, rr, cv, ""] for gam, cur in curves.items()
               for g, cc, rr, cv in zip(cur["g"], cur["C"], cur["R"], cur["C_cavity"])]
              + [["fixed_point", p["gamma"], p["g"], p["C"], p["R"], "",
                  p["energy_per_neuron"]] for p in points])
    write_csv(args.out / "langevin.csv",
              ["g", "beta", "step", "energy_per_neuron", "sem", "2_beta_E_over_N", "C"],
              [[r["g"], r["beta"], r["step"], r["energy_per_neuron"], r["sem"], r["ratio"],
                r["C"]] for r in lang])

    summary = {}
    for gamma in GAMMAS:
        vals = np.array([r["g_sim"] for r in trans if r["gamma"] == gamma])
        summary[gamma] = dict(mean=float(vals.mean()),
                              sem=float(vals.std(ddof=1) / np.sqrt(vals.size)))
    plot_phase_diagram(args.out, gains, gammas, c, summary, cfg["n_transition"])
    plot_order_parameters(args.out, curves, points)
    plot_decay_rates(args.out, trans, cfg["n_transition"])
    plot_spectrum(args.out, rng, cfg["n_transition"])
    plot_langevin(args.out, lang)

    r_peak = {}
    for gamma, cur in curves.items():
        # gamma = 0: R = 1 on all of [0, g_c]; report the largest g at the peak.
        k = int(np.flatnonzero(cur["R"] >= cur["R"].max() - 1e-9)[-1])
        r_peak[str(gamma)] = dict(R=float(cur["R"][k]), g=float(cur["g"][k]),
                                  expected=1.0 + gamma)
    base_step = cfg["step"]
    headline = dict(
        seed=args.seed,
        quick=args.quick,
        transition_g={str(k): v["mean"] for k, v in summary.items()},
        transition_g_sem={str(k): v["sem"] for k, v in summary.items()},
        transition_g_theory={str(k): 1.0 / (1.0 + k) for k in GAMMAS},
        transition_N=cfg["n_transition"],
        transition_draws=cfg["draws"],
        C_g1_2_gamma0_cavity=mean_field(1.2, 0.0, "cavity").C,
        C_g0_8_gamma0_5_cavity=mean_field(0.8, 0.5, "cavity").C,
        R_peak=r_peak,
        energy_per_neuron={str(b): {str(r["g"]): r["energy_per_neuron"] for r in lang
                                    if r["beta"] == b and r["step"] == base_step}
                           for b in BETAS},
        energy_ratio_2betaE_over_N={str(b): {str(r["g"]): r["ratio"] for r in lang
                                             if r["beta"] == b and r["step"] == base_step}
                                    for b in BETAS},
        energy_ratio_half_step_g1_2_beta1e3=[r["ratio"] for r in lang
                                             if r["step"] != base_step][0],
        seconds=round(time.perf_counter() - start, 1),
    )
    headline = {"C_g1.2_gamma0": mean_field(1.2, 0.0).C,
                "C_g0.8_gamma0.5": mean_field(0.8, 0.5).C, **headline}
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
