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

    def summary(self) -> dict:
        return {
            "model": self.model,
            "status": self.status,
            "stable": self.stable,
            "kind": self.stability.kind if self.stability else None,
            "method": self.method,
            "n_steady_states": self.n_steady_states,
            "speed_potential": self.speed_potential,
            "mca_self_test": self.control.self_test_passed if self.control else None,
            "scans": [s.summary() for s in self.scans],
        }


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
        eig = report.stability.eigenvalues
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.axvline(0, color="k", lw=0.8)
        ax.scatter(eig.real, eig.imag, c=np.where(eig.real > 0, "tab:red", "tab:blue"), s=18)
        ax.set_xscale("symlog", linthresh=max(1e-6, float(np.abs(eig.real).min(initial=1.0)) or 1e-6))
        ax.set_xlabel("Re(lambda) (1/time)")
        ax.set_ylabel("Im(lambda)")
        ax.set_title(f"{report.model}: reduced Jacobian ({report.stability.kind})", fontsize=9)
        _save(fig, out / "eigenvalues.png")
        lines += ["![eigenvalues](eigenvalues.png)", ""]
    if report.control is not None:
        cs = report.control.concentration_scaled
        fig, ax = plt.subplots(figsize=(min(14, max(5, 0.12 * cs.shape[1] + 3)), min(10, max(4, 0.12 * cs.shape[0] + 2))))
        lim = float(np.nanmax(np.abs(cs))) if np.isfinite(cs).any() else 1.0
        im = ax.imshow(np.nan_to_num(cs), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        fig.colorbar(im, ax=ax, label="scaled concentration control coefficient")
        if cs.shape[0] <= 40:
            ax.set_yticks(range(cs.shape[0]), report.control.species, fontsize=6)
        if cs.shape[1] <= 40:
            ax.set_xticks(range(cs.shape[1]), report.control.reactions, fontsize=6, rotation=90)
        ax.set_xlabel("reaction")
        ax.set_ylabel("species")
        _save(fig, out / "control_coefficients.png")
        lines += ["![control coefficients](control_coefficients.png)", ""]
    for scan in report.scans:
        name = f"scan_{scan.parameter_id}.png"
        _plot_scan(plt, scan, out / name)
        lines += [f"## Scan of `{scan.parameter_id}`", "", f"{scan.summary()}", "", f"![scan]({name})", ""]
    lines += list(sections)
    return atomic_write_text(out / "report.md", "\n".join(lines), what="report")


def _plot_scan(plt, scan: ScanResult, path: Path) -> None:
    k = 0
    if len(scan.outputs) > 1:  # the output that varies most
        spread = [np.nanmax(b.values[:, j]) - np.nanmin(b.values[:, j]) if b.values.size else 0
                  for j in range(len(scan.outputs)) for b in scan.branches[:1]]
        k = int(np.nanargmax(spread)) if spread else 0
    fig, ax = plt.subplots(figsize=(6, 4))
    for b in scan.branches:
        style = "-" if not b.unstable else "--"
        color = "tab:blue" if not b.unstable else "tab:red"
        label = ("stable" if not b.unstable else "unstable") + f" ({'/'.join(b.sweeps)})"
        ax.plot(b.parameter, b.values[:, k], style, color=color, label=label, marker="." if b.unstable else None)
    for f in scan.folds:
        ax.plot(f.parameter, f.values[k], "ko", ms=5)
        ax.annotate(f"fold {f.parameter:.5g}", (f.parameter, f.values[k]), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xlabel(scan.parameter_id)
    ax.set_ylabel(scan.outputs[k])
    ax.legend(fontsize=7)
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)

