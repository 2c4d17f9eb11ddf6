"""One- and two-parameter bifurcation diagrams of steady states.

:func:`continue_equilibria` follows the steady state of an :class:`Engine`
in one parameter by pseudo-arclength continuation
(:mod:`epl_sysbio.analysis.continuation`), in both directions from the start,
through folds, until the branch leaves the parameter window (the end is put
exactly on the bound), a concentration turns negative, the curve closes or
``max_points`` is reached. Along it:

* stability from the eigenvalues of the reduced Jacobian at every point;
* **folds (LP)**: the parameter component of the tangent changes sign; the
  fold is then solved from the minimally augmented system
  (:class:`~epl_sysbio.analysis.bifurcation.FoldSystem`) by Newton, with its
  quadratic coefficient ``a``;
* **Hopf points (H)**: the sign of the bialternate-product test function
  ``prod_(i<j) (lambda_i + lambda_j)`` changes (it vanishes when a complex
  pair crosses the imaginary axis, and also at neutral saddles
  ``lambda_1 = -lambda_2`` real, which are discarded); the point is solved from
  :class:`~epl_sysbio.analysis.bifurcation.HopfSystem` by Newton, with its
  frequency and first Lyapunov coefficient ``l1`` (``< 0``: supercritical);
* **branch points (BP)**: ``det [R_u; t^T]`` changes sign (no branch switching).

:func:`continue_two_parameters` runs the one-parameter diagram, then
continues every fold and Hopf point it found in both parameters (fold and Hopf
curves, each minimally augmented), detecting cusps (CP), Bogdanov-Takens (BT)
and generalised Hopf (GH) points on them, located along the curve by regula
falsi on their test functions (:mod:`epl_sysbio.analysis.bifurcation`). A
start point already lying on a computed curve of the same kind is skipped.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from epl_sysbio.analysis.bifurcation import (
    FoldSystem,
    HopfSystem,
    first_lyapunov_coefficient,
    fold_coefficient,
    fold_start,
    hopf_start,
    newton_square,
)
from epl_sysbio.analysis.continuation import (
    ContinuationOptions,
    CurvePoint,
    CurveProblem,
    CurveTracer,
    EquilibriumCurve,
    EquilibriumSystem,
    check_parameters,
)
from epl_sysbio.errors import InvalidValueError, SteadyStateError
from epl_sysbio.simulate import Engine, Status
from epl_sysbio.simulate.stability import classify_eigenvalues

__all__ = [
    "BifurcationCurve",
    "ContinuationResult",
    "SpecialPoint",
    "TwoParameterResult",
    "continue_equilibria",
    "continue_two_parameters",
    "parse_continuation",
    "parse_continuation2",
]

KINDS = {
    "LP": "fold (limit point)", "H": "Hopf", "BP": "branch point", "EP": "end point",
    "CP": "cusp", "BT": "Bogdanov-Takens", "GH": "generalised Hopf (Bautin)",
}


@dataclass(frozen=True)
class SpecialPoint:
    """A labelled point of a diagram.

    ``kind`` is one of :data:`KINDS`; ``parameters`` maps the parameter ids to
    their values there; ``concentrations`` is in ``species`` order of the
    result; ``index`` its row in the branch (or curve) arrays. ``coefficient``
    is the fold's ``a`` or the Hopf point's ``l1`` (concentration coordinates,
    :mod:`epl_sysbio.analysis.bifurcation`), ``frequency`` the Hopf ``omega``
    (rad per model time unit).
    """

    kind: str
    parameters: dict[str, float]
    concentrations: np.ndarray
    index: int
    eigenvalues: np.ndarray | None = None
    coefficient: float | None = None
    frequency: float | None = None
    note: str = ""

    @property
    def criticality(self) -> str | None:
        """``"supercritical"``/``"subcritical"`` for a Hopf point (sign of l1)."""
        if self.kind != "H" or self.coefficient is None:
            return None
        return "supercritical" if self.coefficient < 0 else "subcritical"

    def to_dict(self) -> dict:
        out: dict = {"type": self.kind, **{k: float(v) for k, v in self.parameters.items()}}
        if self.coefficient is not None:
            out["l1" if self.kind == "H" else "a"] = self.coefficient
        if self.frequency is not None:
            out["omega"] = self.frequency
        if self.criticality:
            out["criticality"] = self.criticality
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class ContinuationResult:
    """A one-parameter branch, rows ordered along the curve (special points included as rows).

    ``ends[0]``/``ends[1]`` say why the branch stopped at its first/last row.
    """

    parameter: str
    species: tuple[str, ...]
    parameter_values: np.ndarray
    concentrations: np.ndarray
    stable: np.ndarray
    max_real: np.ndarray
    special_points: tuple[SpecialPoint, ...]
    ends: tuple[str, str]
    seconds: float
    elasticity_method: str

    @property
    def n_points(self) -> int:
        return len(self.parameter_values)

    def points(self, kind: str) -> list[SpecialPoint]:
        return [p for p in self.special_points if p.kind == kind]

    def summary(self) -> dict:
        return {
            "parameter": self.parameter,
            "points": self.n_points,
            "seconds": round(self.seconds, 4),
            "special_points": [p.to_dict() for p in self.special_points if p.kind != "EP"],
            "ends": list(self.ends),
        }


@dataclass(frozen=True)
class BifurcationCurve:
    """A fold (``kind="fold"``) or Hopf (``"hopf"``) curve in two parameters: ``values[:, 0/1]``,
    ``concentrations``, and for Hopf curves ``frequency``; codim-2 points on it."""

    kind: str
    parameters: tuple[str, str]
    values: np.ndarray
    concentrations: np.ndarray
    frequency: np.ndarray | None
    special_points: tuple[SpecialPoint, ...]
    ends: tuple[str, str]
    start: str

    def summary(self) -> dict:
        return {"type": self.kind, "points": len(self.values), "from": self.start,
                "special_points": [p.to_dict() for p in self.special_points], "ends": list(self.ends)}


@dataclass(frozen=True)
class TwoParameterResult:
    """The one-parameter ``branch`` in ``parameters[0]`` and the curves continued from its points."""

    parameters: tuple[str, str]
    bounds: tuple[tuple[float, float], tuple[float, float]]
    branch: ContinuationResult
    curves: tuple[BifurcationCurve, ...]
    seconds: float

    @property
    def special_points(self) -> list[SpecialPoint]:
        """Codim-2 points of all curves, each once (a BT point ends a Hopf curve and lies on a
        fold curve: the same point within 1e-6 of the windows is listed once)."""
        widths = np.array([hi - lo for lo, hi in self.bounds])
        unique: list[SpecialPoint] = []
        for point in (p for c in self.curves for p in c.special_points):
            here = np.array([point.parameters[n] for n in self.parameters])
            if not any(q.kind == point.kind and np.all(np.abs(here - [q.parameters[n] for n in self.parameters])
                                                       <= 1e-6 * widths) for q in unique):
                unique.append(point)
        return unique

    def summary(self) -> dict:
        return {"parameters": list(self.parameters), "seconds": round(self.seconds, 4),
                "curves": [c.summary() for c in self.curves],
                "special_points": [p.to_dict() for p in self.special_points]}


# ---------------------------------------------------------------------- parsing
def _range(text: str, what: str, example: str) -> tuple[float, float]:
    parts = text.split(":")
    try:
        lo, hi = float(parts[0]), float(parts[1])
        ok = len(parts) == 2 and math.isfinite(lo) and math.isfinite(hi) and lo < hi
    except (ValueError, IndexError):
        ok = False
    if not ok:
        raise InvalidValueError(f"{what} expects lo:hi with finite lo < hi (e.g. {example}). Got {text!r}.")
    return lo, hi


def parse_continuation(text: str) -> tuple[str, tuple[float, float]]:
    """``"p=lo:hi"`` -> (p, (lo, hi)); the CLI's ``--continue``."""
    pid, sep, spec = text.partition("=")
    if not sep or not pid.strip():
        raise InvalidValueError(f"--continue expects id=lo:hi (e.g. k4=5:7). Got {text!r}.")
    return pid.strip(), _range(spec, "--continue", "k4=5:7")


