"""Parameter scans by natural continuation: branches, folds, hysteresis.

A 1-D scan sweeps the parameter up, then down. Each point is solved by
:meth:`Engine.steady_state` warm-started from the previous point's state.
A *branch ends* between two consecutive points when the point could not be
solved, or when the state jumps: the relative change
``norm(x_k - x_{k-1}) / norm(x_{k-1})`` exceeds ``jump_rtol`` and is more than
``jump_ratio`` times the previous step's change (the solver fell off the end
of the branch and landed on another one). The end is then refined by
bisection on the parameter, each trial warm-started from the last state still
on the branch and counted on the branch when it moved less than half the jump:
that parameter is the *fold* (saddle-node), located to ``fold_rtol``.

Branches from both sweeps that coincide on shared grid points (relative
``1e-6``) are merged. Between two folds of opposite sweeps the up and down
sweeps disagree: that interval is the *hysteresis* window, reported between
the refined folds (or, if a fold could not be refined, the outermost grid
points where the sweeps disagree). Inside it,
``fill_unstable`` starts Newton halfway between the two stable branches, which
in a fold-type (S-shaped) bifurcation lands on the middle, unstable branch.

A 2-D scan runs the same warm start along the inner parameter, each row
starting from the first point of the row before (no fold refinement).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from epl_sysbio.errors import Interval, InvalidValueError, validate_fields
from epl_sysbio.simulate import Engine, Status

__all__ = ["Branch", "Fold", "Scan2DResult", "ScanOptions", "ScanResult", "scan_1d", "scan_2d", "parse_scan"]


@dataclass(frozen=True, kw_only=True)
class ScanOptions:
    """Settings of :func:`scan_1d` (module docstring)."""

    jump_rtol: float = 0.1
    jump_ratio: float = 5.0
    fold_rtol: float = 1e-7
    fill_unstable: bool = True

    def __post_init__(self) -> None:
        validate_fields(self, dict.fromkeys(("jump_rtol", "jump_ratio", "fold_rtol"),
                                            Interval((int, float), 0, None, closed="neither")))


@dataclass(frozen=True)
class Branch:
    """A curve of steady states: ``parameter[k]`` and ``values[k, :]`` (``ScanResult.outputs``),
    ``stable[k]``; ``ends`` says why it stopped at each side ("scan edge" or "fold at ...")."""

    parameter: np.ndarray
    values: np.ndarray
    stable: np.ndarray
    sweeps: tuple[str, ...]
    ends: tuple[str, str]

    @property
    def unstable(self) -> bool:
        return not bool(np.any(self.stable))


@dataclass(frozen=True)
class Fold:
    """Where a branch ends: the parameter value (to ``fold_rtol``), the state there, and the
    sweep that found it (``"up"``: the branch exists below it)."""

    parameter: float
    values: np.ndarray
    sweep: str


@dataclass(frozen=True)
class ScanResult:
    """All branches, folds and the hysteresis window of a 1-D scan.

    ``sweep_values[d]`` (d = "up"/"down") holds the raw sweep, shape
    (n_points, n_outputs), NaN where unsolved, on ``grid``.
    """

    parameter_id: str
    outputs: tuple[str, ...]
    grid: np.ndarray
    branches: tuple[Branch, ...]
    folds: tuple[Fold, ...]
    hysteresis: tuple[float, float] | None
    sweep_values: dict[str, np.ndarray] = field(default_factory=dict)
    sweep_stable: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_unstable_points(self) -> int:
        return int(sum(np.sum(~b.stable) for b in self.branches))

    def describe(self) -> str:
        """One line: branches, folds and the hysteresis window."""
        text = (f"{len(self.branches)} branches ({sum(not b.unstable for b in self.branches)} stable) over "
                f"{self.grid[0]:.6g}..{self.grid[-1]:.6g}")
        if self.folds:
            text += "; folds at " + ", ".join(f"{f.parameter:.6g}" for f in self.folds)
        if self.hysteresis:
            text += f"; hysteresis between {self.hysteresis[0]:.6g} and {self.hysteresis[1]:.6g}"
        return text

    def summary(self) -> dict:
        return {
            "parameter": self.parameter_id,
            "branches": len(self.branches),
            "stable_branches": sum(not b.unstable for b in self.branches),
            "folds": [f.parameter for f in self.folds],
            "hysteresis": list(self.hysteresis) if self.hysteresis else None,
            "unstable_points": self.n_unstable_points,
        }


def parse_scan(text: str) -> tuple[str, np.ndarray]:
    """``"id=lo:hi:n"`` -> (id, linspace(lo, hi, n)); the CLI's ``--scan``."""
    sid, sep, spec = text.partition("=")
    parts = spec.split(":")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        ok = bool(sep) and bool(sid.strip()) and len(parts) == 3 and n >= 2 and np.isfinite([lo, hi]).all() and lo != hi
    except (ValueError, IndexError):
        ok = False
    if not ok:
        raise InvalidValueError(f"--scan expects id=lo:hi:n with lo != hi and n >= 2 (e.g. k4=5:7:201). Got {text!r}.")
    return sid.strip(), np.linspace(lo, hi, n)


