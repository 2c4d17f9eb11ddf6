"""One-call steady-state analysis of a model, and its Markdown + PNG report.

:func:`analyze_model` runs, in order: the engine's steady state (events are
removed with a note: COPASI's steady-state task ignores them too), the
speed-potential finder (from the start state, then from time courses to
t = 10, 100, 1000) as a fallback when the engine's chain fails and otherwise
as an independent check of the engine's answer, a Newton polish at 1e-5 of
the tolerances (control coefficients need the digits), the kind of fixed
point with a time-course confirmation when borderline, the control
coefficients, a multi-start search, and any 1-D scans asked for.
Each step that cannot apply says why in ``notes``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from epl_sysbio.analysis.mca import ControlCoefficients, control_coefficients
from epl_sysbio.analysis.multistart import MultiStartResult, find_steady_states
from epl_sysbio.analysis.scan import ScanResult, scan_1d
from epl_sysbio.analysis.speed_potential import SpeedPotentialResult, speed_potential_steady_state
from epl_sysbio.analysis.stability import StabilityReport, stability
from epl_sysbio.errors import EplSysbioError, FileAccessError, format_ids
from epl_sysbio.files import atomic_write_text, describe_os_error, save_figure
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine, SteadyStateResult

__all__ = ["AnalysisReport", "analyze_model", "write_report"]

#: Above this many species the multi-start search uses 2 starts and no speed potential, and the
#: speed potential runs only as a fallback (first two starts, 200 evaluations each).
LARGE_MODEL_SPECIES = 40


@dataclass(frozen=True)
class AnalysisReport:
    """Everything :func:`analyze_model` found. ``method`` is the engine's route or ``speed_potential``."""

    model: str
    status: str
    method: str
    steady_state: SteadyStateResult
    stability: StabilityReport | None
    control: ControlCoefficients | None
    multistart: MultiStartResult | None
    scans: tuple[ScanResult, ...]
    speed_potential: str
    notes: tuple[str, ...] = field(default=())

    @property
    def stable(self) -> bool:
        return self.stability is not None and self.stability.stable and self.steady_state.converged

    @property
    def n_steady_states(self) -> int:
        return len(self.multistart.states) if self.multistart else int(self.steady_state.converged)

    def leading_eigenvalues(self, n: int = 5) -> list[complex]:
        """The ``n`` eigenvalues of the reduced Jacobian with the largest real parts (1/time), largest first."""
        if self.stability is None or not self.stability.eigenvalues.size:
            return []
        eig = np.asarray(self.stability.eigenvalues, dtype=complex)
        return [complex(e) for e in eig[np.lexsort((-eig.imag, -eig.real))][:n]]

    def largest_control_coefficients(self, n: int = 5, *, scaled: bool = True) -> list[tuple[str, str, float]]:
        """The ``n`` concentration control coefficients of largest magnitude, as (species, reaction, value),
        largest first: scaled ``d ln[S] / d ln v_j`` or unscaled ``d[S] / dv_j`` (concentration per rate)."""
        if self.control is None:
            return []
        cs = self.control.concentration_scaled if scaled else self.control.concentration_unscaled
        flat = np.where(np.isfinite(cs), np.abs(cs), -1.0).ravel()
        order = np.array([k for k in np.argsort(-flat, kind="stable")[:n] if flat[k] > 0], dtype=np.intp)
        rows, cols = np.unravel_index(order, cs.shape)
        return [(self.control.species[i], self.control.reactions[j], float(cs[i, j])) for i, j in zip(rows, cols)]

    def summary(self) -> dict:
        """Headline figures as plain JSON-ready data (what ``epl-sysbio analyze --format json`` prints)."""
        return {
            "model": self.model,
            "status": self.status,
            "stable": self.stable,
            "kind": self.stability.kind if self.stability else None,
            "method": self.method,
            "leading_eigenvalues": [[e.real, e.imag] for e in self.leading_eigenvalues()],
            "largest_control_coefficients": [list(t) for t in self.largest_control_coefficients()],
            "n_steady_states": self.n_steady_states,
            "speed_potential": self.speed_potential,
            "mca_self_test": self.control.self_test_passed if self.control else None,
            "scans": [s.summary() for s in self.scans],
        }

    def text(self) -> str:
        """A readable account: status, kind, leading eigenvalues, largest control coefficients, scans."""
        lines = [f"model     {self.model}",
                 f"status    {self.status} (method: {self.method})",
                 f"kind      {self.stability.describe() if self.stability else '-'}"]
        if self.multistart is not None:
            lines.append(f"steady states found by {self.multistart.n_starts} starts (seed {self.multistart.seed}): "
                         f"{len(self.multistart.states)}, {self.multistart.n_stable} stable")
        eig = self.leading_eigenvalues()
        if eig:
            lines.append("leading eigenvalues of the reduced Jacobian (1/time):")
            lines += [f"  {_complex_text(e)}" for e in eig]
        top, what = self.largest_control_coefficients(), "scaled concentration control coefficients (d ln[S] / d ln v)"
        if self.control is not None and not top:  # no net flux (an equilibrium): every scaled one is 0
            top = self.largest_control_coefficients(scaled=False)
            what = "unscaled concentration control coefficients (d[S] / dv; the scaled ones are 0: no net flux)"
        if top:
            lines.append(f"largest {what}:")
            width = max(len(f"[{sp}] / {r}") for sp, r, _ in top)
            lines += [f"  {f'[{sp}] / {r}':<{width}}  {v:+.4g}" for sp, r, v in top]
            c = self.control
            lines.append(f"  summation / connectivity theorems: {c.summation_error:.1e} / {c.connectivity_error:.1e} "
                         f"({'passed' if c.self_test_passed else 'FAILED'}; elasticities {c.elasticity_method})")
        for scan in self.scans:
            lines.append(f"scan of {scan.parameter_id}: {scan.describe()}")
        return "\n".join(lines)