def parse_continuation2(text: str) -> tuple[tuple[str, str], tuple[tuple[float, float], tuple[float, float]]]:
    """``"p,q=plo:phi,qlo:qhi"`` -> ((p, q), ((plo, phi), (qlo, qhi))); the CLI's ``--continue2``."""
    ids, sep, spec = text.partition("=")
    names = [s.strip() for s in ids.split(",")]
    ranges = spec.split(",")
    if not sep or len(names) != 2 or not all(names) or len(ranges) != 2 or names[0] == names[1]:
        raise InvalidValueError(f"--continue2 expects p,q=plo:phi,qlo:qhi with two different ids "
                                f"(e.g. k4,k3=5:9,10:13). Got {text!r}.")
    example = "k4,k3=5:9,10:13"
    return (names[0], names[1]), (_range(ranges[0], "--continue2", example), _range(ranges[1], "--continue2", example))


# ---------------------------------------------------------------------- helpers
def _hopf_sign(eig: np.ndarray) -> float:
    """Sign of the bialternate-product test function prod_(i<j) (lambda_i + lambda_j).

    The sums come in conjugate pairs (positive products) except the real ones: sums of two
    real eigenvalues and 2 Re(lambda) of each complex pair; the sign counts the negative ones."""
    tol = 1e-12 * max(1.0, float(np.abs(eig).max(initial=0.0)))
    real = np.sort(eig.real[np.abs(eig.imag) <= tol])
    pairs = eig[eig.imag > tol]
    # pairs i < j of real eigenvalues with r_i + r_j < 0 (each unordered pair counted once)
    below = int(np.searchsorted(real, -real, side="left").sum()) - int(np.sum(real < 0))
    negative = below // 2 + int(np.sum(pairs.real < 0))
    return -1.0 if negative % 2 else 1.0