class _Sweeper:
    def __init__(self, engine: Engine, parameter: str, outputs: tuple[str, ...], opts: ScanOptions) -> None:
        self.engine, self.parameter, self.outputs, self.opts = engine, parameter, outputs, opts

    def solve(self, p: float, amounts: dict[str, float] | None):
        """Steady state at p from ``amounts`` (None: the current state); (state, outputs, stable) or None."""
        if amounts is not None:
            self.engine.set_amounts(amounts)
        result = self.engine.steady_state({self.parameter: p}, start="current")
        if not result.converged:
            return None
        state = self.engine.state().copy()
        return state, self.engine.get_values(self.outputs), result.status is Status.STABLE

    def snapshot(self) -> dict[str, float]:
        writable = set(self.engine.floating_ids) - set(self.engine.model.assignment_rule_variables)
        return {s: max(a, 0.0) for s, a in self.engine.amounts().items() if s in writable}

    def sweep(self, grid: np.ndarray, name: str):
        """One warm-started sweep; returns values, stable, segment boundaries, folds."""
        n = len(grid)
        values = np.full((n, len(self.outputs)), np.nan)
        stable = np.zeros(n, dtype=bool)
        segments: list[list[int]] = []
        folds: list[Fold] = []
        self.engine.reset()
        prev_state, prev_change, prev_snap = None, 0.0, None
        for k, p in enumerate(grid):
            solved = self.solve(float(p), None)
            if solved is None:
                prev_state = None
                self.engine.reset()
                continue
            state, out, is_stable = solved
            values[k], stable[k] = out, is_stable
            change = 0.0 if prev_state is None else _rel(state, prev_state)
            jumped = prev_state is not None and change > self.opts.jump_rtol and change > self.opts.jump_ratio * prev_change
            if prev_state is None or jumped:
                if jumped:
                    here = self.snapshot()
                    fold = self.refine(float(grid[k - 1]), float(p), prev_snap, prev_state, state, name)
                    if fold is not None:
                        folds.append(fold)
                    self.engine.set_values({self.parameter: float(p)})
                    self.engine.set_amounts(here)
                segments.append([k])
                prev_change = 0.0
            else:
                segments[-1].append(k)
                prev_change = change
            prev_state, prev_snap = state, self.snapshot()
        return values, stable, segments, folds

    def refine(self, lo: float, hi: float, snap: dict, x_lo: np.ndarray, x_hi: np.ndarray, name: str) -> Fold | None:
        """Bisection for the end of the branch through (lo, x_lo); None for rate-rule models."""
        if self.engine.rate_rule_ids:
            return None
        jump = _rel(x_hi, x_lo)
        while abs(hi - lo) > self.opts.fold_rtol * max(abs(lo), abs(hi), 1e-300):
            mid = 0.5 * (lo + hi)
            solved = self.solve(mid, snap)
            if solved is not None and _rel(solved[0], x_lo) < 0.5 * jump:
                lo, x_lo, snap = mid, solved[0], self.snapshot()
            else:
                hi = mid
        self.engine.set_amounts(snap)
        self.engine.steady_state({self.parameter: lo}, start="current")
        return Fold(lo, self.engine.get_values(self.outputs), name)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(float(np.linalg.norm(b)), 1e-300))