def analyze_model(
    model: Model,
    *,
    changes: Mapping[str, float] | None = None,
    scans: Sequence[tuple[str, Sequence[float]]] = (),
    n_starts: int = 8,
    seed: int = 0,
) -> tuple[AnalysisReport, Engine]:
    """Analyse ``model`` (after ``changes``, applied to its initial values); see the module docstring.

    Returns the report and the engine (left at the steady state, if any).
    """
    notes: list[str] = []
    if changes:
        model = model.copy()
        model.set_values(dict(changes))
    if model.event_ids:
        notes.append(f"events {format_ids(model.event_ids)} removed: this is the steady state of the event-free "
                     "ODE (what COPASI's steady-state task reports); the events themselves never settle")
    engine = Engine(model, ignore_events=bool(model.event_ids))
    notes.extend(engine.notes)
    result = engine.steady_state()
    method = result.method.value
    if not result.converged:
        notes.append(f"engine: {result.message}")
        fallback, speed = _speed_potential(engine)
        if fallback is not None:
            result = fallback.steady_state or engine.steady_state(start="current")
            method = "speed_potential"
            notes.append(f"steady state by minimising the speed potential (fallback): {speed}")
    elif len(engine.floating_ids) > LARGE_MODEL_SPECIES:
        speed = (f"not run: {len(engine.floating_ids)} species > {LARGE_MODEL_SPECIES} (used only as a fallback "
                 "here; 2-4 min on BIOMD0000000628 and it stalled from the starts tried)")
    else:
        speed = _speed_potential_check(engine, result)
    if result.converged:
        result = _polish(engine, result)
    stab = stability(engine, eigenvalues=result.eigenvalues) if result.converged else None
    control = None
    if result.converged:
        try:
            control = control_coefficients(engine)
        except EplSysbioError as exc:
            notes.append(f"control coefficients: {exc}")
        if control is not None and control.elasticity_method != "exact":
            notes.append(f"elasticities by {control.elasticity_method}")
    big = len(engine.floating_ids) > LARGE_MODEL_SPECIES
    here = _snapshot(engine)
    multi = find_steady_states(engine, n_starts=2 if big else n_starts, seed=seed, use_speed_potential=not big)
    if big:
        notes.append(f"{len(engine.floating_ids)} species: multi-start limited to 2 starts, engine only")
    if len(multi.states) > 1:
        notes.append(f"{len(multi.states)} distinct steady states ({multi.n_stable} stable): the answer depends on "
                     "the start; other tools may report another one")
    scan_results = []
    for pid, grid in scans:
        scan_results.append(scan_1d(engine, pid, grid))
    if result.converged:
        _restore(engine, here)
    else:
        engine.reset()
    status = result.status.value
    if stab is not None and not stab.stable:
        notes.append(f"{stab.kind}: not a rest state to trust" + (" (the model oscillates)" if stab.oscillates else ""))
    return AnalysisReport(model.id, status, method, result, stab, control, multi, tuple(scan_results), speed,
                          tuple(notes)), engine