def _nearest_pair_real(eig: np.ndarray) -> float | None:
    tol = 1e-9 * max(1.0, float(np.abs(eig).max(initial=0.0)))
    pairs = eig[eig.imag > tol]
    return float(pairs[np.argmin(np.abs(pairs.real))].real) if len(pairs) else None


def _det_sign(point: CurvePoint) -> tuple[float, float]:
    sign, logdet = np.linalg.slogdet(np.vstack([point.jac, point.tangent]))
    return float(sign), float(logdet)


class _Follower(ABC):
    """Both directions of one curve from a start point: rows ``(point, label)`` in order along the
    curve and why each end stopped (module docstring). Subclasses say where the parameter window
    is, which special points lie between two points and whether one of them ends the curve."""

    def __init__(self, system: EquilibriumSystem, problem: CurveProblem, options: ContinuationOptions) -> None:
        self.system, self.problem, self.opts = system, problem, options
        self.tracer = CurveTracer(problem, options)

    @abstractmethod
    def inside(self, point: CurvePoint) -> float:
        """Signed distance of the point's parameters inside the window (negative outside)."""

    @abstractmethod
    def events(self, a: CurvePoint, b: CurvePoint) -> list[tuple[CurvePoint, str]]:
        """Special points strictly between consecutive points ``a`` and ``b``, in order."""

    def final(self, events: list[tuple[CurvePoint, str]]) -> str | None:
        return None

    def lowest(self, point: CurvePoint) -> float:
        """The smallest concentration relative to its scale (zero where the branch leaves c >= 0)."""
        return float(np.min(self.system.concentrations(point.u[:self.system.n]) / self.system.scale))

    def both_ways(self, u0: np.ndarray, direction: np.ndarray) -> tuple[list, tuple[str, str]]:
        halves = []
        closed = False
        for sign in (1.0, -1.0):
            if closed:
                halves.append(([], "closed curve"))
                continue
            rows, end, closed = self._follow(self.tracer.start(u0, sign * direction))
            halves.append((rows, end))
        (fwd, end_fwd), (bwd, end_bwd) = halves
        return (list(reversed(bwd[1:])) + fwd if bwd else fwd), (end_bwd, end_fwd)

    def _follow(self, first: CurvePoint):
        rows: list[tuple[CurvePoint, str | None]] = [(first, None)]
        prev = first
        for point in self.tracer.run(first):
            outside = self.inside(point) < 0
            if outside or (not self.opts.allow_negative and self.lowest(point) < -1e-9):
                psi = self.inside if outside else self.lowest
                end_point = self.tracer.locate(prev, point, psi, psi(prev), psi(point))
                if end_point is not None:
                    rows.extend(self.events(prev, end_point))
                    rows.append((end_point, "EP"))
                return rows, ("parameter bound" if outside else "a concentration reached zero"), False
            events = self.events(prev, point)
            rows.extend(events)
            stop = self.final(events)
            if stop:
                return rows, stop, False
            rows.append((point, None))
            # back at the start (closer to it than to the previous point): an isola, closed
            if point.s > 4 * self.opts.max_step and \
                    np.linalg.norm(point.u - first.u) < np.linalg.norm(point.u - prev.u):
                rows.append((first, None))
                return rows, "closed curve", True
            prev = point
        return rows, self.tracer.message, False