def scan_1d(
    engine: Engine,
    parameter: str,
    grid: Sequence[float],
    outputs: Sequence[str] | None = None,
    options: ScanOptions | None = None,
) -> ScanResult:
    """Up and down continuation sweeps of ``parameter`` over ``grid`` (module docstring).

    Parameters
    ----------
    engine : Engine
        The model; its start state (``reset()``) is where each sweep begins.
    parameter : str
        A parameter, boundary species or compartment id.
    grid : sequence of float
        Parameter values, in increasing order.
    outputs : sequence of str, optional
        Ids to record (default: concentrations ``[S]`` of all floating species).

    The parameter is restored to its value before the scan.
    """
    opts = options or ScanOptions()
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or len(grid) < 2 or np.any(np.diff(grid) <= 0):
        raise InvalidValueError(f"scan grid for {parameter!r} must be increasing with >= 2 points. Got {grid!r}.")
    outputs = tuple(outputs) if outputs is not None else tuple(f"[{s}]" for s in engine.floating_ids)
    engine.get_values([parameter, *outputs])  # unknown ids fail here, with the full message
    original = engine.get_value(parameter)
    sweeper = _Sweeper(engine, parameter, outputs, opts)
    raw: dict[str, tuple] = {}
    try:
        up = sweeper.sweep(grid, "up")
        down = sweeper.sweep(grid[::-1], "down")
        raw["up"] = up
        raw["down"] = tuple(x[::-1] for x in down[:2]) + (
            [[len(grid) - 1 - k for k in reversed(seg)] for seg in down[2]], down[3])
        branches = _merge([(name, seg, raw[name][0], raw[name][1]) for name in ("up", "down") for seg in raw[name][2]],
                          grid, raw["up"][3] + raw["down"][3])
        differ = np.array([_rel(a, b) > 1e-6 if np.all(np.isfinite(a)) and np.all(np.isfinite(b)) else False
                           for a, b in zip(raw["up"][0], raw["down"][0])])
        hysteresis = _hysteresis(grid, differ, raw["up"][3] + raw["down"][3])
        if opts.fill_unstable and hysteresis is not None:
            middle = _fill_unstable(sweeper, grid, raw, differ)
            if middle is not None:
                branches = branches + (middle,)
    finally:
        engine.set_values({parameter: original})
        engine.reset()
    folds = tuple(sorted(raw["up"][3] + raw["down"][3], key=lambda f: f.parameter))
    return ScanResult(parameter, outputs, grid, branches, folds, hysteresis,
                      {k: raw[k][0] for k in raw}, {k: raw[k][1] for k in raw})


def _hysteresis(grid: np.ndarray, differ: np.ndarray, folds: list[Fold]) -> tuple[float, float] | None:
    """The window where the sweeps disagree: between the folds that bound it (each within one grid
    step of the disagreeing points), else the outermost disagreeing grid points."""
    if not differ.any():
        return None
    k_lo, k_hi = int(np.flatnonzero(differ)[0]), int(np.flatnonzero(differ)[-1])
    lo, hi = float(grid[k_lo]), float(grid[k_hi])
    below = [f.parameter for f in folds if grid[max(k_lo - 1, 0)] <= f.parameter <= lo]
    above = [f.parameter for f in folds if hi <= f.parameter <= grid[min(k_hi + 1, len(grid) - 1)]]
    return (min(below) if below else lo, max(above) if above else hi)


