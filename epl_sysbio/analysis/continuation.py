"""Pseudo-arclength continuation: the curve tracer and the reduced, scaled steady-state system.

**The system.** Steady states of a reaction network satisfy ``F(c; p) = V^-1 N
v(c; p) = 0`` (:class:`~epl_sysbio.analysis.network.SpeciesNetwork`). Under
conservation laws ``c`` moves only within ``c_ref + range(V^-1 N)``, so the
unknowns are reduced, scaled coordinates ``y`` (length ``r``, the rank of
``N``) and scaled parameters ``pi``:

    c = c_ref + D Q y,        p = p_ref + s * pi,
    G(y, pi) = Q^T D^-1 F(c; p)

with ``D = diag(d)``, ``d_i = max(|c_ref_i|, 1e-6 max|c_ref|)`` (each species
relative to its own size), ``Q`` an orthonormal basis of ``range(D^-1 V^-1 N)``
and ``s`` the width of the parameter window. ``G`` is the exact vector field in
``y`` (``dy/dt = G``), so the eigenvalues of ``G_y`` are those of the reduced
Jacobian. ``G_y = Q^T D^-1 V^-1 N (dv/dc) D Q`` and ``G_pi = Q^T D^-1 V^-1 N
(dv/dp) s`` come from the exact rate-law derivatives the project compiles
(:mod:`epl_sysbio.simulate.elasticities`); derivatives of ``G_y`` itself
(needed by the bifurcation test functions and normal forms) are central
differences of that exact Jacobian.

**The tracer** (Keller's pseudo-arclength method) follows the solution curve
of ``R(u) = 0``, ``R: R^(k+1) -> R^k``, through folds in either direction.
From a point ``u_j`` with unit tangent ``t_j`` (``R_u t_j = 0``):

1. predictor ``u* = u_j + h t_j``;
2. corrector: Newton on ``R(u) = 0, t_j . (u - u*) = 0`` with the bordered
   matrix ``[R_u; t_j^T]``, until ``max|du| <= newton_tol`` (the Jacobian of
   the last iterate is kept for step 3 and the test functions);
3. new tangent from ``[R_u; t_j^T] tau = e_(k+1)``, ``t_(j+1) = tau/|tau|``
   (so ``t_j . t_(j+1) > 0``: the orientation carries through folds).

A step is rejected (and ``h`` halved) when Newton does not converge in
``max_newton`` iterations, when its first correction exceeds the step
(the predictor left the curve's neighbourhood) or when the tangent turns by
more than ``max_turn`` radians; ``h`` grows by 1.5 after a corrector that
needed at most 2 iterations and shrinks by 0.7 after one that needed more
than 4, within ``[min_step, max_step]``. Zeros of a test function ``psi``
between two points are located along the curve by the Illinois variant of
regula falsi on the arclength ``s`` from the first point (each trial point
corrected onto the curve), to ``|ds| <= locate_tol``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from epl_sysbio.analysis.network import SpeciesNetwork
from epl_sysbio.errors import Interval, InvalidValueError, check_parameter, format_ids, validate_fields
from epl_sysbio.model import Model
from epl_sysbio.simulate import Engine
from epl_sysbio.simulate.elasticities import _convert as convert_document  # the one libsbml conversion helper

__all__ = ["ContinuationOptions", "CurvePoint", "CurveProblem", "CurveTracer", "EquilibriumSystem",
           "promote_local_parameters"]


_OPTIONS_PARAMETERS = {
    **dict.fromkeys(("step", "min_step", "max_step", "newton_tol", "max_turn", "locate_tol"),
                    Interval((int, float), 0, None, closed="neither")),
    **dict.fromkeys(("max_points", "max_newton"), Interval(int, 1, None, closed="left")),
}


@dataclass(frozen=True, kw_only=True)
class ContinuationOptions:
    """Settings of the curve tracer (module docstring); steps are in scaled coordinates.

    ``max_points`` bounds each direction of each curve. ``allow_negative`` lets a
    branch continue where a concentration falls below ``-1e-9`` of its scale (by
    default the branch ends there: it has left the physical region).
    """

    step: float = 0.02
    min_step: float = 1e-9
    max_step: float = 0.1
    max_points: int = 2000
    newton_tol: float = 1e-10
    max_newton: int = 8
    max_turn: float = 0.35
    locate_tol: float = 1e-12
    allow_negative: bool = False

    def __post_init__(self) -> None:
        validate_fields(self, _OPTIONS_PARAMETERS)
        check_parameter("ContinuationOptions", "max_step", self.min_step <= self.step <= self.max_step,
                        "a float with min_step <= step <= max_step", self.max_step)


class CurveProblem(ABC):
    """An underdetermined system ``R(u) = 0`` with ``u`` in R^(k+1), ``R(u)`` in R^k."""

    @abstractmethod
    def evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``R(u)``, shape (k,), and ``R_u(u)``, shape (k, k+1)."""

    def accept(self, u: np.ndarray) -> None:  # noqa: B027 (optional hook)
        """Called with every accepted point (minimally augmented systems update their borders)."""