class _OneParameter(_Follower):
    """The branch in parameter ``k`` (the others fixed at ``pi0``); ``u = (y, pi_k)``."""

    def __init__(self, system: EquilibriumSystem, k: int, names: Sequence[str], bounds: tuple[float, float],
                 pi0: np.ndarray, options: ContinuationOptions) -> None:
        self.k, self.names, self.pi0 = k, tuple(names), np.asarray(pi0, dtype=float).copy()
        self.lo, self.hi = ((b - system.p_ref[k]) / system.p_scale[k] for b in bounds)
        super().__init__(system, EquilibriumCurve(system, k, self.pi0), options)

    def pi_of(self, u: np.ndarray) -> np.ndarray:
        pi = self.pi0.copy()
        pi[self.k] = u[-1]
        return pi

    @staticmethod
    def eig(point: CurvePoint) -> np.ndarray:
        if "eig" not in point.data:
            point.data["eig"] = np.linalg.eigvals(point.jac[:, :-1])
        return point.data["eig"]

    def inside(self, point: CurvePoint) -> float:
        return min(point.u[-1] - self.lo, self.hi - point.u[-1])

    def run(self, y0: np.ndarray) -> ContinuationResult:
        t0 = time.perf_counter()
        u0 = np.append(y0, self.pi0[self.k])
        direction = np.zeros(len(u0))
        direction[-1] = 1.0  # forward: the parameter increases
        rows, ends = self.both_ways(u0, direction)
        return self._result(rows, ends, time.perf_counter() - t0)

    def events(self, a: CurvePoint, b: CurvePoint):
        """Folds, branch points and Hopf points between consecutive points, ordered along the curve."""
        found = []
        if a.tangent[-1] * b.tangent[-1] < 0:
            found.extend(self._fold(a, b))
        (sa, la), (sb, lb) = _det_sign(a), _det_sign(b)
        if sa * sb < 0:
            def psi(p: CurvePoint) -> float:
                sign, logdet = _det_sign(p)
                return sign * math.exp(min(logdet - la, 700.0))

            bp = self.tracer.locate(a, b, psi, sa, sb * math.exp(min(lb - la, 700.0)))
            if bp is not None:
                found.append((bp, "BP"))
        if _hopf_sign(self.eig(a)) * _hopf_sign(self.eig(b)) < 0:
            found.extend(self._hopf(a, b))
        found.sort(key=lambda item: float(a.tangent @ (item[0].u - a.u)))
        return found

    def _located(self, u: np.ndarray, a: CurvePoint, data: dict | None = None) -> CurvePoint:
        _, jac = self.problem.evaluate(u)
        return CurvePoint(u, CurveTracer.tangent(jac, a.tangent), jac, a.s, data or {})

    def _fold(self, a: CurvePoint, b: CurvePoint):
        alpha = a.tangent[-1] / (a.tangent[-1] - b.tangent[-1])
        guess = a.u + alpha * (b.u - a.u)
        y, pi = guess[:-1], self.pi_of(guess)
        u = newton_square(FoldSystem(self.system, (self.k,), pi, *fold_start(self.system, y, pi)), guess)
        if u is None or np.linalg.norm(u - guess) > 2 * np.linalg.norm(b.u - a.u):
            # Fall back on the zero of the tangent's parameter component along the curve.
            point = self.tracer.locate(a, b, lambda p: float(p.tangent[-1]), a.tangent[-1], b.tangent[-1])
            return [] if point is None else [(point, "LP")]
        return [(self._located(u, a), "LP")]

    def _hopf(self, a: CurvePoint, b: CurvePoint):
        ra, rb = _nearest_pair_real(self.eig(a)), _nearest_pair_real(self.eig(b))
        alpha = ra / (ra - rb) if ra is not None and rb is not None and ra != rb else 0.5
        guess = a.u + alpha * (b.u - a.u)
        y, pi = guess[:-1], self.pi_of(guess)
        start = hopf_start(self.system, y, pi)
        if start is None:
            return []
        omega, left, right = start
        u = newton_square(HopfSystem(self.system, (self.k,), pi, left, right), np.append(guess, omega))
        if u is None or abs(u[-1]) <= 1e-9 * max(1.0, float(np.abs(self.eig(a)).max())) \
                or np.linalg.norm(u[:-1] - guess) > 2 * np.linalg.norm(b.u - a.u):
            return []  # a neutral saddle (real pair summing to zero), not a Hopf point
        return [(self._located(u[:-1], a, {"omega": abs(float(u[-1]))}), "H")]

    def _result(self, rows, ends, seconds) -> ContinuationResult:
        sys = self.system
        n = len(rows)
        p_values = np.empty(n)
        conc = np.empty((n, len(sys.network.species)))
        stable = np.zeros(n, dtype=bool)
        max_real = np.empty(n)
        specials = []
        for i, (point, label) in enumerate(rows):
            y, pi = point.u[:-1], self.pi_of(point.u)
            eig = self.eig(point)
            p_values[i] = sys.parameter_values(pi)[self.k]
            conc[i] = sys.concentrations(y)
            stable[i] = classify_eigenvalues(eig, 1e-9) is Status.STABLE
            max_real[i] = float(eig.real.max()) if len(eig) else -np.inf
            if label is None:
                continue
            params = dict(zip(self.names, sys.parameter_values(pi).tolist()))
            coefficient = frequency = None
            if label == "LP":
                coefficient = fold_coefficient(sys, y, pi)
            elif label == "H":
                frequency = point.data["omega"]
                coefficient = first_lyapunov_coefficient(sys, y, pi, frequency)
            specials.append(SpecialPoint(label, params, conc[i].copy(), i, eig, coefficient, frequency))
        return ContinuationResult(self.names[self.k], sys.network.species, p_values, conc, stable, max_real,
                                  tuple(specials), ends, seconds, sys.network.elasticity_method)


