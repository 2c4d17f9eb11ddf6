"""The two engines an EPL learner runs on (DESIGN.md section 8).

:class:`LearnerDynamics` is what :class:`~epl_sysbio.epl.learner.EplLearner`
needs from an engine: the state by id, injections that move the conserved
totals, a response window recorded at equally spaced times, a Newton settle
accepted only by the residual test, and a time-course relaxation. Two final
classes implement it:

- :class:`RoadRunnerDynamics`: any compiled SBML model (an
  :class:`~epl_sysbio.simulate.Engine`): CVODE for windows and relaxations,
  NLEQ2 for the settle. The reference for every number.
- :class:`NativeDynamics`: an :class:`~epl_sysbio.dynamics.RdsSpec` on the
  compiled kernel (:mod:`epl_sysbio.dynamics.kernel`): RODAS4 with the
  analytic Jacobian, and a bounded Newton with the conservation laws in its
  linear system. No compilation per network.

Both apply the same rules, so that a result means the same on each:

- the residual test is ``norm(F) <= atol + rtol * norm(x)`` with x the
  floating species' concentrations (the native state is amounts in
  compartments of size 1: the same numbers);
- a Newton answer counts only if it passes the residual test with no
  amount below ``-atol`` (momenta excepted); otherwise the state is put back;
- a window or relaxation ends ``"failed"`` (the integrator gave up, or
  values went non-finite) or ``"too_stiff"`` when it needs more than
  ``max_steps`` integrator steps between two output times;
- integration tolerances ``integrator_rtol`` / ``integrator_atol`` apply to
  windows and relaxations alike.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import numpy as np

from epl_sysbio.dynamics.native import NativeDynamics as _Kernel
from epl_sysbio.dynamics.spec import RdsSpec
from epl_sysbio.simulate import Engine

__all__ = ["Tolerances", "Window", "Relaxation", "LearnerDynamics", "RoadRunnerDynamics", "NativeDynamics",
           "BACKENDS"]

#: The backends a learner can run on, by the name ``[learner] backend`` takes.
BACKENDS = ("native", "roadrunner")


@dataclass(frozen=True, kw_only=True)
class Tolerances:
    """Residual test (``atol``, ``rtol``), integration tolerances, the integrator's work cap, the divergence bound."""

    atol: float
    rtol: float
    integrator_rtol: float
    integrator_atol: float
    max_steps: int
    max_amount: float


@dataclass(frozen=True)
class Window:
    """A recorded window: ``ended_by`` ``"ok"``, ``"failed"`` or ``"too_stiff"``; trace time first."""

    ended_by: str
    trace: np.ndarray
    message: str = ""


@dataclass(frozen=True)
class Relaxation:
    """A time-course relaxation: ``ended_by`` ``"converged"``, ``"time_cap"``, ``"diverged"``, ``"failed"`` or
    ``"too_stiff"``."""

    ended_by: str
    time: float
    message: str = ""