@dataclass
class CurvePoint:
    """An accepted point: ``u``, unit ``tangent``, the Jacobian ``jac`` there and the arclength ``s``."""

    u: np.ndarray
    tangent: np.ndarray
    jac: np.ndarray
    s: float
    data: dict = field(default_factory=dict)


class CurveTracer:
    """Pseudo-arclength continuation of one curve of ``problem`` (module docstring)."""

    def __init__(self, problem: CurveProblem, options: ContinuationOptions) -> None:
        self.problem, self.options = problem, options
        self.message = ""

    def correct(self, pred: np.ndarray, t: np.ndarray, h: float | None = None):
        """Newton onto the curve in the hyperplane ``t . (u - pred) = 0``; (u, jac, iterations) or None."""
        opts = self.options
        u = pred.copy()
        for it in range(1, opts.max_newton + 1):
            r, jac = self.problem.evaluate(u)
            if not (np.all(np.isfinite(r)) and np.all(np.isfinite(jac))):
                return None
            try:
                du = np.linalg.solve(np.vstack([jac, t]), -np.append(r, t @ (u - pred)))
            except np.linalg.LinAlgError:
                return None
            if h is not None and it == 1 and np.linalg.norm(du) > max(h, 10 * opts.newton_tol):
                return None  # the predictor is far from the curve: a smaller step
            if np.max(np.abs(du)) <= opts.newton_tol:
                # The Jacobian of the last iterate serves the tangent and the eigenvalues: it is
                # that of u + du to within newton_tol, and saves one evaluation per point.
                return u + du, jac, it
            u = u + du
        return None

    @staticmethod
    def tangent(jac: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """Unit null vector of ``jac`` oriented along ``reference`` (``[jac; ref^T] tau = e_last``)."""
        try:
            tau = np.linalg.solve(np.vstack([jac, reference]), np.append(np.zeros(len(jac)), 1.0))
        except np.linalg.LinAlgError:
            tau = np.linalg.svd(jac)[2][-1]
            tau = tau if tau @ reference >= 0 else -tau
        return tau / np.linalg.norm(tau)

    def start(self, u0: np.ndarray, direction: np.ndarray) -> CurvePoint:
        """The first point: ``u0`` (a solution), its tangent oriented along ``direction``."""
        r, jac = self.problem.evaluate(u0)
        null = np.linalg.svd(jac)[2][-1]
        null = null if null @ direction >= 0 else -null
        self.problem.accept(u0)
        return CurvePoint(u0.copy(), self.tangent(jac, null), jac, 0.0)

    def run(self, first: CurvePoint) -> Iterator[CurvePoint]:
        """Yield accepted points after ``first`` until ``max_points`` or the step underflows;
        :attr:`message` then says why it stopped. The caller stops it earlier by leaving the loop."""
        opts = self.options
        point, h = first, opts.step
        for _ in range(opts.max_points):
            while True:
                got = self.correct(point.u + h * point.tangent, point.tangent, h)
                if got is not None:
                    u, jac, iterations = got
                    t = self.tangent(jac, point.tangent)
                    if np.arccos(np.clip(t @ point.tangent, -1.0, 1.0)) <= opts.max_turn:
                        break
                if h <= opts.min_step:
                    self.message = f"step size fell below min_step = {opts.min_step:g} (corrector failed)"
                    return
                h = max(0.5 * h, opts.min_step)
            self.problem.accept(u)
            point = CurvePoint(u, t, jac, point.s + float(np.linalg.norm(u - point.u)))
            yield point
            if iterations <= 2:
                h = min(1.5 * h, opts.max_step)
            elif iterations > 4:
                h = max(0.7 * h, opts.min_step)
        self.message = f"max_points = {opts.max_points} reached"

    def locate(self, a: CurvePoint, b: CurvePoint, psi: Callable[[CurvePoint], float],
               psi_a: float, psi_b: float, max_iter: int = 60) -> CurvePoint | None:
        """The point between ``a`` and ``b`` where ``psi`` (of opposite signs there) is zero.

        Illinois regula falsi on ``s`` = the distance along ``a``'s tangent, every
        trial point corrected onto the curve."""
        s_lo, s_hi = 0.0, float(a.tangent @ (b.u - a.u))
        f_lo, f_hi = psi_a, psi_b
        best, side, s_prev = None, 0, None
        for _ in range(max_iter):
            s = s_hi - f_hi * (s_hi - s_lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (s_lo + s_hi)
            got = self.correct(a.u + s * a.tangent, a.tangent)
            if got is None:
                return best
            u, jac, _ = got
            best = CurvePoint(u, self.tangent(jac, a.tangent), jac, a.s + abs(s))
            f = psi(best)
            if f == 0 or (s_prev is not None and abs(s - s_prev) <= self.options.locate_tol):
                return best
            s_prev = s
            if np.sign(f) == np.sign(f_hi):
                s_hi, f_hi = s, f
                if side == 1:
                    f_lo *= 0.5  # Illinois: the end that stays put loses half its weight
                side = 1
            else:
                s_lo, f_lo = s, f
                if side == -1:
                    f_hi *= 0.5
                side = -1
        return best


def promote_local_parameters(model: Model) -> Model:
    """A copy of ``model`` whose reaction-local parameters are global, named ``<reaction>_<id>``
    (libsbml's conversion; e.g. BIOMD0000000010's ``V1`` of ``J0`` becomes ``J0_V1``).

    libRoadRunner cannot set local parameters, so only promoted ones can be continued."""
    doc = model.document.clone()
    convert_document(doc, "promoteLocalParameters", model.id)
    return Model(doc, source=model.source)


def check_parameters(engine: Engine, parameters: Sequence[str]) -> None:
    """Continuation parameters must be global parameters that no rule defines."""
    sbml = engine.model.sbml_model
    # getListOfParameters: local parameters of Level 2 and Level 3 alike
    local = sorted({f"{r.getId()}_{p.getId()}" for r in sbml.getListOfReactions() if r.getKineticLaw() is not None
                    for p in r.getKineticLaw().getListOfParameters()} & set(parameters))
    if local:
        raise InvalidValueError(
            f"Model {engine.model_id!r}: {format_ids(local)} are reaction-local parameters, which libRoadRunner "
            "cannot change. Build the engine from promote_local_parameters(model) (the command line does this "
            "itself) and continue the promoted ids."
        )
    engine.get_values(list(parameters))  # unknown ids: the engine's full message
    ruled = set(engine.model.assignment_rule_variables)
    bad = sorted(p for p in parameters if p not in engine.parameter_ids or p in ruled)
    if bad:
        raise InvalidValueError(
            f"Model {engine.model_id!r}: {format_ids(bad)} cannot be continuation parameters: they are species, "
            f"compartments or defined by rules. Use a global parameter (e.g. {format_ids(engine.parameter_ids, 6)})."
        )
    if len(set(parameters)) != len(parameters):
        raise InvalidValueError(f"Model {engine.model_id!r}: continuation parameters {list(parameters)} repeat an id.")


class EquilibriumSystem:
    """``G(y, pi) = Q^T D^-1 F(c_ref + D Q y; p_ref + s pi)`` and its derivatives (module docstring).

    Parameters
    ----------
    network : SpeciesNetwork
        Built with ``parameters`` = the continuation parameters (exact ``dv/dp``).
    c_ref : ndarray, shape (n_species,)
        A concentration vector fixing the conservation class (a steady state).
    p_ref, p_scale : ndarray, shape (n_parameters,)
        ``p = p_ref + p_scale * pi``.
    """

    def __init__(self, network: SpeciesNetwork, c_ref: np.ndarray, p_ref: np.ndarray, p_scale: np.ndarray) -> None:
        self.network = network
        self.c_ref = np.asarray(c_ref, dtype=float).copy()
        self.p_ref = np.asarray(p_ref, dtype=float).copy()
        self.p_scale = np.asarray(p_scale, dtype=float).copy()
        size = np.abs(self.c_ref)
        self.scale = np.maximum(size, 1e-6 * max(float(size.max(initial=0.0)), 1e-300))
        n_c = network.stoichiometry / network.volumes[:, None]  # V^-1 N
        rank = network.basis.shape[1]  # the rank decided once, unscaled, by the network
        u, _, _ = np.linalg.svd(n_c / self.scale[:, None])
        self.basis = u[:, :rank]  # Q
        self.lift = self.scale[:, None] * self.basis  # c - c_ref = D Q y
        self.left = self.basis.T @ (n_c / self.scale[:, None])  # Q^T D^-1 V^-1 N, shape (r, n_reactions)
        self.n = rank
        self._p_now: np.ndarray | None = None

    @classmethod
    def at_steady_state(cls, engine: Engine, parameters: Sequence[str], p_scale: Sequence[float]) -> EquilibriumSystem:
        """The system around the engine's current state (a steady state), parameters at their current values
        (global parameters: :func:`check_parameters`)."""
        network = SpeciesNetwork(engine, parameters)
        network.sync_parameters()
        c = network.polish(network.concentrations())
        return cls(network, c, engine.get_values(list(parameters)), np.asarray(p_scale, dtype=float))

    # ------------------------------------------------------------ coordinates
    def concentrations(self, y: np.ndarray) -> np.ndarray:
        """``c = c_ref + D Q y`` (``network.species`` order)."""
        return self.c_ref + self.lift @ y

    def coordinates(self, c: np.ndarray) -> np.ndarray:
        """``y = Q^T D^-1 (c - c_ref)`` (exact for ``c`` in the conservation class)."""
        return self.basis.T @ ((np.asarray(c, dtype=float) - self.c_ref) / self.scale)

    def parameter_values(self, pi: np.ndarray) -> np.ndarray:
        return self.p_ref + self.p_scale * pi

    def scaled_parameters(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, dtype=float) - self.p_ref) / self.p_scale

    def _set(self, pi: np.ndarray) -> None:
        p = self.parameter_values(pi)
        if self._p_now is None or not np.array_equal(p, self._p_now):
            self.network.set_parameters(p)
            self._p_now = p

    # ------------------------------------------------------------ evaluation
    def evaluate(self, y: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``G`` shape (r,), ``G_y`` (r, r) and ``G_pi`` (r, n_parameters) at ``(y, pi)``."""
        self._set(pi)
        f, eps, eps_p = self.network.linearization(self.concentrations(y))
        return self.basis.T @ (f / self.scale), self.left @ eps @ self.lift, (self.left @ eps_p) * self.p_scale

    def residual(self, y: np.ndarray, pi: np.ndarray) -> np.ndarray:
        """``G(y, pi)`` alone (no derivatives read)."""
        self._set(pi)
        return self.basis.T @ (self.network.rates(self.concentrations(y)) / self.scale)

    def jacobian(self, y: np.ndarray, pi: np.ndarray) -> np.ndarray:
        return self.evaluate(y, pi)[1]

    def d_jacobian(self, y: np.ndarray, pi: np.ndarray, direction: np.ndarray, h: float = 1e-5) -> np.ndarray:
        """``d/de G_y(y + e x)`` at e = 0 for a real or complex direction ``x`` (central differences
        of the exact Jacobian, step ``h`` along the unit direction: error ~ h^2, rounding ~ 1e-16/h)."""
        x = np.asarray(direction)
        if np.iscomplexobj(x):
            return self.d_jacobian(y, pi, x.real, h) + 1j * self.d_jacobian(y, pi, x.imag, h)
        size = float(np.linalg.norm(x))
        if size == 0:
            return np.zeros((self.n, self.n))
        e = x / size
        return (self.jacobian(y + h * e, pi) - self.jacobian(y - h * e, pi)) * (size / (2 * h))

    def d2_jacobian(self, y: np.ndarray, pi: np.ndarray, direction: np.ndarray, h: float = 1e-4) -> np.ndarray:
        """``d^2/de^2 G_y(y + e x)`` at e = 0 for a real direction (second central difference)."""
        x = np.asarray(direction, dtype=float)
        size = float(np.linalg.norm(x))
        if size == 0:
            return np.zeros((self.n, self.n))
        e = x / size
        second = self.jacobian(y + h * e, pi) - 2 * self.jacobian(y, pi) + self.jacobian(y - h * e, pi)
        return second * (size / h) ** 2

    def dp_jacobian(self, y: np.ndarray, pi: np.ndarray, k: int, h: float = 1e-6) -> np.ndarray:
        """``d G_y / d pi_k`` (central differences in the scaled parameter)."""
        step = np.zeros(len(pi))
        step[k] = h
        return (self.jacobian(y, pi + step) - self.jacobian(y, pi - step)) / (2 * h)

    def solve(self, y: np.ndarray, pi: np.ndarray, tol: float = 1e-12, max_iter: int = 20) -> np.ndarray | None:
        """Newton on ``G(y, pi) = 0`` at fixed ``pi``; None unless ``max|dy| <= tol`` within ``max_iter``."""
        y = np.asarray(y, dtype=float).copy()
        for _ in range(max_iter):
            g, g_y, _ = self.evaluate(y, pi)
            try:
                dy = np.linalg.solve(g_y, -g)
            except np.linalg.LinAlgError:
                return None
            y += dy
            if not np.all(np.isfinite(y)):
                return None
            if np.max(np.abs(dy), initial=0.0) <= tol:
                return y
        return None


class EquilibriumCurve(CurveProblem):
    """``R(y, pi_k) = G(y, pi)`` with parameter ``k`` free and the others fixed at ``pi_fixed``."""

    def __init__(self, system: EquilibriumSystem, k: int, pi_fixed: np.ndarray) -> None:
        self.system, self.k, self.pi = system, k, np.asarray(pi_fixed, dtype=float).copy()

    def split(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pi = self.pi.copy()
        pi[self.k] = u[-1]
        return u[:-1], pi

    def evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, pi = self.split(u)
        g, g_y, g_p = self.system.evaluate(y, pi)
        return g, np.hstack([g_y, g_p[:, [self.k]]])