class _TwoParameterCurve(_Follower):
    """One fold or Hopf curve in both parameters; ``u = (y, pi_0, pi_1[, omega])``."""

    def __init__(self, system: EquilibriumSystem, kind: str, problem: FoldSystem | HopfSystem,
                 names: tuple[str, str], box: np.ndarray, options: ContinuationOptions) -> None:
        super().__init__(system, problem, options)
        self.kind, self.names, self.box = kind, names, box  # box: (2, 2) scaled lo/hi

    def params(self, u: np.ndarray) -> np.ndarray:
        n = self.system.n
        return u[n:n + 2]

    def inside(self, point: CurvePoint) -> float:
        pi = self.params(point.u)
        return float(min(np.min(pi - self.box[:, 0]), np.min(self.box[:, 1] - pi)))

    def tests(self, point: CurvePoint) -> dict[str, float]:
        if "tests" not in point.data:
            point.data["tests"] = self.problem.tests(point)
        return point.data["tests"]

    def events(self, a: CurvePoint, b: CurvePoint):
        """Codim-2 points between consecutive points: zeros of the problem's test functions."""
        found = []
        tests_a, tests_b = self.tests(a), self.tests(b)
        for name, value in tests_b.items():
            if tests_a[name] * value < 0:
                point = self.tracer.locate(a, b, lambda p, name=name: self.problem.tests(p)[name], tests_a[name], value)
                if point is not None:
                    found.append((point, name))
        found.sort(key=lambda item: float(a.tangent @ (item[0].u - a.u)))
        return found

    def final(self, events) -> str | None:
        if self.kind == "hopf" and any(label == "BT" for _, label in events):
            return "Bogdanov-Takens point (the Hopf curve ends: omega = 0)"
        return None

    def run(self, u0: np.ndarray, start: str) -> BifurcationCurve:
        null = np.linalg.svd(self.problem.evaluate(u0)[1])[2][-1]
        rows, ends = self.both_ways(u0, null)
        sys, n = self.system, self.system.n
        values = np.empty((len(rows), 2))
        conc = np.empty((len(rows), len(sys.network.species)))
        freq = np.empty(len(rows)) if self.kind == "hopf" else None
        specials = []
        for i, (point, label) in enumerate(rows):
            y, pi = point.u[:n], self.params(point.u)
            values[i] = sys.parameter_values(pi)
            conc[i] = sys.concentrations(y)
            if freq is not None:
                freq[i] = abs(point.u[-1])
            if label is not None and label != "EP":
                eig = np.linalg.eigvals(sys.jacobian(y, pi))
                specials.append(SpecialPoint(label, dict(zip(self.names, values[i].tolist())), conc[i].copy(), i, eig))
        return BifurcationCurve(self.kind, self.names, values, conc, freq, tuple(specials), ends, start)