class LearnerDynamics(abc.ABC):
    """The engine of a learner: state by id, injections, windows, settles (module docstring).

    Attributes
    ----------
    ids : tuple of str
        Floating species ids, in the order of :meth:`amounts`.
    signed : tuple of str
        Species that may be negative (momenta); every other one must stay >= -atol.
    """

    ids: tuple[str, ...]
    signed: tuple[str, ...]

    def __init__(self, tolerances: Tolerances) -> None:
        self.tolerances = tolerances
        self.index = {s: i for i, s in enumerate(self.ids)}
        self.nonnegative = np.array([s not in self.signed for s in self.ids], dtype=bool)

    @abc.abstractmethod
    def amounts(self) -> np.ndarray:
        """The current amounts, in :attr:`ids` order (a copy)."""

    @abc.abstractmethod
    def write(self, amounts: np.ndarray) -> None:
        """Set every amount (conserved totals follow)."""

    @abc.abstractmethod
    def add(self, index: np.ndarray, amounts: np.ndarray) -> np.ndarray:
        """Add ``amounts`` to the species at ``index`` (conserved totals move by them); returns the new amounts."""

    @abc.abstractmethod
    def window(self, t_end: float, points: int, out_index: np.ndarray) -> Window:
        """Integrate ``[0, t_end]`` recording the concentrations of ``out_index`` at ``points`` equal times."""

    @abc.abstractmethod
    def newton(self) -> bool:
        """Newton from the current state; True (state moved) only if the answer passes the residual test."""

    @abc.abstractmethod
    def relax(self, t_max: float) -> Relaxation:
        """Integrate until the residual test passes or t_max; ``"diverged"`` once an amount exceeds ``max_amount``.

        Both tests are applied at the ends of chunks whose length doubles from 0.1.
        """

    def _accept(self, y: np.ndarray, residual: float, norm_state: float) -> bool:
        tol = self.tolerances
        return bool(np.all(np.isfinite(y)) and np.all(y[self.nonnegative] >= -tol.atol)
                    and residual <= tol.atol + tol.rtol * norm_state)


class RoadRunnerDynamics(LearnerDynamics):
    """A learner's engine on libRoadRunner (any SBML model): CVODE and NLEQ2 (module docstring).

    Parameters
    ----------
    engine : Engine
    tolerances : Tolerances
    signed : sequence of str
        Species that may be negative (the momenta of a generated EPL network).
    """

    def __init__(self, engine: Engine, tolerances: Tolerances, signed=()) -> None:
        self.engine = engine
        self.ids = engine.floating_ids
        self.signed = tuple(signed)
        super().__init__(tolerances)
        import roadrunner

        rr = engine.roadrunner
        integrator = rr.integrator
        integrator.setValue("maximum_num_steps", tolerances.max_steps)
        integrator.setValue("relative_tolerance", tolerances.integrator_rtol)
        # CVODE's absolute tolerance is in amounts; the engine may have scaled it down for tiny compartments.
        atol = min(tolerances.integrator_atol, float(integrator.getValue("absolute_tolerance")))
        integrator.setValue("absolute_tolerance", atol)
        self._options = roadrunner.SimulateOptions()
        self._selections: tuple[str, ...] | None = None

    def amounts(self) -> np.ndarray:
        return self.engine.roadrunner.model.getFloatingSpeciesAmounts()

    def write(self, amounts: np.ndarray) -> None:
        self.engine.write_amounts(np.asarray(amounts, dtype=float))

    def add(self, index: np.ndarray, amounts: np.ndarray) -> np.ndarray:
        y = self.amounts()
        y[index] += amounts
        self.engine.write_amounts(y)
        return y

    def _simulate(self, t_end: float, points: int, out_index: np.ndarray) -> np.ndarray:
        """libRoadRunner's time course without its Python wrapper (selections parsed once per set)."""
        rr = self.engine.roadrunner
        selections = ("time",) + tuple(f"[{self.ids[i]}]" for i in out_index)
        if selections != self._selections:
            rr.timeCourseSelections = list(selections)
            self._selections = selections
        rr.model.setTime(0.0)
        o = self._options
        o.start, o.end, o.steps = 0.0, float(t_end), int(points) - 1
        return np.asarray(rr._simulate(o))

    def window(self, t_end: float, points: int, out_index: np.ndarray) -> Window:
        try:
            trace = self._simulate(t_end, points, out_index)
        except RuntimeError as exc:
            return _integrator_failure(str(exc), Window, np.zeros((0, 1 + len(out_index))))
        if not np.all(np.isfinite(trace)):
            return Window("failed", trace[:0], "non-finite values")
        return Window("ok", trace)

    def _residual_test(self) -> bool:
        eng = self.engine
        return self._accept(self.amounts(), eng.residual(), float(np.linalg.norm(eng.state())))

    def newton(self) -> bool:
        y0 = self.amounts()
        try:
            self.engine.roadrunner.steadyState()
        except RuntimeError:
            self.write(y0)
            return False
        if self._residual_test():
            return True
        self.write(y0)
        return False

    def relax(self, t_max: float) -> Relaxation:
        tol = self.tolerances
        t, step = 0.0, 0.1
        while True:
            residual = self.engine.residual()
            if not math.isfinite(residual):
                return Relaxation("failed", t, "non-finite state")
            if residual <= tol.atol + tol.rtol * float(np.linalg.norm(self.engine.state())):
                return Relaxation("converged", t)
            if float(np.max(np.abs(self.amounts()), initial=0.0)) > tol.max_amount:
                return Relaxation("diverged", t, f"an amount exceeded {tol.max_amount:g} at t = {t:g}")
            if t >= t_max:
                return Relaxation("time_cap", t, f"residual {residual:.3g} still above tolerance at t = {t:g}")
            span = min(step, t_max - t)
            try:
                self._simulate(span, 2, np.zeros(0, dtype=int))
            except RuntimeError as exc:
                return _integrator_failure(str(exc), Relaxation, t)
            t += span
            step *= 2.0


