"""The EPL learner: Algorithm 1 of Baik & Yoon (2023) on a compiled reaction network.

The parameters theta of the network (its rate constants and structure) are
fixed; what learns is the *state*. With ``z`` the floating-species amounts:

1. ``initialise``: relax from the model's initial state to ``z*``.
2. Each learning step (:meth:`EplLearner.step`):

   a. inject the input: ``z <- z* + I_z x`` (amounts added to the input nodes;
      ``x >= 0``);
   b. relax for ``response_time`` while recording the output nodes' concentrations
      ``O_z z(t)``; the output is ``Active(trace)`` (see :class:`LearnerOptions`);
   c. the caller turns the output into an action or a prediction and gets the
      feedback ``l >= 0`` (from the environment or the loss);
   d. inject it, ``z <- z + F_z l``, and relax to the new equilibrium, the
      learned state ``z*`` (:meth:`EplLearner.feed_back`).

The learned state persists across steps and episodes: nothing is ever reset.
Injections go through :meth:`Engine.inject`, so the network's conserved totals
change by exactly ``Gamma @ injected`` whichever node receives them.

Every relaxation reports how it ended. When one fails (integrator error,
non-finite or diverging state) or does not reach the residual test, the
learner *stops*: :attr:`EplLearner.status` says why and every later call is a
no-op returning the stopped status, so a task loop ends the episode and the
fitness gets the worst value. No exception escapes for a numerical failure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from epl_sysbio.errors import InvalidValueError, check_parameter, format_ids
from epl_sysbio.simulate import Engine
from epl_sysbio.simulate.results import SteadyStateOptions

__all__ = ["LearnerOptions", "Response", "EplLearner", "LearnerSnapshot", "LEARNER_STATUSES", "active"]

#: How a learner can be: still running, or stopped for one of these reasons.
LEARNER_STATUSES = ("ok", "diverged", "failed", "not_relaxed", "too_small")
ACTIVE_RULES = ("mean_change", "mean", "crossings")
SETTLE_METHODS = ("newton", "time_course")


def _is_pos(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


@dataclass(frozen=True, kw_only=True)
class LearnerOptions:
    """How the learner relaxes and reads its outputs.

    Attributes
    ----------
    active : {"mean_change", "mean", "crossings"}
        ``Active(trace)`` of one output node, with ``baseline`` its
        concentration when the input arrived: ``"mean"`` is the time average
        of its concentration over the response window (trapezoid rule),
        ``"mean_change"`` that average minus the baseline (the response the
        input caused), ``"crossings"`` the number of upward crossings of
        ``baseline + crossing_level``.
    crossing_level : float
        Concentration above the baseline that counts as a crossing.
    response_time : float
        Model time of the response relaxation (step b); it ends earlier if the
        residual test passes first.
    response_points : int
        Points recorded in the response window (both ends included).
    settle : {"newton", "time_course"}
        How step 1 and step d relax to the learned state: ``"newton"`` runs
        libRoadRunner's NLEQ2 from the current state and accepts its answer if
        it passes the residual test with no amount below ``-atol`` (the
        equilibrium, not a trajectory, is what the next step needs), else
        integrates as ``"time_course"`` does: until the residual test passes or
        ``settle_t_max`` (then the learner stops as ``not_relaxed``).
    settle_t_max : float
        Time cap of a time-course relaxation (also the initial relaxation's).
    atol, rtol : float
        Residual test ``norm(F) <= atol + rtol * norm(x)`` (x in concentrations).
    max_amount : float
        A state with any amount above this (or non-finite) has diverged.
    max_integrator_steps : int
        CVODE's step limit between two output points (libRoadRunner's
        ``maximum_num_steps``, default 20000). A relaxation that needs more has
        failed: a deterministic cap on the cost of very stiff networks, which
        otherwise take minutes per learner.
    """

    active: str = "mean_change"
    crossing_level: float = 0.05
    response_time: float = 1.0
    response_points: int = 6
    settle: str = "newton"
    settle_t_max: float = 1e3
    atol: float = 1e-8
    rtol: float = 1e-6
    max_amount: float = 1e6
    max_integrator_steps: int = 1000

    def __post_init__(self) -> None:
        own = type(self).__name__
        m = self.max_integrator_steps
        check_parameter(own, "max_integrator_steps", isinstance(m, int) and not isinstance(m, bool) and m >= 10,
                        "an int >= 10", m)
        check_parameter(own, "active", self.active in ACTIVE_RULES, f"one of {list(ACTIVE_RULES)}", self.active)
        check_parameter(own, "settle", self.settle in SETTLE_METHODS, f"one of {list(SETTLE_METHODS)}",
                        self.settle)
        for name in ("crossing_level", "response_time", "settle_t_max", "atol", "rtol", "max_amount"):
            v = getattr(self, name)
            check_parameter(own, name, _is_pos(v), "a float in (0, inf)", v)
        p = self.response_points
        check_parameter(own, "response_points", isinstance(p, int) and not isinstance(p, bool) and p >= 2,
                        "an int >= 2", p)


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
        mean = y[-1].copy() if len(t) < 2 or span <= 0 else np.trapezoid(y, t, axis=0) / span
        return mean - y[0] if rule == "mean_change" else mean
    above = y > y[0] + crossing_level
    return np.count_nonzero(above[1:] & ~above[:-1], axis=0).astype(float)


@dataclass(frozen=True)
class Response:
    """The output of one learning step's response relaxation.

    ``activity`` is ``Active(trace)`` per output node (in the learner's output
    order); ``trace`` has shape (n_points, 1 + n_outputs), time first;
    ``status`` is the learner's status afterwards.
    """

    activity: np.ndarray
    trace: np.ndarray
    status: str


@dataclass(frozen=True)
class LearnerSnapshot:
    """The full state of a learner (:meth:`EplLearner.snapshot`), to return to with :meth:`EplLearner.restore`.

    ``amounts`` are every floating species' amounts (node amounts and
    momenta), shape (n_floating,), in the engine's ``floating_ids`` order;
    ``totals`` the engine's conserved totals, shape (n_totals,) (empty if the
    network has none); ``status`` and ``message`` the learner's status then.
    """

    amounts: np.ndarray
    totals: np.ndarray
    status: str
    message: str


@dataclass
class EplLearner:
    """Algorithm 1 on a compiled network with designated input, output and feedback species.

    Parameters
    ----------
    engine : Engine
        The compiled network; its current state is the learner's state.
    inputs, outputs, feedback : sequence of str
        Floating species ids receiving input injections (``I_z``), read as
        outputs (``O_z``) and receiving feedback injections (``F_z``), in the
        order the task uses them. Inputs and feedback nodes must be distinct
        from each other; outputs may be any species.
    options : LearnerOptions
    signed : sequence of str
        Species that may be negative (momenta of the dynamics' SBML); all
        others must stay >= 0 for a relaxation to count.
    """

    engine: Engine
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
        self.signed = tuple(self.signed)
        floating = set(self.engine.floating_ids)
        bad = sorted({s for s in self.inputs + self.outputs + self.feedback + self.signed if s not in floating})
        if bad:
            raise InvalidValueError(
                f"Model {self.engine.model_id!r}: learner nodes {format_ids(bad)} are not floating species "
                f"(floating: {format_ids(self.engine.floating_ids, 12)}). Pick input, output and feedback "
                "nodes among the floating species.")
        shared = sorted(set(self.inputs) & set(self.feedback))
        if shared or len(set(self.inputs)) < len(self.inputs) or len(set(self.feedback)) < len(self.feedback):
            raise InvalidValueError(
                f"Model {self.engine.model_id!r}: input and feedback nodes must be distinct; repeated "
                f"{format_ids(shared or [s for s, n in Counter(self.inputs + self.feedback).items() if n > 1])}. "
                "Give each injection its own node.")
        self._out_sel = [f"[{s}]" for s in self.outputs]
        self.steady_state_options = SteadyStateOptions(atol=self.options.atol, rtol=self.options.rtol, stability=False,
                                                       relax_t_max=self.options.settle_t_max)
        self._nonnegative = np.array([s not in self.signed for s in self.engine.floating_ids], dtype=bool)
        self.engine.roadrunner.integrator.setValue("maximum_num_steps", self.options.max_integrator_steps)

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
    def _diverged(self) -> bool:
        a = np.abs(self.engine.roadrunner.model.getFloatingSpeciesAmounts())
        if not np.all(np.isfinite(a)) or (len(a) and float(np.max(a)) > self.options.max_amount):
            self.stop("diverged", f"state diverged (max amount {float(np.max(a)) if len(a) else 0:.3g} "
                                  f"> {self.options.max_amount:g} or non-finite) after {self.steps} steps")
            return True
        return False

    def _inject(self, nodes: tuple[str, ...], amounts: Sequence[float], what: str) -> bool:
        values = np.asarray(amounts, dtype=float)
        if values.shape != (len(nodes),):
            raise InvalidValueError(f"{what} injection: expected {len(nodes)} amounts (one per node "
                                    f"{format_ids(nodes)}). Got shape {values.shape} instead.")
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise InvalidValueError(f"{what} injection must be finite and >= 0 (EPL injects amounts). "
                                    f"Got {values.tolist()} instead; encode signed values as two nodes.")
        todo = {s: float(v) for s, v in zip(nodes, values) if v > 0}
        if todo:
            self.engine.inject(todo)
        return not self._diverged()

    def _newton(self) -> bool:
        """libRoadRunner's NLEQ2 from the current state, accepted if it passes the residual test
        with no amount below ``-atol`` (``signed`` species excepted); otherwise the state is put back."""
        eng, opts = self.engine, self.options
        eng.set_start()
        try:
            eng.roadrunner.steadyState()
        except RuntimeError:
            eng.reset()
            return False
        a = eng.roadrunner.model.getFloatingSpeciesAmounts()
        if np.all(np.isfinite(a)) and np.all(a[self._nonnegative] >= -opts.atol) \
                and eng.residual() <= opts.atol + opts.rtol * float(np.linalg.norm(eng.state())):
            return True
        eng.reset()
        return False

    def _settle(self, kind: str) -> str:
        """Relax to the learned state (step 1 and step d): Newton, else (or by option only) a time course."""
        opts = self.options
        if opts.settle == "newton" and self._newton():
            self.relaxations[f"{kind}:newton"] += 1
            self._diverged()
            return self.status
        result = self.engine.relax(t_max=opts.settle_t_max, atol=opts.atol, rtol=opts.rtol)
        self.relaxations[f"{kind}:{result.ended_by}"] += 1
        self.model_time += result.time
        if result.ended_by == "failed":
            return self.stop("failed", f"{kind} relaxation failed after {self.steps} steps: {result.message}")
        if result.ended_by != "converged":
            return self.stop("not_relaxed", f"{kind} relaxation hit the time cap after {self.steps} steps: "
                                            f"{result.message}")
        self._diverged()
        return self.status

    # ------------------------------------------------------------------ Algorithm 1
    def initialise(self) -> str:
        """Step 1: relax from the current (initial) state to ``z*``; returns the status."""
        if not self.ok:
            return self.status
        if self._diverged():
            return self.status
        return self._settle("initial")

    def step(self, x: Sequence[float]) -> Response:
        """Steps a-b: inject ``x`` (one amount per input node) and relax while recording the outputs."""
        empty = np.zeros(len(self.outputs))
        if not self.ok or not self._inject(self.inputs, x, "input"):
            return Response(empty, np.zeros((0, 1 + len(self.outputs))), self.status)
        opts = self.options
        eng = self.engine
        baseline = np.concatenate([[0.0], eng.get_values(self._out_sel)])
        result = eng.relax(self._out_sel, t_max=opts.response_time, first_step=opts.response_time,
                           points_per_chunk=opts.response_points, atol=opts.atol, rtol=opts.rtol)
        self.relaxations[f"response:{result.ended_by}"] += 1
        self.model_time += result.time
        self.steps += 1
        if result.ended_by == "failed":
            self.stop("failed", f"response relaxation failed at step {self.steps}: {result.message}")
            return Response(empty, result.trace, self.status)
        trace = result.trace if len(result.trace) else baseline[None, :]
        if self._diverged():
            return Response(empty, trace, self.status)
        return Response(active(trace, opts.active, opts.crossing_level), trace, self.status)

    def feed_back(self, amounts: Sequence[float]) -> str:
        """Step d: inject the feedback (one amount per feedback node) and relax to the new learned state."""
        if not self.ok or not self._inject(self.feedback, amounts, "feedback"):
            return self.status
        return self._settle("learning")

    # ------------------------------------------------------------------ lifetimes
    def snapshot(self) -> LearnerSnapshot:
        """The learner's full state: every floating species (momenta included), the conserved totals, the status."""
        m = self.engine.roadrunner.model
        return LearnerSnapshot(np.array(m.getFloatingSpeciesAmounts(), dtype=float),
                               np.array(m.getConservedMoietyValues(), dtype=float), self.status, self.message)

    def restore(self, snapshot: LearnerSnapshot) -> None:
        """Return to a :meth:`snapshot` exactly (a new lifetime starts from the initial ``z*`` this way).

        The totals are set explicitly after the amounts: under conserved-moiety
        analysis libRoadRunner computes dependent species from the totals it holds.
        """
        self.engine.write_amounts(snapshot.amounts.copy())
        m = self.engine.roadrunner.model
        if len(snapshot.totals):
            m.setConservedMoietyValues(snapshot.totals.copy())
        m.setTime(0.0)
        self.status, self.message = snapshot.status, snapshot.message

    # ------------------------------------------------------------------ inspection
    def learned_state(self) -> dict[str, float]:
        """The current amounts by species id (after :meth:`feed_back`: the learned state ``z*``)."""
        return self.engine.amounts()