def _on_curve(curve: BifurcationCurve, point: SpecialPoint, names, bounds, scale: np.ndarray) -> bool:
    """True when ``point`` lies on ``curve``: the curve crosses the point's second-parameter value
    within 1e-4 of the window in the first parameter and 1e-4 relative in every concentration."""
    p1, p2 = point.parameters[names[0]], point.parameters[names[1]]
    v = curve.values
    d = v[:, 1] - p2
    for i in range(len(v) - 1):
        if d[i] == 0 or d[i] * d[i + 1] < 0:
            alpha = 0.0 if d[i] == 0 else d[i] / (d[i] - d[i + 1])
            q1 = v[i, 0] + alpha * (v[i + 1, 0] - v[i, 0])
            c = curve.concentrations[i] + alpha * (curve.concentrations[i + 1] - curve.concentrations[i])
            if abs(q1 - p1) <= 1e-4 * (bounds[0][1] - bounds[0][0]) and \
                    np.all(np.abs(c - point.concentrations) <= 1e-3 * scale):
                return True
    return False


def _check(engine: Engine, names: Sequence[str], bounds: Sequence[tuple[float, float]]) -> None:
    for name, (lo, hi) in zip(names, bounds):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InvalidValueError(
                f"continuation window for {name!r} must be finite with lo < hi. Got ({lo!r}, {hi!r}).")
    check_parameters(engine, names)


def _prepare(engine: Engine, names: Sequence[str], bounds: Sequence[tuple[float, float]]):
    """Solve the engine's steady state at the start (the first parameter clipped into its window)
    and build the system around it; returns (system, y0)."""
    start = {name: min(max(engine.get_value(name), lo), hi) for name, (lo, hi) in zip(names, bounds)}
    result = engine.steady_state(start, start="current")
    if not result.converged:
        raise SteadyStateError(f"Model {engine.model_id!r}: no steady state at {start} to start the continuation "
                               f"from ({result.message}). Start from another state or parameter value.")
    system = EquilibriumSystem.at_steady_state(engine, names, [hi - lo for lo, hi in bounds])
    y0 = system.solve(np.zeros(system.n), np.zeros(len(names)))
    if y0 is None:
        raise SteadyStateError(f"Model {engine.model_id!r}: Newton on the reduced system did not converge at the "
                               f"engine's steady state {start}; the Jacobian may be singular there (a fold?).")
    return system, y0


