"""The libRoadRunner steady-state engine.

One :class:`Engine` compiles its model once. Conserved-moiety analysis is
configured once at construction (libRoadRunner's per-call automatic moiety
analysis recompiles the model on every ``steadyState()``: ~9 solves/s instead
of ~65,000/s). Values are read and written by id, never by position: the
floating-species order changes under moiety analysis.

Setting a species amount under moiety analysis goes through
:meth:`Engine.set_amounts`, which recomputes the conserved totals
``T = Gamma @ a`` (``Gamma`` the conservation matrix, ``a`` the new amounts of
all floating species) before writing the amounts. libRoadRunner alone keeps
the old totals when the species is an *independent* one and recomputes the
dependent species instead, so an injection would vanish.

Every answer is judged by the one stopping rule
(:mod:`epl_sysbio.simulate.stopping`, in concentration units), never by
libRoadRunner's own NLEQ2 test; the solver chain is
:mod:`epl_sysbio.simulate.solvers`, the stability verdict
:mod:`epl_sysbio.simulate.stability` (docs/architecture.md draws the path).

Native code that can crash or hang: NLEQ2 loops for ever once a rate is
infinite or a value nears the largest double, so Newton is never started
there (:func:`epl_sysbio.simulate.solvers.guarded_nleq2`); for everything
else, ``Engine(..., isolation=Isolation(timeout=...))`` runs each solve,
relaxation and time course in a forked child process whose crash
or hang becomes a result with a status (:mod:`epl_sysbio.isolation`).
SUNDIALS (CVODE) prints its warnings to stdout by default; they are sent to
stderr (``SUNLOGGER_WARNING_FILENAME``, unless the caller set it), so a
library call never writes to stdout.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import roadrunner

from epl_sysbio.errors import (
    InvalidValueError,
    ModelLoadError,
    NativeCrashError,
    TimeLimitError,
    InstanceOf,
    UnknownIdError,
    checked_number,
    format_ids,
    validate,
)
from epl_sysbio.isolation import Isolation
from epl_sysbio.model import Model
from epl_sysbio.simulate import forked, steady, time_courses
from epl_sysbio.simulate.compiled import compile_sbml, index_model, scale_integrator_tolerance
from epl_sysbio.simulate.limits import moiety_analysis_unsafe, refuse_bad_sizes, refuse_fast_reactions
from epl_sysbio.simulate.results import BatchResult, RelaxResult, SteadyStateOptions, SteadyStateResult
from epl_sysbio.simulate.stability import reduced_eigenvalues

__all__ = ["Engine"]

roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
# SUNDIALS reads this when an integrator is created: its warnings go to stderr, never stdout.
os.environ.setdefault("SUNLOGGER_WARNING_FILENAME", "stderr")


def _conc_id(sid: str) -> str | None:
    return sid[1:-1] if sid.startswith("[") and sid.endswith("]") else None


class Engine:
    """A compiled model for steady states, relaxations and time courses.

    A model with fast reactions (SBML Level 2 and Level 3 Version 1) is
    refused with :class:`~epl_sysbio.errors.UnsupportedModelError`: libRoadRunner
    does not simulate rapid equilibria (a fast reaction's rate law held at
    zero); it refuses such a model, except with moiety analysis, where it
    silently treats fast reactions as ordinary ones and gets trajectories and
    steady states wrong (SBML Test Suite 00870, 01547). Where its moiety
    analysis is wrong (rate rules, computed stoichiometries, conversion
    factors: :mod:`epl_sysbio.simulate.limits`), the engine runs unreduced and
    says why in :attr:`notes`.

    Parameters
    ----------
    model : Model or str
        A :class:`~epl_sysbio.model.Model`, or SBML text.
    options : SteadyStateOptions
        Defaults for :meth:`steady_state`.
    conserved_moiety_analysis : bool
        Reduce the system by its conservation laws (done once, here). If
        libRoadRunner refuses (species defined by rules), the engine runs
        unreduced and says so in :attr:`notes`.
    ignore_events : bool
        Compile the model without its events, so that steady states of the
        event-free ODE can be solved (what COPASI reports for such models).
        By default a model with events gets the status ``unsupported``.
    isolation : Isolation, optional
        Run :meth:`steady_state`, :meth:`relax` and :meth:`time_course` (and
        so each sample of :meth:`steady_state_batch`) in a forked child process
        with ``isolation.timeout`` seconds of wall-clock budget; the engine then
        takes over the child's final state. A crash or a hang of the native
        solvers becomes a ``not_converged`` result (``relax``: ``failed``)
        whose message says what happened; :meth:`time_course` raises
        :class:`~epl_sysbio.errors.TimeLimitError` or
        :class:`~epl_sysbio.errors.NativeCrashError`. Costs a fork per call
        (about 20-30 ms; ``benchmarks/isolation.py``). Needs ``fork`` (Linux, macOS).
    """

    def __init__(
        self,
        model: Model | str,
        *,
        options: SteadyStateOptions | None = None,
        conserved_moiety_analysis: bool = True,
        ignore_events: bool = False,
        isolation: Isolation | None = None,
    ) -> None:
        if isinstance(model, str):
            model = Model.from_sbml(model, source="<engine sbml>")
        if not isinstance(model, Model):
            raise ModelLoadError(f"Engine expects a Model or SBML text, got {type(model).__name__}.")
        validate("Engine", {"options": [InstanceOf(SteadyStateOptions), None],
                            "isolation": [InstanceOf(Isolation), None]}, {"options": options, "isolation": isolation})
        self.isolation = isolation
        self.options = options or SteadyStateOptions()
        self.notes: list[str] = []
        self._twin: Engine | None = None
        self._split: tuple[np.ndarray, np.ndarray] | None = None
        if ignore_events and model.event_ids:
            self.notes.append(f"events {format_ids(model.event_ids)} removed: solving the event-free ODE")
            model = model.copy()
            while model.sbml_model.getNumEvents():
                model.sbml_model.removeEvent(0)
        refuse_fast_reactions(model)
        self.model = model
        refuse_bad_sizes(model)
        sbml = model.sbml_model
        # libRoadRunner 2.10 segfaults in getRatesOfChange() under moiety analysis when a model
        # has reactions but no floating species; there is nothing to reduce then anyway.
        has_floating = any(not s.getBoundaryCondition() for s in sbml.getListOfSpecies())
        want_moieties = conserved_moiety_analysis and sbml.getNumReactions() > 0 and has_floating
        unsafe = moiety_analysis_unsafe(model) if want_moieties else None
        if unsafe:
            want_moieties = False
            self.notes.append(f"conserved-moiety analysis off: {unsafe}")
        # Moiety analysis is asked for at load time: switching it on after loading compiles
        # the model a second time (at 50 species that doubled the time to build an engine).
        self._rr, refusal = compile_sbml(model, want_moieties)
        self.moiety_analysis = bool(self._rr.conservedMoietyAnalysis)
        if refusal:
            self.notes.append(f"conserved-moiety analysis refused by libRoadRunner ({refusal}); running unreduced")
        solver = self._rr.getSteadyStateSolver()
        for key, value in (("auto_moiety_analysis", False), ("allow_presimulation", False), ("allow_approx", False)):
            solver.setValue(key, value)
        self.event_ids = tuple(model.event_ids)
        self.model_id = model.id
        self.time_dependent = model.uses_time
        if self.time_dependent:
            self.notes.append("rate laws or rules depend on time: steady states are long-time limits")
        index_model(self)
        scale_integrator_tolerance(self)
        self._start = self._snapshot()

    def _settable_ids(self) -> list[str]:
        return [p for p in self.parameter_ids + self.compartment_ids + self.boundary_ids if p not in self._fixed]

    def _mapping(self, values: object, what: str) -> Mapping:
        if not isinstance(values, Mapping):
            raise InvalidValueError(f"Model {self.model_id!r}: {what} takes a mapping of id -> number, e.g. "
                                    f"{{'S': 1.0}}. Got {values!r} ({type(values).__name__}) instead.")
        return values

    def _volumes(self) -> np.ndarray:
        """Compartment volume of each floating species, in :attr:`floating_ids` order."""
        return self._m.getCompartmentVolumes()[self._volume_index]

    def __repr__(self) -> str:
        return (
            f"Engine({self.model.id!r}, species={len(self.floating_ids)}, reactions={len(self.reaction_ids)}, "
            f"moiety_analysis={self.moiety_analysis})"
        )

    @property
    def _m(self) -> roadrunner.ExecutableModel:
        # Never cache this handle: libRoadRunner may replace the executable model inside a
        # call, and a stale handle segfaults.
        return self._rr.model

    @property
    def roadrunner(self) -> roadrunner.RoadRunner:
        """The compiled libRoadRunner instance (use with care: set species through the engine)."""
        return self._rr

    # ---------------------------------------------------------------- reading
    def amounts(self) -> dict[str, float]:
        """Current floating species amounts by id."""
        return dict(zip(self.floating_ids, self._rr.model.getFloatingSpeciesAmounts().tolist()))

    def concentrations(self) -> dict[str, float]:
        """Current floating species concentrations by id."""
        return dict(zip(self.floating_ids, self._rr.model.getFloatingSpeciesConcentrations().tolist()))

    def get_value(self, sid: str) -> float:
        """Current value of an id; ``"[S]"`` is a concentration, ``"S"`` an amount for species."""
        self._require([sid])
        return float(self._rr.getValue(sid))

    def get_values(self, ids: Sequence[str]) -> np.ndarray:
        self._require(ids)
        return np.array([self._rr.getValue(s) for s in ids], dtype=float)

    def conserved_totals(self) -> dict[str, float]:
        """Conserved moiety totals (amounts) by libRoadRunner's ``_CSUM`` ids; empty if none."""
        m = self._rr.model
        return dict(zip(m.getConservedMoietyIds(), np.asarray(m.getConservedMoietyValues()).tolist()))

    @property
    def conservation_matrix(self) -> np.ndarray | None:
        """Gamma, shape (n_totals, n_floating), columns in :attr:`floating_ids` order; None if none."""
        return None if self._gamma is None else self._gamma.copy()

    def rates_of_change(self) -> np.ndarray:
        """F(x): concentration rates of every floating species (in :attr:`floating_ids`
        order; amount rates divided by the compartment volume), then the
        rate-rule variables' rates."""
        f = self._rr.getRatesOfChange()
        if self._link is not None:
            species = self._link @ f[self._species_pos]
        else:
            # Species defined by assignment rules are algebraic, not state: rate 0 here.
            species = np.zeros(len(self.floating_ids))
            species[self._state_species] = f[self._species_pos]
        if len(species):
            species = species / self._volumes()
        return np.concatenate([species, f[self._rule_pos]]) if len(self._rule_pos) else species

    def state(self) -> np.ndarray:
        """x: floating species concentrations, then rate-rule variables."""
        conc = self._m.getFloatingSpeciesConcentrations()
        if not self.rate_rule_ids:
            return conc
        return np.concatenate([conc, [self._rr.getValue(s) for s in self.rate_rule_ids]])

    def residual(self) -> float:
        """Euclidean norm of F(x) at the current state."""
        f = self.rates_of_change()
        return math.sqrt(float(f @ f))

    def _converged(self, options: SteadyStateOptions) -> bool:
        """The options' stopping rule at the current state, at a physical point (no concentration
        below ``-tol``: Newton can land on negative roots)."""
        return options.stopping.steady(self.rates_of_change(), self.state(), len(self.floating_ids))

    # ---------------------------------------------------------------- writing
    def _require(self, ids) -> None:
        missing = []
        for sid in ids:
            base = _conc_id(sid) or sid
            if base not in self._known:
                missing.append(sid)
        if missing:
            raise UnknownIdError(
                f"Model {self.model.id!r}: unknown ids {format_ids(missing)}. Known species: "
                f"{format_ids(self.floating_ids + self.boundary_ids, 12) or 'none'}; parameters: "
                f"{format_ids(self.parameter_ids, 12) or 'none'}. Use a species id (amount), "
                "'[id]' (concentration), a parameter or a compartment id."
            )

    def write_amounts(self, amounts: np.ndarray) -> None:
        """Write all floating species amounts at once, in ``floating_ids`` order; conserved totals follow.

        The unchecked fast path for code that already holds a full amount vector
        (finite differences, Newton steps, restoring a snapshot): any real value
        is written, and entries of species defined by assignment rules are
        ignored. Use :meth:`set_amounts` or :meth:`inject` for checked writes by id.
        """
        if np.shape(amounts) != (len(self.floating_ids),):
            raise InvalidValueError(
                f"Model {self.model.id!r}: write_amounts needs one amount per floating species, shape "
                f"({len(self.floating_ids)},) in floating_ids order; got shape {np.shape(amounts)}."
            )
        m = self._m
        if self._gamma is not None:
            m.setConservedMoietyValues(self._gamma @ amounts)
        if len(self._writable) == 0:
            return  # libRoadRunner 2.10 segfaults on an empty write
        if len(self._writable) == len(amounts):
            m.setFloatingSpeciesAmounts(amounts)
        elif len(self._writable):
            m.setFloatingSpeciesAmounts(self._writable, amounts[self._writable])

    def set_amounts(self, amounts: Mapping[str, float]) -> None:
        """Set floating species amounts by id; conserved totals change accordingly."""
        self._set_species(self._mapping(amounts, "set_amounts"), add=False)

    def inject(self, amounts: Mapping[str, float]) -> None:
        """Add amounts to floating species by id; conserved totals change by exactly the added amounts.

        The resulting amounts must stay >= 0.
        """
        self._set_species(self._mapping(amounts, "inject"), add=True)

    def _set_species(self, amounts: Mapping[str, float], *, add: bool) -> None:
        bad = [s for s in amounts if s not in self._float_index]
        if bad:
            self._require(bad)  # unknown ids get the full message
            raise InvalidValueError(
                f"Model {self.model.id!r}: {format_ids(bad)} are not floating species; "
                "set boundary species and parameters with set_values()."
            )
        fixed = sorted(set(amounts) & self._fixed)
        if fixed:
            raise InvalidValueError(
                f"Model {self.model.id!r}: {format_ids(fixed)} are defined by assignment rules and cannot be set."
            )
        current = self._m.getFloatingSpeciesAmounts()
        for sid, value in amounts.items():
            v = checked_number(self.model_id, sid, value, nonnegative=not add)
            i = self._float_index[sid]
            current[i] = current[i] + v if add else v
            if current[i] < 0:
                raise InvalidValueError(
                    f"Model {self.model.id!r}: injecting {v!r} into {sid!r} would make its amount negative "
                    f"({current[i]!r}). Inject at most the current amount."
                )
        self.write_amounts(current)

    def set_values(self, values: Mapping[str, float]) -> None:
        """Set values by id: ``"S"`` species amount, ``"[S]"`` species concentration,
        parameters, compartment volumes, boundary species. Everything is checked
        before anything changes."""
        self._require(self._mapping(values, "set_values"))
        amounts: dict[str, float] = {}
        others: list[tuple[str, float]] = []
        vols = None
        for sid, value in values.items():
            base = _conc_id(sid) or sid
            species_like = base in self._float_index or base in self.boundary_ids or base in self.compartment_ids
            v = checked_number(self.model_id, sid, value, nonnegative=species_like)
            if base in self.compartment_ids and v == 0:
                raise InvalidValueError(f"Model {self.model_id!r}: compartment {base!r} must have a size > 0 "
                                        "(concentrations divide by it). Got 0.0 instead.")
            if base in self._float_index:
                if _conc_id(sid):
                    vols = self._m.getCompartmentVolumes() if vols is None else vols
                    v *= vols[self._volume_index[self._float_index[base]]]
                amounts[base] = v
            else:
                if base in self._fixed:
                    raise InvalidValueError(
                        f"Model {self.model.id!r}: {base!r} is defined by an assignment rule and cannot be set."
                    )
                others.append((sid, v))
        for sid, v in others:
            self._rr.setValue(sid, v)
        if amounts:
            self.set_amounts(amounts)

    # ---------------------------------------------------------------- start state
    def _snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            self._m.getFloatingSpeciesAmounts(),
            np.array([self._rr.getValue(s) for s in self.rate_rule_ids], dtype=float),
        )

    def _restore(self, snap: tuple[np.ndarray, np.ndarray]) -> None:
        self.write_amounts(snap[0].copy())
        for sid, v in zip(self.rate_rule_ids, snap[1]):
            self._rr.setValue(sid, float(v))
        self._m.setTime(0.0)

    def reset(self) -> None:
        """Return species and rate-rule variables to the start state (parameters keep their values)."""
        self._restore(self._start)

    def set_start(self) -> None:
        """Make the current state the start state that :meth:`reset` returns to."""
        self._start = self._snapshot()

    # ---------------------------------------------------------------- time courses
    def time_course(self, t_end: float, points: int = 101, selections: Sequence[str] | None = None) -> np.ndarray:
        """Integrate from the current state for ``t_end`` model time units.

        ``selections`` are species amounts (``"S"``), concentrations (``"[S]"``),
        parameters, compartments and reaction ids (their rates); by default the
        concentrations and rate-rule variables. Returns an array of shape
        (points, 1 + len(selections)), time first. The state is left at the end point.
        """
        if self.isolation is not None:
            return forked.call(self, "time_course", t_end, points, selections)
        return time_courses.time_course(self, t_end, points, selections)

    def relax(
        self,
        selections: Sequence[str] = (),
        *,
        t_max: float | None = None,
        atol: float | None = None,
        rtol: float | None = None,
        first_step: float = 0.1,
        points_per_chunk: int = 5,
        restart_time: bool = True,
    ) -> RelaxResult:
        """Integrate until ``norm(F) <= atol + rtol * norm(x)`` or ``t_max``.

        Integration proceeds in chunks whose length doubles, starting from
        ``first_step``; the residual test (x in concentrations) is applied at
        the end of each chunk. Model time restarts at 0 unless ``restart_time``
        is False (time-dependent models continue their clock; ``t_max`` then
        counts from the current time). The trace starts at the start state, so
        it holds one row even when that state already passes the test.
        """
        if self.isolation is not None:
            kwargs = dict(t_max=t_max, atol=atol, rtol=rtol, first_step=first_step,
                          points_per_chunk=points_per_chunk, restart_time=restart_time)
            try:
                return forked.call(self, "relax", selections, **kwargs)
            except (TimeLimitError, NativeCrashError) as exc:
                return RelaxResult("failed", float(self._m.getTime()), self.residual(), np.zeros((0, 1 + len(selections))),
                                   tuple(selections), str(exc))
        return time_courses.relax(self, selections, t_max=t_max, atol=atol, rtol=rtol, first_step=first_step,
                                  points_per_chunk=points_per_chunk, restart_time=restart_time)

    # ---------------------------------------------------------------- steady state
    def steady_state(
        self,
        values: Mapping[str, float] | None = None,
        *,
        start: str = "current",
        options: SteadyStateOptions | None = None,
        throw: bool = False,
    ) -> SteadyStateResult:
        """Solve for a steady state.

        Parameters
        ----------
        values : mapping, optional
            Applied with :meth:`set_values` first.
        start : {"current", "reset"}
            Start from the current state (warm start), or :meth:`reset` first.
        throw : bool
            Raise :class:`SteadyStateError` unless the result is a stable steady state,
            or an unchecked one when stability checking is off.

        Notes
        -----
        The solvers of :mod:`epl_sysbio.simulate.solvers` are tried in order,
        each from the start state, until the options' stopping rule
        ``norm(F) <= atol + rtol * norm(x)`` passes (x in concentrations, no
        concentration below ``-tol``): Newton (NLEQ2); presimulation to each of
        ``presimulation_times`` then Newton; relaxation by time course, polished
        by a state-space Newton; for a moiety-reduced engine, an unreduced twin.
        Models with rate rules go straight to
        relaxation (NLEQ2 ignores rate rules), so do unreduced models with
        conservation laws (NLEQ2's Jacobian is singular there), and so do models
        whose rates depend on ``time`` (NLEQ2 evaluates them at t = 0), after a
        time course to the last presimulation time: their steady state is the
        long-time limit.
        Stability comes from the eigenvalues of the reduced Jacobian
        (:func:`epl_sysbio.simulate.stability.judge`); with
        ``options.stability`` off a converged point is ``unchecked``. When no
        method succeeds, the state returns to where the solve started.
        """
        return steady.solve(self, values, start, options, throw)

    def steady_state_batch(
        self,
        inputs: Sequence[Mapping[str, float]],
        outputs: Sequence[str] | None = None,
        *,
        start: str = "reset",
        options: SteadyStateOptions | None = None,
    ) -> BatchResult:
        """Steady states for many input assignments, in order, on this compiled model.

        ``start="reset"`` restores the start state before each sample, so results do
        not depend on order; ``start="warm"`` starts each sample from the previous
        sample's end state (faster along a smooth path; recorded in the result).
        Outputs are concentrations of floating species by default.
        """
        return steady.solve_batch(self, inputs, outputs, start, options)

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the reduced Jacobian at the current state.

        With moiety analysis and no rate rules: libRoadRunner's reduced Jacobian.
        Otherwise: the finite-difference state Jacobian, projected onto the
        range of the stoichiometry (conservation laws removed), rate-rule
        variables kept whole.
        """
        return reduced_eigenvalues(self)