def _merge(segments, grid, folds) -> tuple[Branch, ...]:
    """Branches from sweep segments; segments equal on shared grid points are one branch."""
    merged: list[dict] = []
    for name, seg, values, stable in segments:
        for b in merged:
            shared = sorted(set(seg) & set(b["points"]))
            if shared and all(_rel(values[k], b["points"][k][0]) <= 1e-6 for k in shared):
                b["sweeps"].add(name)
                for k in seg:
                    b["points"].setdefault(k, (values[k], stable[k]))
                break
        else:
            merged.append({"sweeps": {name}, "points": {k: (values[k], stable[k]) for k in seg}})
    out = []
    for b in merged:
        ks = sorted(b["points"])
        ends = []
        for edge, k in (("low", ks[0]), ("high", ks[-1])):
            if k in (0, len(grid) - 1):
                ends.append("scan edge")
                continue
            near = [f for f in folds if _rel(f.values, b["points"][k][0]) < 0.2]
            ends.append(f"fold at {near[0].parameter:.8g}" if near else "not solved beyond")
        out.append(Branch(grid[ks], np.array([b["points"][k][0] for k in ks]),
                          np.array([b["points"][k][1] for k in ks], dtype=bool), tuple(sorted(b["sweeps"])),
                          (ends[0], ends[1])))
    return tuple(out)


def _fill_unstable(sweeper: _Sweeper, grid, raw, differ) -> Branch | None:
    """Newton from halfway between the up and down states at each point of the hysteresis window."""
    engine = sweeper.engine
    ps, vals = [], []
    for k in np.flatnonzero(differ):
        engine.reset()
        a, b = raw["up"][0][k], raw["down"][0][k]
        mid_state = 0.5 * (a + b)
        if len(sweeper.outputs) != len(engine.floating_ids):
            break  # the start needs every species: only with the default outputs
        vols = engine.roadrunner.model.getCompartmentVolumes()
        amounts = {s: max(float(c), 0.0) * float(vols[engine.roadrunner.model.getCompartmentIndexForFloatingSpecies(i)])
                   for i, (s, c) in enumerate(zip(engine.floating_ids, mid_state))}
        engine.set_amounts(amounts)
        result = engine.steady_state({sweeper.parameter: float(grid[k])}, start="current")
        if result.status is Status.UNSTABLE:
            out = engine.get_values(sweeper.outputs)
            if _rel(out, a) > 1e-6 and _rel(out, b) > 1e-6:
                ps.append(float(grid[k]))
                vals.append(out)
    if not ps:
        return None
    return Branch(np.array(ps), np.array(vals), np.zeros(len(ps), dtype=bool), ("middle",),
                  ("fold", "fold"))


@dataclass(frozen=True)
class Scan2DResult:
    """``values[i, j, :]`` at (``grid1[i]``, ``grid2[j]``); NaN where unsolved; ``stable[i, j]``."""

    parameters: tuple[str, str]
    outputs: tuple[str, ...]
    grid1: np.ndarray
    grid2: np.ndarray
    values: np.ndarray
    stable: np.ndarray
    converged: np.ndarray


def scan_2d(
    engine: Engine,
    parameter1: str,
    grid1: Sequence[float],
    parameter2: str,
    grid2: Sequence[float],
    outputs: Sequence[str] | None = None,
) -> Scan2DResult:
    """Warm-started grid scan (rows along ``parameter2``; module docstring). Parameters are restored."""
    g1, g2 = np.asarray(grid1, dtype=float), np.asarray(grid2, dtype=float)
    outputs = tuple(outputs) if outputs is not None else tuple(f"[{s}]" for s in engine.floating_ids)
    engine.get_values([parameter1, parameter2, *outputs])
    original = {parameter1: engine.get_value(parameter1), parameter2: engine.get_value(parameter2)}
    values = np.full((len(g1), len(g2), len(outputs)), np.nan)
    stable = np.zeros((len(g1), len(g2)), dtype=bool)
    converged = np.zeros((len(g1), len(g2)), dtype=bool)
    sweeper = _Sweeper(engine, parameter2, outputs, ScanOptions())
    engine.reset()
    row_start = None
    try:
        for i, p1 in enumerate(g1):
            engine.set_values({parameter1: float(p1)})
            if row_start is not None:
                engine.set_amounts(row_start)
            for j, p2 in enumerate(g2):
                solved = sweeper.solve(float(p2), None)
                if solved is None:
                    engine.reset()
                    continue
                converged[i, j] = True
                values[i, j], stable[i, j] = solved[1], solved[2]
                if j == 0:
                    row_start = sweeper.snapshot()
    finally:
        engine.set_values(original)
        engine.reset()
    return Scan2DResult((parameter1, parameter2), outputs, g1, g2, values, stable, converged)