def _restoring(engine: Engine, names: Sequence[str]):
    """Snapshot of the parameters and species amounts, and a function that restores them."""
    values = {n: engine.get_value(n) for n in names}
    amounts = engine.roadrunner.model.getFloatingSpeciesAmounts().copy()

    def restore() -> None:
        engine.set_values(values)
        engine.write_amounts(amounts)

    return restore


def continue_equilibria(
    engine: Engine,
    parameter: str,
    bounds: tuple[float, float],
    *,
    options: ContinuationOptions | None = None,
) -> ContinuationResult:
    """One-parameter continuation of the engine's steady state (module docstring).

    Parameters
    ----------
    engine : Engine
        Its current state is the start: the steady state is solved from it at the
        parameter's current value (clipped into ``bounds``).
    parameter : str
        A global parameter (not defined by a rule).
    bounds : (float, float)
        The window ``lo < hi``; the branch ends where it leaves it.
    options : ContinuationOptions

    Returns
    -------
    ContinuationResult
        The whole branch, special points included as rows. The engine's
        parameter values and species amounts are restored.

    Raises
    ------
    SteadyStateError
        No steady state to start from.
    UnsupportedModelError
        Models driven by rate rules, or without reactions (:class:`SpeciesNetwork`).
    """
    opts = options or ContinuationOptions()
    _check(engine, [parameter], [bounds])
    restore = _restoring(engine, [parameter])
    try:
        system, y0 = _prepare(engine, [parameter], [bounds])
        return _OneParameter(system, 0, [parameter], bounds, np.zeros(1), opts).run(y0)
    finally:
        restore()


def continue_two_parameters(
    engine: Engine,
    parameters: tuple[str, str],
    bounds: tuple[tuple[float, float], tuple[float, float]],
    *,
    options: ContinuationOptions | None = None,
) -> TwoParameterResult:
    """Two-parameter diagram: the branch in ``parameters[0]`` at the current ``parameters[1]``, then
    every fold and Hopf point on it continued in both parameters within ``bounds``
    (module docstring). Parameters and species amounts are restored."""
    t0 = time.perf_counter()
    opts = options or ContinuationOptions()
    names = (parameters[0], parameters[1])
    _check(engine, names, bounds)
    restore = _restoring(engine, names)
    try:
        system, y0 = _prepare(engine, names, bounds)
        branch = _OneParameter(system, 0, names, bounds[0], np.zeros(2), opts).run(y0)
        box = np.array([[(lo - system.p_ref[k]) / system.p_scale[k], (hi - system.p_ref[k]) / system.p_scale[k]]
                        for k, (lo, hi) in enumerate(bounds)])
        curves: list[BifurcationCurve] = []
        count = {"LP": 0, "H": 0}
        for point in branch.special_points:
            if point.kind not in ("LP", "H"):
                continue
            count[point.kind] += 1
            label = f"{point.kind}{count[point.kind]}"
            kind = "fold" if point.kind == "LP" else "hopf"
            if any(c.kind == kind and _on_curve(c, point, names, bounds, system.scale) for c in curves):
                continue
            y = system.coordinates(point.concentrations)
            pi = system.scaled_parameters(np.array([point.parameters[n] for n in names]))
            if kind == "fold":
                problem: FoldSystem | HopfSystem = FoldSystem(system, (0, 1), pi, *fold_start(system, y, pi))
                u0 = np.concatenate([y, pi])
            else:
                start = hopf_start(system, y, pi)
                if start is None:
                    continue
                omega, left, right = start
                problem = HopfSystem(system, (0, 1), pi, left, right)
                u0 = np.concatenate([y, pi, [point.frequency or omega]])
            curves.append(_TwoParameterCurve(system, kind, problem, names, box, opts).run(u0, label))
    finally:
        restore()
    return TwoParameterResult(names, (tuple(bounds[0]), tuple(bounds[1])), branch, tuple(curves),
                              time.perf_counter() - t0)