def _integrator_failure(message: str, kind, first):
    """CVODE's step-limit error is the work cap ("too_stiff"); any other error is a failure."""
    text = " ".join(message.split())
    ended = "too_stiff" if "CV_TOO_MUCH_WORK" in text or "mxstep" in text.lower() else "failed"
    return kind(ended, first, f"integrator: {text}")


class NativeDynamics(LearnerDynamics):
    """A learner's engine on the compiled kernel, for a generated EPL network (module docstring).

    Parameters
    ----------
    spec : RdsSpec
    tolerances : Tolerances
    """

    def __init__(self, spec: RdsSpec, tolerances: Tolerances) -> None:
        self.kernel = _Kernel(spec)
        self.ids = self.kernel.ids
        self.signed = self.kernel.ids[self.kernel.n:]
        super().__init__(tolerances)

    def amounts(self) -> np.ndarray:
        return self.kernel.y.copy()

    def write(self, amounts: np.ndarray) -> None:
        self.kernel.y = np.array(amounts, dtype=float)

    def add(self, index: np.ndarray, amounts: np.ndarray) -> np.ndarray:
        self.kernel.y[index] += amounts
        return self.kernel.y.copy()

    def window(self, t_end: float, points: int, out_index: np.ndarray) -> Window:
        tol = self.tolerances
        run = self.kernel.integrate(t_end, points, out_index, rtol=tol.integrator_rtol, atol=tol.integrator_atol,
                                    max_steps=tol.max_steps)
        if run.status == "ok":
            return Window("ok", run.trace)
        return Window(run.status, run.trace, _native_message(run.status, run.time, tol.max_steps))

    def newton(self) -> bool:
        tol = self.tolerances
        return self.kernel.newton(atol=tol.atol, rtol=tol.rtol)[0]

    def relax(self, t_max: float) -> Relaxation:
        tol = self.tolerances
        run = self.kernel.relax(t_max, atol=tol.atol, rtol=tol.rtol, integrator_rtol=tol.integrator_rtol,
                                integrator_atol=tol.integrator_atol, max_steps=tol.max_steps,
                                max_amount=tol.max_amount)
        if run.status == "ok":
            return Relaxation("converged", run.time)
        if run.status == "diverged":
            return Relaxation("diverged", run.time, f"an amount exceeded {tol.max_amount:g} at t = {run.time:g}")
        if run.status == "time_cap":
            return Relaxation("time_cap", run.time, f"residual {self.kernel.residual():.3g} still above tolerance "
                                                    f"at t = {run.time:g}")
        return Relaxation(run.status, run.time, _native_message(run.status, run.time, tol.max_steps))


def _native_message(status: str, t: float, max_steps: int) -> str:
    if status == "too_stiff":
        return f"integrator: more than {max_steps} RODAS4 steps between two output times (t = {t:.6g})"
    return f"integrator: step size underflow or non-finite values at t = {t:.6g}"
