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
  compiled kernel (:mod:`epl_sysbio.dynamics.kernel`): RODAS3 with the
  analytic Jacobian, and a bounded Newton with the conservation laws in its
  linear system. No compilation per network.

Both apply the same rules, so that a result means the same on each:

- the residual test is the package's one
  :class:`~epl_sysbio.simulate.stopping.StoppingRule`
  (``norm(F) <= atol + rtol * norm(x)``, :attr:`Tolerances.stopping`) with x
  the floating species' concentrations (the native state is amounts in
  compartments of size 1: the same numbers); the kernel's
  :func:`~epl_sysbio.dynamics.kernel.residual_ok` and
  :func:`~epl_sysbio.dynamics.kernel.newton_accepted` are its compiled twins;
- a Newton answer counts only if it passes the residual test with no
  amount below ``-atol`` (momenta excepted) and none fallen below
  :data:`MAX_DROP` of its start (:meth:`LearnerDynamics.newton`); otherwise
  the state is put back;
- a window or relaxation ends ``"failed"`` (the integrator gave up, or
  values went non-finite) or ``"too_stiff"`` when it needs more than
  ``max_steps`` integrator steps between two output times (a relaxation's
  output times are the ends of its chunks, which double from 0.1 up to
  ``MAX_CHUNK``);
- integration tolerances ``integrator_rtol`` / ``integrator_atol`` apply to
  windows and relaxations alike.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import numpy as np

from epl_sysbio.dynamics import kernel
from epl_sysbio.dynamics.kernel import MAX_CHUNK
from epl_sysbio.dynamics.native import NativeDynamics as _Kernel
from epl_sysbio.dynamics.spec import RdsSpec
from epl_sysbio.simulate import Engine
from epl_sysbio.simulate.stopping import StoppingRule

__all__ = ["Tolerances", "Window", "Relaxation", "LearnerDynamics", "RoadRunnerDynamics", "NativeDynamics",
           "BACKENDS"]

#: The backends a learner can run on, by the name ``[learner] backend`` takes.
BACKENDS = ("native", "roadrunner")

#: A Newton answer in which an amount fell below this fraction of its start is refused (see
#: :meth:`LearnerDynamics.newton`).
MAX_DROP = 1e-8


@dataclass(frozen=True, kw_only=True)
class Tolerances:
    """Residual test (``atol``, ``rtol``), integration tolerances, the integrator's work cap, the divergence bound."""

    atol: float
    rtol: float
    integrator_rtol: float
    integrator_atol: float
    max_steps: int
    max_amount: float

    @property
    def stopping(self) -> StoppingRule:
        """The residual test (``atol``, ``rtol``) as the package's one stopping rule."""
        return StoppingRule(atol=self.atol, rtol=self.rtol)