def _complex_text(e: complex) -> str:
    return f"{e.real:+.6g}" if e.imag == 0 else f"{e.real:+.6g} {'+' if e.imag > 0 else '-'} {abs(e.imag):.6g}i"


def _snapshot(engine: Engine) -> dict[str, float]:
    """Writable state by id: species amounts (rounding negatives to 0) and rate-rule variables."""
    ruled = set(engine.model.assignment_rule_variables)
    state = {s: max(a, 0.0) for s, a in engine.amounts().items() if s not in ruled}
    state.update({v: engine.get_value(v) for v in engine.rate_rule_ids})
    return state


def _restore(engine: Engine, state: dict[str, float]) -> None:
    engine.reset()
    if state:
        engine.set_values(state)


def _speed_potential(engine: Engine) -> tuple[SpeedPotentialResult | None, str]:
    """The speed-potential finder from the start state, then from the ends of time courses to
    t = 10, 100, 1000 (E has local minima with E > 0; a short relaxation leaves them behind);
    time-dependent models only from t = the engine's last presimulation time. Models with more
    than LARGE_MODEL_SPECIES species: the first two starts only, 200 evaluations each.
    Returns the first success (engine left there) and a one-line account."""
    tried = []
    # Rates that read `time` (a stimulus) are judged at the clock's value: start late, as the engine does.
    times = (engine.options.presimulation_times[-1],) if engine.time_dependent else (None, 10.0, 100.0, 1000.0)
    big = len(engine.floating_ids) > LARGE_MODEL_SPECIES
    for presimulate in times[:2] if big else times:
        engine.reset()
        if presimulate:
            try:
                engine.time_course(presimulate, 2)
            except RuntimeError as exc:
                tried.append(f"t = {presimulate:g}: integrator failed ({str(exc).strip()[:60]})")
                continue
        found = speed_potential_steady_state(engine, max_evaluations=200 if big else 1000)
        where = "the start state" if presimulate is None else f"a time course to t = {presimulate:g}"
        if found.success:
            return found, f"found from {where} ({found.evaluations} evaluations)"
        tried.append(f"{where}: {found.message[:100]}")
        if not found.concentrations:  # refused (rate rules): no point in retrying
            break
    engine.reset()
    return None, "failed: " + "; ".join(tried)


def _speed_potential_check(engine: Engine, result: SteadyStateResult) -> str:
    """Run the finder independently of the engine's answer and say whether they agree."""
    here = _snapshot(engine)
    found, account = _speed_potential(engine)
    if found is not None and result.converged:
        floor = 1e-12 * max((abs(v) for v in found.concentrations.values()), default=0.0)
        diffs = [abs(v - result.values[s]) / max(abs(v), abs(result.values[s]), floor, 1e-300)
                 for s, v in found.concentrations.items()]
        account += f"; max rel diff to the engine's state {max(diffs, default=0.0):.1e} (floor 1e-12 x max)"
    _restore(engine, here)
    return account


def _polish(engine: Engine, result: SteadyStateResult) -> SteadyStateResult:
    """Newton at 1e-5 of the tolerances from the solution; kept only if it stays within 1e-6."""
    tight = dataclasses.replace(engine.options, atol=engine.options.atol * 1e-5, rtol=engine.options.rtol * 1e-5)
    here = _snapshot(engine)
    x0 = engine.state().copy()
    polished = engine.steady_state(start="current", options=tight)
    if polished.converged and np.linalg.norm(engine.state() - x0) <= 1e-6 * max(float(np.linalg.norm(x0)), 1e-300):
        return polished
    _restore(engine, here)
    return result


