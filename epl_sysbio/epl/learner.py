"""The EPL learner: Algorithm 1 of Baik & Yoon (2023) on a reaction network.

The parameters theta of the network (its rate constants and structure) are
fixed; what learns is the *state*. With ``z`` the floating-species amounts:

1. ``initialise``: relax from the model's initial state to ``z*``.
2. Each learning step (:meth:`EplLearner.step`):

   a. inject the input: ``z <- z* + I_z x`` (amounts added to the input nodes;
      ``x >= 0``);
   b. integrate the response window ``[0, response_time]``, recording the
      output nodes' concentrations ``O_z z(t)`` at ``response_points`` equally
      spaced times; the output is ``Active(trace)`` (see :class:`LearnerOptions`).
      The window always runs whole: a response that has already converged
      still has a value;
   c. the caller turns the output into an action or a prediction and gets the
      feedback ``l >= 0`` (from the environment or the loss);
   d. inject it, ``z <- z + F_z l``, and settle to the new equilibrium, the
      learned state ``z*`` (:meth:`EplLearner.feed_back`).

The learned state persists across steps and episodes: nothing is ever reset.
Injections change the network's conserved totals by exactly ``Gamma @ injected``
whichever node receives them.

The learner runs on one of two engines (:mod:`epl_sysbio.epl.backends`):
libRoadRunner for any SBML model (the reference), or the compiled kernel for a
generated EPL network (``native``). The step, ``Active``, the residual test and
the statuses are defined here, once, for both.

Every relaxation reports how it ended. When one fails (integrator error,
non-finite or diverging state, the integrator's work cap) or does not reach
the residual test, the learner *stops*: :attr:`EplLearner.status` says why and
every later call is a no-op returning the stopped status, so a task loop ends
the episode and the fitness gets the worst value. No exception escapes for a
numerical failure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from epl_sysbio.errors import InvalidValueError, Interval, Options, format_ids, validate_fields
from epl_sysbio.simulate import Engine
from epl_sysbio.simulate.results import SteadyStateOptions

from .backends import BACKENDS, LearnerDynamics, RoadRunnerDynamics, Tolerances

__all__ = ["LearnerOptions", "Response", "EplLearner", "LEARNER_STATUSES", "active"]

#: How a learner can be: still running, or stopped for one of these reasons.
LEARNER_STATUSES = ("ok", "diverged", "failed", "not_relaxed", "too_stiff", "too_small")
ACTIVE_RULES = ("mean_change", "mean", "crossings")
SETTLE_METHODS = ("newton", "time_course")


_POSITIVE = Interval((int, float), 0, None, closed="neither")
_OPTIONS_PARAMETERS = {
    "max_integrator_steps": Interval(int, 10, None, closed="left"),
    "backend": Options(*BACKENDS),
    "active": Options(*ACTIVE_RULES),
    "settle": Options(*SETTLE_METHODS),
    **dict.fromkeys(("crossing_level", "response_time", "settle_t_max", "atol", "rtol", "integrator_rtol",
                     "integrator_atol", "max_amount"), _POSITIVE),
    "response_points": Interval(int, 2, None, closed="left"),
}


@dataclass(frozen=True, kw_only=True)
class LearnerOptions:
    """How the learner relaxes and reads its outputs.

    Attributes
    ----------
    backend : {"native", "roadrunner"}
        The engine a generated network's learner runs on
        (:func:`~epl_sysbio.epl.substrate.make_learner`): the compiled kernel or
        libRoadRunner. A learner built directly on an :class:`Engine` always
        runs on libRoadRunner.
    active : {"mean_change", "mean", "crossings"}
        ``Active(trace)`` of one output node, with ``baseline`` its
        concentration when the input arrived: ``"mean"`` is the time average
        of its concentration over the response window (trapezoid rule over the
        recorded points), ``"mean_change"`` that average minus the baseline
        (the response the input caused), ``"crossings"`` the number of upward
        crossings of ``baseline + crossing_level``.
    crossing_level : float
        Concentration above the baseline that counts as a crossing.
    response_time : float
        Model time of the response window (step b); it always runs whole.
    response_points : int
        Points recorded in the response window (both ends included).
    settle : {"newton", "time_course"}
        How step 1 and step d relax to the learned state. ``"newton"``: Newton
        from the current state (libRoadRunner's NLEQ2, or the kernel's bounded
        Newton), accepted if it passes the residual test with no amount below
        ``-atol`` (the equilibrium, not a trajectory, is what the next step
        needs); else integrate, trying Newton again from where the trajectory
        got at model times 1, 10, 100, ... (as libRoadRunner's presimulation),
        until the residual test passes (then Newton polishes, since the test
        can pass on a slow manifold short of the equilibrium) or
        ``settle_t_max``.
        ``"time_course"``: integrate until the residual test passes or
        ``settle_t_max`` (then the learner stops as ``not_relaxed``).
    settle_t_max : float
        Time cap of a time-course relaxation (also the initial relaxation's).
    atol, rtol : float
        Residual test ``norm(F) <= atol + rtol * norm(x)``, x the floating
        species' concentrations and F their rates of change (concentration
        per unit time).
    integrator_rtol, integrator_atol : float
        Tolerances of the integrator (CVODE or RODAS3) in response windows
        and time-course relaxations; ``integrator_atol`` is a concentration
        (CVODE gets it times the smallest compartment volume, in amounts).
    max_amount : float
        A state with any amount above this (or non-finite) has diverged.
    max_integrator_steps : int
        The integrator's work cap: steps between two recorded points
        (libRoadRunner's ``maximum_num_steps``; RODAS3 step attempts on the
        kernel). A window or relaxation that needs more stops the learner as
        ``too_stiff``: a deterministic cap on the cost of very stiff networks,
        which otherwise take minutes per learner.
    """

    backend: str = "native"
    active: str = "mean_change"
    crossing_level: float = 0.05
    response_time: float = 1.0
    response_points: int = 6
    settle: str = "newton"
    settle_t_max: float = 1e3
    atol: float = 1e-8
    rtol: float = 1e-6
    integrator_rtol: float = 1e-4
    integrator_atol: float = 1e-6
    max_amount: float = 1e6
    max_integrator_steps: int = 1000

    def __post_init__(self) -> None:
        validate_fields(self, _OPTIONS_PARAMETERS)

    @property
    def tolerances(self) -> Tolerances:
        """The residual test, integration tolerances and work cap, as the backends take them."""
        return Tolerances(atol=self.atol, rtol=self.rtol, integrator_rtol=self.integrator_rtol,
                          integrator_atol=self.integrator_atol, max_steps=self.max_integrator_steps,
                          max_amount=self.max_amount)

    @property
    def steady_state_options(self) -> SteadyStateOptions:
        """The residual test and time cap as an :class:`Engine`'s steady-state options (stability not judged)."""
        return SteadyStateOptions(atol=self.atol, rtol=self.rtol, stability=False, relax_t_max=self.settle_t_max)


def active(trace: np.ndarray, rule: str, crossing_level: float = 0.05) -> np.ndarray:
    """``Active`` of each output column of a trace.

    Parameters
    ----------
    trace : ndarray, shape (n_points, 1 + n_outputs)
        Time first, then output concentrations.
    rule : {"mean_change", "mean", "crossings"}
        See :class:`LearnerOptions`; the first row of ``trace`` is the baseline.

    Returns
    -------
    ndarray, shape (n_outputs,)
    """
    t, y = trace[:, 0], trace[:, 1:]
    if rule in ("mean", "mean_change"):
        span = t[-1] - t[0]
        if len(t) < 2 or span <= 0:
            mean = y[-1].copy()
        else:  # the trapezoid rule, written as weights: sum_k y_k (dt_{k-1} + dt_k) / 2
            w = np.empty(len(t))
            w[0], w[-1] = t[1] - t[0], t[-1] - t[-2]
            w[1:-1] = t[2:] - t[:-2]
            mean = (w @ y) / (2.0 * span)
        return mean - y[0] if rule == "mean_change" else mean
    above = y > y[0] + crossing_level
    return np.count_nonzero(above[1:] & ~above[:-1], axis=0).astype(float)


@dataclass(frozen=True)
class Response:
    """The output of one learning step's response window.

    ``activity`` is ``Active(trace)`` per output node (in the learner's output
    order); ``trace`` has shape (n_points, 1 + n_outputs), time first;
    ``status`` is the learner's status afterwards.
    """

    activity: np.ndarray
    trace: np.ndarray
    status: str


@dataclass
class EplLearner:
    """Algorithm 1 on a network with designated input, output and feedback species.

    Parameters
    ----------
    dynamics : LearnerDynamics or Engine
        The engine whose current state is the learner's state
        (:mod:`~epl_sysbio.epl.backends`); an :class:`Engine` is run on
        libRoadRunner (:class:`~epl_sysbio.epl.backends.RoadRunnerDynamics`).
    inputs, outputs, feedback : sequence of str
        Floating species ids receiving input injections (``I_z``), read as
        outputs (``O_z``) and receiving feedback injections (``F_z``), in the
        order the task uses them. Inputs and feedback nodes must be distinct
        from each other; outputs may be any species.
    options : LearnerOptions
    signed : sequence of str
        With an :class:`Engine`: species that may be negative (momenta of the
        dynamics' SBML); all others must stay >= 0 for a relaxation to count.
        A :class:`LearnerDynamics` knows its own.
    """

    dynamics: LearnerDynamics | Engine
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    feedback: tuple[str, ...]
    options: LearnerOptions = field(default_factory=LearnerOptions)
    signed: tuple[str, ...] = ()
    status: str = "ok"
    message: str = ""
    relaxations: Counter = field(default_factory=Counter)
    steps: int = 0
    model_time: float = 0.0

    def __post_init__(self) -> None:
        self.inputs, self.outputs, self.feedback = tuple(self.inputs), tuple(self.outputs), tuple(self.feedback)
        if isinstance(self.dynamics, Engine):
            self.dynamics = RoadRunnerDynamics(self.dynamics, self.options.tolerances, self.signed)
        if not isinstance(self.dynamics, LearnerDynamics):
            raise InvalidValueError(f"EplLearner runs on an Engine or a LearnerDynamics, got "
                                    f"{type(self.dynamics).__name__}.")
        dyn = self.dynamics
        self.signed = dyn.signed
        floating = set(dyn.ids)
        bad = sorted({s for s in self.inputs + self.outputs + self.feedback if s not in floating})
        if bad:
            raise InvalidValueError(
                f"Model {self.model_id!r}: learner nodes {format_ids(bad)} are not floating species "
                f"(floating: {format_ids(dyn.ids, 12)}). Pick input, output and feedback "
                "nodes among the floating species.")
        shared = sorted(set(self.inputs) & set(self.feedback))
        if shared or len(set(self.inputs)) < len(self.inputs) or len(set(self.feedback)) < len(self.feedback):
            raise InvalidValueError(
                f"Model {self.model_id!r}: input and feedback nodes must be distinct; repeated "
                f"{format_ids(shared or [s for s, n in Counter(self.inputs + self.feedback).items() if n > 1])}. "
                "Give each injection its own node.")
        self._in_index = np.array([dyn.index[s] for s in self.inputs], dtype=np.int64)
        self._out_index = np.array([dyn.index[s] for s in self.outputs], dtype=np.int64)
        self._fb_index = np.array([dyn.index[s] for s in self.feedback], dtype=np.int64)
        self._initial: np.ndarray | None = None

    @property
    def model_id(self) -> str:
        dyn = self.dynamics
        return dyn.engine.model_id if isinstance(dyn, RoadRunnerDynamics) else dyn.kernel.spec.name

    @property
    def engine(self) -> Engine:
        """The libRoadRunner engine (only for a learner on the ``roadrunner`` backend)."""
        if not isinstance(self.dynamics, RoadRunnerDynamics):
            raise InvalidValueError(f"Learner {self.model_id!r} runs on the {self.backend!r} backend; it has no "
                                    "libRoadRunner Engine. Build it with backend = 'roadrunner'.")
        return self.dynamics.engine

    @property
    def backend(self) -> str:
        """``"roadrunner"`` or ``"native"``."""
        return "roadrunner" if isinstance(self.dynamics, RoadRunnerDynamics) else "native"

    @property
    def ok(self) -> bool:
        """True until a relaxation has failed."""
        return self.status == "ok"

    def stop(self, status: str, message: str) -> str:
        """Stop the learner with ``status`` (one of :data:`LEARNER_STATUSES`) and the reason."""
        if self.ok:
            self.status, self.message = status, message
        return self.status

    # ------------------------------------------------------------------ internals
    def _diverged(self, largest: float) -> bool:
        """Stop as ``diverged`` if the largest absolute amount is above ``max_amount`` or not finite."""
        if not largest <= self.options.max_amount:  # also catches nan
            self.stop("diverged", f"state diverged (max amount {largest:.3g} > {self.options.max_amount:g} or "
                                  f"non-finite) after {self.steps} steps")
            return True
        return False

    def _inject(self, index: np.ndarray, nodes: tuple[str, ...], amounts: Sequence[float], what: str) -> bool:
        values = np.asarray(amounts, dtype=float)
        if values.shape != (len(nodes),):
            raise InvalidValueError(f"{what} injection: expected {len(nodes)} amounts (one per node "
                                    f"{format_ids(nodes)}). Got shape {values.shape} instead.")
        listed = values.tolist()  # a few values: Python's comparisons beat NumPy's call overhead
        if not all(0.0 <= v < math.inf for v in listed):
            raise InvalidValueError(f"{what} injection must be finite and >= 0 (EPL injects amounts). "
                                    f"Got {listed} instead; encode signed values as two nodes.")
        if not any(listed):
            return True
        return not self._diverged(self.dynamics.add(index, values))

    def _settled(self, kind: str, how: str) -> str:
        self.relaxations[f"{kind}:{how}"] += 1
        self._diverged(self.dynamics.largest())
        return self.status

    def _settle(self, kind: str) -> str:
        """Relax to the learned state (step 1 and step d); see ``settle`` in :class:`LearnerOptions`."""
        opts, dyn = self.options, self.dynamics
        newton = opts.settle == "newton"
        if newton and dyn.newton():
            return self._settled(kind, "newton")
        t, stage = 0.0, 1.0
        while True:
            span = min(stage, opts.settle_t_max) - t if newton else opts.settle_t_max
            result = dyn.relax(span)
            t += result.time
            self.model_time += result.time
            # Newton again from where the trajectory got: after model times 1, 10, 100, ... (as
            # libRoadRunner's presimulation), and to polish a relaxation that passed the residual
            # test (which it can do on a slow manifold short of the equilibrium).
            if newton and result.ended_by in ("time_cap", "converged") and dyn.newton():
                return self._settled(kind, "relaxed_newton")
            if result.ended_by != "time_cap" or t >= opts.settle_t_max * (1.0 - 1e-12):
                break
            stage *= 10.0
        if result.ended_by == "converged":
            return self._settled(kind, "converged")
        self.relaxations[f"{kind}:{result.ended_by}"] += 1
        if result.ended_by == "time_cap":
            return self.stop("not_relaxed", f"{kind} relaxation hit the time cap after {self.steps} steps: "
                                            f"{result.message}")
        # diverged, failed or too_stiff: the learner's status of the same name
        return self.stop(result.ended_by, f"{kind} relaxation stopped after {self.steps} steps: {result.message}")

    # ------------------------------------------------------------------ Algorithm 1
    def initialise(self) -> str:
        """Step 1: relax from the current (initial) state to ``z*``; returns the status."""
        if not self.ok or self._diverged(self.dynamics.largest()):
            return self.status
        self._settle("initial")
        if self.ok:
            self._initial = self.dynamics.amounts()
        return self.status

    def step(self, x: Sequence[float]) -> Response:
        """Steps a-b: inject ``x`` (one amount per input node) and record the response window."""
        empty = np.zeros(len(self.outputs))
        if not self.ok or not self._inject(self._in_index, self.inputs, x, "input"):
            return Response(empty, np.zeros((0, 1 + len(self.outputs))), self.status)
        opts = self.options
        window = self.dynamics.window(opts.response_time, opts.response_points, self._out_index)
        self.relaxations[f"response:{window.ended_by}"] += 1
        self.steps += 1
        if window.ended_by != "ok":
            self.stop(window.ended_by, f"response window stopped at step {self.steps}: {window.message}")
            return Response(empty, window.trace, self.status)
        self.model_time += opts.response_time
        if self._diverged(window.largest):
            return Response(empty, window.trace, self.status)
        return Response(active(window.trace, opts.active, opts.crossing_level), window.trace, self.status)

    def feed_back(self, amounts: Sequence[float]) -> str:
        """Step d: inject the feedback (one amount per feedback node) and settle to the new learned state."""
        if not self.ok or not self._inject(self._fb_index, self.feedback, amounts, "feedback"):
            return self.status
        return self._settle("learning")

    # ------------------------------------------------------------------ inspection
    def learned_state(self) -> dict[str, float]:
        """The current amounts by species id (after :meth:`feed_back`: the learned state ``z*``)."""
        return dict(zip(self.dynamics.ids, self.dynamics.amounts().tolist()))

    def snapshot(self) -> np.ndarray:
        """The whole state (every floating species, momenta included), for :meth:`restore`."""
        return self.dynamics.amounts()

    def restore(self, snapshot: np.ndarray) -> None:
        """Put back a state from :meth:`snapshot` (conserved totals follow); the status is unchanged."""
        snap = np.asarray(snapshot, dtype=float)
        if snap.shape != (len(self.dynamics.ids),):
            raise InvalidValueError(f"Learner {self.model_id!r}: a snapshot holds {len(self.dynamics.ids)} amounts; "
                                    f"got shape {snap.shape}.")
        self.dynamics.write(snap)

    @property
    def initial_state(self) -> np.ndarray | None:
        """The equilibrium :meth:`initialise` reached (None before, or if it failed)."""
        return None if self._initial is None else self._initial.copy()