@dataclass(frozen=True)
class Window:
    """A recorded window: ``ended_by`` ``"ok"``, ``"failed"`` or ``"too_stiff"``; trace time first;
    ``largest`` the largest absolute amount at its end."""

    ended_by: str
    trace: np.ndarray
    message: str = ""
    largest: float = 0.0


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
    def add(self, index: np.ndarray, amounts: np.ndarray) -> float:
        """Add ``amounts`` to the species at ``index`` (conserved totals move by them); returns the largest
        absolute amount after (nan if any is nan)."""

    def largest(self) -> float:
        """The largest absolute amount now (nan if any is nan)."""
        return float(kernel.largest(self.amounts()))

    @abc.abstractmethod
    def window(self, t_end: float, points: int, out_index: np.ndarray) -> Window:
        """Integrate ``[0, t_end]`` recording the concentrations of ``out_index`` at ``points`` equal times."""

    @abc.abstractmethod
    def _newton(self) -> tuple[bool, float, float]:
        """The engine's Newton from the current state: whether it reports success, then
        ``norm(F)`` and ``norm(x)`` (x in concentrations) at its answer."""

    @abc.abstractmethod
    def relax(self, t_max: float) -> Relaxation:
        """Integrate until the residual test passes or t_max; ``"diverged"`` once an amount exceeds ``max_amount``.

        Both tests are applied at the ends of chunks whose length doubles from 0.1 up to
        :data:`~epl_sysbio.dynamics.kernel.MAX_CHUNK` (the work cap counts steps per chunk).
        """

    def newton(self) -> bool:
        """Newton from the current state; True (state moved) only if the answer is accepted.

        Accepted: finite, the residual test passes, no amount below ``-atol``
        (momenta excepted), and no amount fell below :data:`MAX_DROP` times its
        value at the start. The last rule refuses the spurious roots on the
        boundary x = 0, where every flow through a node vanishes and an
        absolute residual test passes short of the equilibrium (seen on
        generated networks: Newton marching a node to 1e-17, an unstable point,
        while the trajectory settled at 0.15); the trajectory is followed instead.
        """
        y0 = self.amounts()
        converged, residual, norm_state = self._newton()
        rule = self.tolerances.stopping
        # The compiled twin of rule.passes(residual, norm_state), plus the sign and drop checks.
        if converged and kernel.newton_accepted(self.amounts(), y0, self.nonnegative, rule.atol, rule.rtol, residual,
                                                norm_state, MAX_DROP):
            return True
        self.write(y0)
        return False


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
        # integrator_atol is a concentration; CVODE's absolute tolerance is in amounts. It goes in as a
        # vector, one per state variable: libRoadRunner scales a scalar tolerance by each species'
        # current value whenever CVODE restarts, so a momentum settled at 1e-20 would get an absolute
        # tolerance near 1e-32 and CVODE would crawl (10^5 steps per window, then too_stiff).
        volumes = rr.model.getCompartmentVolumes()
        smallest = float(np.min(volumes)) if len(volumes) else 1.0
        atol = tolerances.integrator_atol * min(1.0, smallest)
        integrator.setValue("absolute_tolerance", atol)
        integrator.setValue("absolute_tolerance", [atol] * len(integrator.getAbsoluteToleranceVector()))
        self._options = roadrunner.SimulateOptions()
        self._selections: tuple[str, ...] | None = None

    def amounts(self) -> np.ndarray:
        return self.engine.roadrunner.model.getFloatingSpeciesAmounts()

    def write(self, amounts: np.ndarray) -> None:
        self.engine.write_amounts(np.asarray(amounts, dtype=float))

    def add(self, index: np.ndarray, amounts: np.ndarray) -> float:
        y = self.amounts()
        big = kernel.add(y, index, amounts)
        self.engine.write_amounts(y)
        return float(big)

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
        return Window("ok", trace, largest=self.largest())

    def _newton(self) -> tuple[bool, float, float]:
        eng = self.engine
        try:
            eng.roadrunner.steadyState()
        except RuntimeError:
            return False, math.inf, 0.0
        return True, eng.residual(), float(np.linalg.norm(eng.state()))

    def relax(self, t_max: float) -> Relaxation:
        tol = self.tolerances
        rule = tol.stopping
        t, step = 0.0, 0.1
        while True:
            residual = self.engine.residual()
            if not math.isfinite(residual):
                return Relaxation("failed", t, "non-finite state")
            if rule.passes(residual, float(np.linalg.norm(self.engine.state()))):
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
            step = min(2.0 * step, MAX_CHUNK)


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

    def add(self, index: np.ndarray, amounts: np.ndarray) -> float:
        return self.kernel.add(index, amounts)

    def window(self, t_end: float, points: int, out_index: np.ndarray) -> Window:
        tol = self.tolerances
        run = self.kernel.integrate(t_end, points, out_index, rtol=tol.integrator_rtol, atol=tol.integrator_atol,
                                    max_steps=tol.max_steps)
        if run.status == "ok":
            return Window("ok", run.trace, largest=run.largest)
        return Window(run.status, run.trace, _native_message(run.status, run.time, tol.max_steps))

    def _newton(self) -> tuple[bool, float, float]:
        tol = self.tolerances
        result = self.kernel.newton(atol=tol.atol, rtol=tol.rtol)
        return result.converged, result.residual, result.norm_state

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
        return f"integrator: more than {max_steps} RODAS3 steps between two output times (t = {t:.6g})"
    return f"integrator: step size underflow or non-finite values at t = {t:.6g}"