def write_report(report: AnalysisReport, out: Path, *, extra_rows: Sequence[str] = (),
                 sections: Sequence[str] = ()) -> Path:
    """Write ``report.md`` and PNGs (eigenvalues, control-coefficient heat map, scans) into ``out``;
    ``sections`` are Markdown lines appended at the end (e.g. continuation diagrams)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(f"Cannot create the report directory {str(out)!r}: {describe_os_error(exc)}. "
                              "Choose another --report.") from None
    lines = [f"# Steady-state analysis of `{report.model}`", "", "| | |", "|---|---|"]
    s = report.steady_state
    lines += [
        f"| status | {report.status} |",
        f"| method | {report.method} |",
        f"| kind | {report.stability.describe() if report.stability else '-'} |",
        f"| residual | {s.residual:.3g} |",
        f"| distinct steady states (multi-start) | {report.n_steady_states} |",
        f"| speed-potential finder (independent of Newton/CVODE) | {report.speed_potential} |",
    ]
    if report.control is not None:
        lines.append(f"| MCA summation / connectivity error | {report.control.summation_error:.2g} / "
                     f"{report.control.connectivity_error:.2g} |")
    lines += list(extra_rows)
    lines += ["", "## Notes", ""] + [f"- {n}" for n in report.notes] + [""]
    if report.stability is not None and report.stability.eigenvalues.size:
        _plot_eigenvalues(plt, report, out / "eigenvalues.png")
        lines += ["![eigenvalues](eigenvalues.png)", ""]
    if report.control is not None:
        _plot_control(plt, report.control, out / "control_coefficients.png")
        lines += ["![control coefficients](control_coefficients.png)", ""]
    for scan in report.scans:
        name = f"scan_{scan.parameter_id}.png"
        _plot_scan(plt, scan, out / name)
        summary = scan.summary()
        lines += [f"## Scan of `{scan.parameter_id}`", "", "| | |", "|---|---|",
                  f"| grid | {scan.grid[0]:.6g} to {scan.grid[-1]:.6g}, {len(scan.grid)} points |",
                  f"| branches | {summary['branches']} ({summary['stable_branches']} stable) |",
                  f"| folds | {', '.join(f'{p:.6g}' for p in summary['folds']) or 'none'} |",
                  "| hysteresis | " + (f"{scan.hysteresis[0]:.6g} to {scan.hysteresis[1]:.6g}" if scan.hysteresis
                                      else "none") + " |",
                  f"| unstable points | {summary['unstable_points']} |", "", f"![scan]({name})", ""]
    lines += list(sections)
    return atomic_write_text(out / "report.md", "\n".join(lines), what="report")


def _plot_eigenvalues(plt, report: AnalysisReport, path: Path) -> None:
    """The reduced Jacobian's spectrum: Re on a symmetric log axis when it spans decades (labelled
    decades, limits on whole decades so there are always several ticks), else a linear axis."""
    from matplotlib.ticker import MaxNLocator

    eig = np.asarray(report.stability.eigenvalues, dtype=complex)
    re = eig.real
    mag = np.abs(re[re != 0])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.axvline(0, color="k", lw=0.8)
    ax.axhline(0, color="grey", lw=0.5)
    stable = re < 0
    ax.scatter(re[stable], eig.imag[stable], c="tab:blue", s=24, label="Re < 0 (decaying)", zorder=3)
    if (~stable).any():
        ax.scatter(re[~stable], eig.imag[~stable], c="tab:red", s=30, marker="D", label="Re >= 0 (growing)", zorder=3)
    if mag.size and mag.max() / mag.min() >= 100:
        lo, hi = np.floor(np.log10(mag.min())), np.ceil(np.log10(mag.max()))
        ax.set_xscale("symlog", linthresh=10 ** lo, linscale=0.5)
        edge = 10 ** hi
        ax.set_xlim(-edge if (re < 0).any() else -10 ** lo, edge if (re > 0).any() else 10 ** lo)
        ax.set_xlabel("Re(lambda) (1/time, symmetric log scale)")
    else:
        edge = 1.25 * float(np.abs(re).max(initial=0.0)) or 1.0
        ax.set_xlim(-edge, edge if (re > 0).any() else 0.25 * edge)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.set_xlabel("Re(lambda) (1/time)")
    if len(eig) <= 8:  # few enough to label each one (alternately above and below: neighbours crowd)
        for i, e in enumerate(eig[np.argsort(eig.real)]):
            text = f"{e.real:.3g}" + (f" {'+' if e.imag > 0 else '-'} {abs(e.imag):.3g}i" if e.imag else "")
            ax.annotate(text, (e.real, e.imag), fontsize=7, xytext=(3, 6 if i % 2 == 0 else -11),
                        textcoords="offset points")
    ax.set_ylabel("Im(lambda) (1/time)")
    ax.set_title(f"{report.model}: {len(eig)} eigenvalue{'s' if len(eig) != 1 else ''} of the reduced Jacobian "
                 f"({report.stability.kind})", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    _save(fig, path)


def _plot_control(plt, control: ControlCoefficients, path: Path) -> None:
    """Heat map of the scaled concentration control coefficients, each cell labelled when they fit."""
    cs = control.concentration_scaled
    n_s, n_r = cs.shape
    fig, ax = plt.subplots(figsize=(min(14, max(5, 0.55 * n_r + 3)), min(10, max(3.5, 0.4 * n_s + 2))))
    finite = np.isfinite(cs)
    lim = float(np.abs(cs[finite]).max(initial=0.0)) or 1.0
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#bdbdbd")
    im = ax.imshow(np.ma.masked_invalid(cs), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto")
    fig.colorbar(im, ax=ax, label="d ln[S] / d ln v  (grey: undefined, [S] = 0)")
    if n_s * n_r <= 400 and n_r <= 25:
        for i in range(n_s):
            for j in range(n_r):
                if finite[i, j]:
                    v = cs[i, j]
                    ax.text(j, i, "0" if v == 0 else f"{v:.2g}", ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > 0.6 * lim else "black")
    if n_s <= 40:
        ax.set_yticks(range(n_s), control.species, fontsize=7)
    if n_r <= 40:
        ax.set_xticks(range(n_r), control.reactions, fontsize=7, rotation=90)
    ax.set_xlabel("reaction")
    ax.set_ylabel("species")
    ax.set_title("scaled concentration control coefficients", fontsize=9)
    _save(fig, path)


def _plot_scan(plt, scan: ScanResult, path: Path) -> None:
    """Branches against the scanned parameter: stable solid, unstable dashed, each drawn up to the
    fold where it ends, folds as black dots; one legend entry per style."""
    k = 0
    if len(scan.outputs) > 1:  # the output that varies most
        spread = [np.nanmax(b.values[:, j]) - np.nanmin(b.values[:, j]) if b.values.size else 0
                  for j in range(len(scan.outputs)) for b in scan.branches[:1]]
        k = int(np.nanargmax(spread)) if spread else 0
    fig, ax = plt.subplots(figsize=(6, 4))
    labelled = set()
    for b in scan.branches:
        p, y = list(b.parameter), list(b.values[:, k])
        ends = [_fold_for(scan, p[0], low=True) if b.ends[0].startswith("fold") else None,
                _fold_for(scan, p[-1], low=False) if b.ends[1].startswith("fold") else None]
        if ends[0] is not None:
            p, y = [ends[0].parameter] + p, [float(ends[0].values[k])] + y
        if ends[1] is not None:
            p, y = p + [ends[1].parameter], y + [float(ends[1].values[k])]
        label = "unstable" if b.unstable else "stable"
        ax.plot(p, y, "--" if b.unstable else "-", color="tab:red" if b.unstable else "tab:blue", lw=1.6,
                label=None if label in labelled else f"{label} branch")
        labelled.add(label)
    for f in scan.folds:
        ax.plot(f.parameter, f.values[k], "ko", ms=5, label=None if "fold" in labelled else "fold", zorder=4)
        labelled.add("fold")
        ax.annotate(f"{f.parameter:.5g}", (f.parameter, f.values[k]), fontsize=7, xytext=(5, -10),
                    textcoords="offset points")
    if scan.hysteresis:
        ax.axvspan(*scan.hysteresis, color="grey", alpha=0.12, label="hysteresis (bistable)")
    ax.set_xlabel(scan.parameter_id)
    ax.set_ylabel(scan.outputs[k])
    ax.set_title(f"scan of {scan.parameter_id}: {scan.describe().split(';')[0]}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    _save(fig, path)


def _fold_for(scan: ScanResult, p_end: float, *, low: bool):
    """The fold beyond a branch's end point (below it if ``low``), within one grid step; None if none."""
    step = float(np.max(np.diff(scan.grid))) if len(scan.grid) > 1 else 0.0
    best = None
    for f in scan.folds:
        beyond = p_end - step <= f.parameter <= p_end if low else p_end <= f.parameter <= p_end + step
        if beyond and (best is None or abs(f.parameter - p_end) < abs(best.parameter - p_end)):
            best = f
    return best


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)

