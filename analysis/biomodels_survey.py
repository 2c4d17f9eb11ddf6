"""libRoadRunner used directly on the curated BioModels: what it gets wrong, and the recipes that reproduce COPASI.

The survey behind docs/biomodels_findings.md (moved here from the tests: it
studies libRoadRunner, it does not test this package). Two parts:

- ``--facts`` (the default): re-measures the libRoadRunner behaviours the
  findings and the engine's design rest on (NLEQ2 judged in amounts on a
  1e-16 L synapse, ``time`` evaluated at 0, moiety analysis switched on after a
  time course changing the totals, events refused, BIOMD0000000033 needing
  presimulation), each against COPASI;
- ``--models 0009 0853 ...`` (or ``--models all``): the full survey, one
  section per model: COPASI, plain libRoadRunner, the recipe.

The :class:`~epl_sysbio.simulate.Engine` is compared with COPASI by
tests/test_real_models.py; nothing here is used by the package. Run from the
repository root (COPASI, a dev dependency, is needed)::

    .venv/bin/python analysis/biomodels_survey.py                   # the facts, ~1 min
    .venv/bin/python analysis/biomodels_survey.py --models all      # all models, ~2 min

Ends with one JSON line: each fact's measured figures and whether it still holds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from copasi_reference import (  # noqa: E402  (test helper: COPASI's answer by SBML id)
    BIOMODELS_DIR,
    copasi_rate_mismatches,
    copasi_steady_state,
    kinetic_laws_to_assignment_rules,
    max_relative_difference,
    read_sbml,
    stability_word,
)


@dataclass(frozen=True)
class RoadRunnerSteadyState:
    """What libRoadRunner says; same keys and meaning as CopasiSteadyState.

    ``status`` is ``"found"``, ``"time course"`` (no Newton; the end of a
    time course) or ``"failed: <libRoadRunner's message>"``; ``residual`` is
    what ``steadyState()`` returned; ``relative_rate`` is an independent
    check, ``max |d[X]/dt| / |[X]|`` (1/time) over the floating species above
    1e-12 times the largest concentration (``nan`` if not computed).  Trust
    the latter: on BIOMD0000000628 (events allowed, Spine = 1) steadyState()
    returned 6.9e-13 at a point where it is 0.13 /s;
    ``recipe`` lists the calls that were made, in order.
    """

    status: str
    stability: str
    concentrations: dict[str, float]
    ode_values: dict[str, float]
    eigenvalues: np.ndarray
    max_real_eigenvalue: float
    residual: float
    relative_rate: float
    recipe: tuple[str, ...]
    seconds: float
    conserved_moiety_analysis: bool
    extra: dict = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.status in ("found", "time course")




def roadrunner_reference(
    sbml_path_or_string: str | os.PathLike,
    changes: dict[str, float] | None = None,
    *,
    moiety: bool = True,
    presimulation_time: float | None = None,
    timecourse_to: float | None = None,
    integrator_absolute_tolerance: float | None = None,
    solve: bool = True,
    allow_events: bool = False,
    relative_tolerance: float = 1e-12,
    eigen_tol: float = 1e-9,
) -> RoadRunnerSteadyState:
    """Solve a steady state with libRoadRunner the way an engine should.

    Recipe, in this order (the order matters, see step 2):

    1. ``r = RoadRunner(sbml)``;
    2. ``r.conservedMoietyAnalysis = moiety`` *once, before anything else*
       (if libRoadRunner refuses, e.g. species set by rules, it stays
       ``False`` and ``recipe`` says so);
    3. apply ``changes`` to initial values by id (``init([S])`` for species,
       ``init(p)`` for parameters and compartments) and ``reset()`` so that
       initial assignments and conserved totals are re-evaluated;
    4. optionally tighten CVODE (``integrator_absolute_tolerance``, in
       amounts; needed when compartments are ~1e-15 L and amounts ~1e-22) and
       ``simulate(0, timecourse_to)``: a plain time course whose end is the
       Newton start;
    5. ``steadyStateSolver.auto_moiety_analysis = False`` (no per-call
       recompilation) and, if ``presimulation_time`` is given,
       ``allow_presimulation = True``, ``presimulation_time = ...``;
    6. if ``solve``: ``r.steadyState()`` (NLEQ2).  With ``solve=False`` the
       time-course end state is the answer (``status="time course"``).
       libRoadRunner refuses models with events unless the process-global
       ``Config.ALLOW_EVENTS_IN_STEADY_STATE_CALCULATIONS`` is set;
       ``allow_events=True`` sets it for this call only (events are then
       ignored by the solve, not fired).
    7. read ``[id]`` of every floating species, rate-rule values and
       ``getReducedEigenValues()``.

    Note that ``steadyState()`` solves at time 0: explicit ``time`` in rate
    laws or rules is evaluated at t = 0 (BIOMD0000000853).
    """
    import roadrunner

    text = read_sbml(sbml_path_or_string)
    start = time.perf_counter()
    recipe: list[str] = ["r = roadrunner.RoadRunner(sbml)"]
    r = roadrunner.RoadRunner(text)
    # Moiety analysis FIRST: switching it on after a simulate() recompiles the
    # model and computes the conserved totals (_CSUM*) from a mix of current
    # and initial values, silently changing the problem (measured on
    # BIOMD0000000033: EGF total 1.0002e7 became 9.922e6).
    used_moiety = False
    if moiety:
        try:
            r.conservedMoietyAnalysis = True
            used_moiety = True
            recipe.append("r.conservedMoietyAnalysis = True")
        except RuntimeError as exc:
            recipe.append(f"r.conservedMoietyAnalysis = True REFUSED ({exc}); left False")
    if changes:
        species = set(r.model.getFloatingSpeciesIds()) | set(r.model.getBoundarySpeciesIds())
        for sid in sorted(changes):
            key = f"init([{sid}])" if sid in species else f"init({sid})"
            r.setValue(key, float(changes[sid]))
            recipe.append(f"r.setValue({key!r}, {changes[sid]!r})")
        # reset() re-evaluates initial assignments and recomputes the totals.
        r.reset()
        recipe.append("r.reset()")
    if integrator_absolute_tolerance is not None:
        r.integrator.absolute_tolerance = integrator_absolute_tolerance
        r.integrator.relative_tolerance = 1e-12
        recipe.append(
            f"r.integrator.absolute_tolerance = {integrator_absolute_tolerance}; r.integrator.relative_tolerance = 1e-12"
        )
    if timecourse_to is not None:
        r.simulate(0, timecourse_to, 2)
        recipe.append(f"r.simulate(0, {timecourse_to}, 2)")
    solver = r.steadyStateSolver
    solver.auto_moiety_analysis = False
    solver.relative_tolerance = relative_tolerance
    recipe.append("r.steadyStateSolver.auto_moiety_analysis = False")
    if presimulation_time is not None:
        solver.allow_presimulation = True
        solver.presimulation_time = float(presimulation_time)
        recipe.append(f"r.steadyStateSolver.allow_presimulation = True; presimulation_time = {presimulation_time}")
    status = "found"
    residual = float("nan")
    if solve:
        key = roadrunner.Config.ALLOW_EVENTS_IN_STEADY_STATE_CALCULATIONS
        previous = roadrunner.Config.getValue(key)
        if allow_events:
            roadrunner.Config.setValue(key, True)
            recipe.append("roadrunner.Config.setValue(Config.ALLOW_EVENTS_IN_STEADY_STATE_CALCULATIONS, True)")
        try:
            residual = float(r.steadyState())
            recipe.append("r.steadyState()")
        except RuntimeError as exc:
            status = f"failed: {str(exc).strip()}"
            recipe.append("r.steadyState() RAISED")
        finally:
            roadrunner.Config.setValue(key, previous)
    else:
        status = "time course"
    concentrations = {sid: float(r[f"[{sid}]"]) for sid in _variable_species_ids(r)}
    ode_values = {sid: float(r[sid]) for sid in _rate_rule_ids(r)}
    eigenvalues = np.array([], dtype=complex)
    if not status.startswith("failed") and r.model.getNumFloatingSpecies() > 0:
        try:
            eigenvalues = np.asarray(r.getReducedEigenValues(), dtype=complex).ravel()
        except RuntimeError as exc:
            recipe.append(f"getReducedEigenValues RAISED ({exc})")
    max_real = float(eigenvalues.real.max()) if eigenvalues.size else float("nan")
    relative_rate = _relative_rate(r)
    if status.startswith("failed"):
        concentrations = {k: float("nan") for k in concentrations}
    return RoadRunnerSteadyState(
        status=status,
        stability=stability_word(max_real, eigen_tol),
        concentrations=concentrations,
        ode_values=ode_values,
        eigenvalues=eigenvalues,
        max_real_eigenvalue=max_real,
        residual=residual,
        relative_rate=relative_rate,
        recipe=tuple(recipe),
        seconds=time.perf_counter() - start,
        conserved_moiety_analysis=used_moiety,
    )




def roadrunner_full_state_newton(
    sbml_path_or_string: str | os.PathLike,
    *,
    timecourse_to: float,
    xtol: float = 1e-13,
    eigen_tol: float = 1e-9,
) -> RoadRunnerSteadyState:
    """Steady state of the FULL ODE, rate-rule variables included.

    ``RoadRunner.steadyState()`` solves only the floating species; rate-rule
    variables (Hodgkin-Huxley's V, m, h, n) are left where they are.  This
    treats both as state: y = (floating species amounts, rate-rule values),
    f(y) = (rate-rule rates, d amounts/dt).  libRoadRunner 2.10's Python
    ExecutableModel has no getStateVector/getStateVectorRate (and
    ``getRateRuleRates`` wants a C buffer), so the state ids are read from the
    column names of ``r.getRatesOfChangeNamedArray()``, the state is written
    with ``r.model.setValue(id, value)`` (a species id means its amount) and
    f is ``r.getRatesOfChange()`` in the same order.

    Recipe: ``simulate(0, timecourse_to)`` (CVODE) to reach the basin, then
    ``scipy.optimize.root(method="hybr")`` on f with a finite-difference
    Jacobian, whose eigenvalues give the stability verdict.  Events are not
    fired during the Newton phase (there is no time), so on an event model the
    result is a fixed point of the continuous flow only.  Meant for models
    without conserved moieties (the rate-rule neurons 0020 and 0127): with
    conservation laws this full Jacobian is singular and has zero eigenvalues.
    """
    import roadrunner
    from scipy.optimize import root

    text = read_sbml(sbml_path_or_string)
    start = time.perf_counter()
    r = roadrunner.RoadRunner(text)
    r.simulate(0, timecourse_to, 2)
    # The columns of getRatesOfChangeNamedArray name the state vector
    # ("V'", "S1'", ...): rate-rule variables and floating species amounts.
    state_ids = [str(c).rstrip("'") for c in r.getRatesOfChangeNamedArray().colnames]
    species = list(r.model.getFloatingSpeciesIds())

    def set_state(y: np.ndarray) -> None:
        for sid, value in zip(state_ids, y):
            r.model.setValue(sid, float(value))

    def rhs(y: np.ndarray) -> np.ndarray:
        set_state(y)
        return np.asarray(r.getRatesOfChange(), dtype=float)

    y0 = np.array([r.model.getValue(sid) for sid in state_ids], dtype=float)
    sol = root(rhs, y0, method="hybr", options={"xtol": xtol})
    y = sol.x
    f = rhs(y)
    # Central finite-difference Jacobian at the solution, for stability.
    jac = np.empty((y.size, y.size))
    for j in range(y.size):
        h = 1e-7 * max(abs(y[j]), 1e-6)
        yp, ym = y.copy(), y.copy()
        yp[j] += h
        ym[j] -= h
        jac[:, j] = (rhs(yp) - rhs(ym)) / (2 * h)
    set_state(y)
    eigenvalues = np.linalg.eigvals(jac)
    max_real = float(eigenvalues.real.max()) if eigenvalues.size else float("nan")
    concentrations = {sid: float(r[f"[{sid}]"]) for sid in species}
    ode_values = {sid: float(v) for sid, v in zip(state_ids, y) if sid not in species}
    return RoadRunnerSteadyState(
        status="found" if sol.success else f"failed: {sol.message}",
        stability=stability_word(max_real, eigen_tol),
        concentrations=concentrations,
        ode_values=ode_values,
        eigenvalues=eigenvalues,
        max_real_eigenvalue=max_real,
        residual=float(np.linalg.norm(f)),
        relative_rate=float("nan"),
        recipe=(
            "r = roadrunner.RoadRunner(sbml)",
            f"r.simulate(0, {timecourse_to}, 2)",
            "scipy.optimize.root(hybr) on y -> (model.setValue(id, y_i) for id in state ids; r.getRatesOfChange())",
        ),
        seconds=time.perf_counter() - start,
        conserved_moiety_analysis=False,
        extra={"jacobian": jac, "state_ids": state_ids},
    )


def species_rules_to_parameters(sbml_path_or_string: str | os.PathLike) -> tuple[str, list[str]]:
    """Turn species that are set by assignment rules into global parameters.

    libRoadRunner refuses conserved-moiety analysis when a floating species is
    defined by a rule ("Cannot perform moiety conversion when floating species
    are defined by rules", BIOMD0000000009).  Such species are read-outs (in
    0009 normalised totals): as parameters with the same id and rule the
    dynamics are unchanged and moiety analysis is allowed.  Returns the new
    SBML text and the converted ids (sorted).
    """
    import libsbml

    document = libsbml.readSBMLFromString(read_sbml(sbml_path_or_string))
    model = document.getModel()
    converted = []
    for rule in model.getListOfRules():
        species = model.getSpecies(rule.getVariable())
        if species is None or not rule.isAssignment():
            continue
        sid = species.getId()
        parameter = model.createParameter()
        parameter.setId(sid)
        parameter.setConstant(False)
        parameter.setValue(0.0)
        if species.isSetName():
            parameter.setName(species.getName())
        model.removeSpecies(sid)
        converted.append(sid)
    return libsbml.writeSBMLToString(document), sorted(converted)


def _relative_rate(r) -> float:
    """max |d[X]/dt| / |[X]| over floating species above 1e-12 * max |[X]|.

    Under moiety analysis getFloatingSpeciesConcentrationRates() returns the
    independent species only, which come first in getFloatingSpeciesIds()
    order; the dependent ones follow from the conservation laws.  Skipped on
    models without floating species: there (BIOMD0000000020, moiety analysis
    on) libRoadRunner 2.10's getRatesOfChange() segfaults.
    """
    if r.model.getNumFloatingSpecies() == 0:
        return float("nan")
    rates = np.abs(np.asarray(r.model.getFloatingSpeciesConcentrationRates(), dtype=float))
    values = np.abs(np.asarray(r.model.getFloatingSpeciesConcentrations(), dtype=float))[: rates.size]
    scale = 1e-12 * max(float(np.abs(np.asarray(r.model.getFloatingSpeciesConcentrations())).max()), 1e-300)
    keep = values > scale
    return float((rates[keep] / values[keep]).max()) if keep.any() else 0.0


def _variable_species_ids(r) -> list[str]:
    """Floating species plus species set by rules, as COPASI lists them.

    libRoadRunner files a species driven by an assignment or rate rule under
    *boundary* species; COPASI gives it status ASSIGNMENT / ODE (not FIXED).
    """
    ruled = set(r.getAssignmentRuleIds()) | set(_rate_rule_ids(r))
    boundary = [sid for sid in r.model.getBoundarySpeciesIds() if sid in ruled]
    return list(r.model.getFloatingSpeciesIds()) + boundary


def _rate_rule_ids(r) -> list[str]:
    """SBML ids of the rate-rule variables (libRoadRunner 2.10: getRateRuleSymbols)."""
    return [str(s) for s in r.model.getRateRuleSymbols()]


# ---------------------------------------------------------------- the survey, one model at a time

def _recipe_0009():
    sbml, _ = species_rules_to_parameters("BIOMD0000000009.xml")
    return roadrunner_reference(sbml, {"compartment": 1.0})


# model -> (recipe description, callable returning a RoadRunnerSteadyState)
RECIPES = {
    "0009": (
        "species_rules_to_parameters, then compartment=1 (init), moiety analysis, steadyState",
        _recipe_0009,
    ),
    "0010": ("plain: moiety analysis, steadyState", lambda: roadrunner_reference("BIOMD0000000010.xml")),
    "0020": (
        "full-state Newton on rate rules after simulate(0, 200)",
        lambda: roadrunner_full_state_newton("BIOMD0000000020.xml", timecourse_to=200),
    ),
    "0033": (
        "moiety analysis, presimulation_time=1000, steadyState",
        lambda: roadrunner_reference("BIOMD0000000033.xml", presimulation_time=1000),
    ),
    "0127": (
        "full-state Newton on the rate rules after simulate(0, 5) (before the t > 10 event)",
        lambda: roadrunner_full_state_newton("BIOMD0000000127.xml", timecourse_to=5),
    ),
    "0183": (
        "no moiety analysis, CVODE abs tol 1e-30 / rel 1e-12, simulate(0, 1e4), no Newton",
        lambda: roadrunner_reference(
            "BIOMD0000000183.xml", moiety=False, integrator_absolute_tolerance=1e-30, timecourse_to=1e4, solve=False
        ),
    ),
    "0569": (
        "moiety analysis, synapse=1 (init; concentrations unchanged), simulate(0, 100), steadyState",
        lambda: roadrunner_reference("BIOMD0000000569.xml", {"synapse": 1.0}, timecourse_to=100),
    ),
    "0628": (
        "equilibriumTime parameter_2=1e9 (init; no stimulus train), no moiety analysis, "
        "CVODE abs tol 1e-24 / rel 1e-12, simulate(0, 2000), no Newton",
        lambda: roadrunner_reference(
            "BIOMD0000000628.xml",
            {"parameter_2": 1e9},
            moiety=False,
            integrator_absolute_tolerance=1e-24,
            timecourse_to=2000,
            solve=False,
        ),
    ),
    "0635": ("plain: moiety analysis, steadyState", lambda: roadrunner_reference("BIOMD0000000635.xml")),
    "0853": (
        "tstimdur=-1 (init), moiety analysis, steadyState",
        lambda: roadrunner_reference("BIOMD0000000853.xml", {"tstimdur": -1.0}),
    ),
}


# model -> SBML to give COPASI instead of the file, when its import is wrong.
COPASI_INPUT = {
    "0183": lambda: kinetic_laws_to_assignment_rules(
        "BIOMD0000000183.xml", ["reaction_129", "reaction_130", "reaction_131", "reaction_132"]
    ),
}


def _values(result) -> dict[str, float]:
    return {**result.concentrations, **result.ode_values}


def _compare(reference: dict[str, float], other: dict[str, float]) -> str:
    shared = sorted(set(reference) & set(other))
    if not shared:
        return "nothing to compare"
    relative, where = max_relative_difference(reference, other)
    absolute = max(abs(reference[k] - other[k]) for k in shared)
    return f"max rel diff {relative:.3g} (at {where}), max abs diff {absolute:.3g}, {len(shared)} ids"


def survey(model: str) -> None:
    name = f"BIOMD000000{model}.xml"
    print(f"## {model}")
    mismatches = copasi_rate_mismatches(name)
    print(f"reaction rates COPASI != libRoadRunner at a random state: {sorted(mismatches) or 'none'}")
    copasi = copasi_steady_state(name, mca=True)
    if model in COPASI_INPUT:
        raw = copasi
        copasi = copasi_steady_state(COPASI_INPUT[model](), mca=True)
        print(f"COPASI on the file as is: {raw.status}, max Re(eig) {raw.max_real_eigenvalue:.6g}; "
              f"vs COPASI on the rewritten file: {_compare(_values(copasi), _values(raw))}")
        print("COPASI below is on the rewritten file (kinetic_laws_to_assignment_rules)")
    print(
        f"COPASI: {copasi.status}, {copasi.stability}, max Re(eig) {copasi.max_real_eigenvalue:.6g}; "
        f"steady state {copasi.seconds_steady_state:.3f} s, MCA {copasi.seconds_mca:.3f} s "
        f"({'no CCs' if copasi.scaled_cc is None else f'{len(copasi.scaled_cc)} CCs'})"
    )
    if copasi.message:
        print("  COPASI says: " + copasi.message.replace("\n", " | ")[:400])
    start = time.perf_counter()
    plain = roadrunner_reference(name)
    print(
        f"libRoadRunner plain ({time.perf_counter() - start:.2f} s): {plain.status[:160]}, {plain.stability}, "
        f"max Re(eig) {plain.max_real_eigenvalue:.6g}; {_compare(_values(copasi), _values(plain))}"
    )
    description, recipe = RECIPES[model]
    start = time.perf_counter()
    matched = recipe()
    print(
        f"libRoadRunner recipe [{description}] ({time.perf_counter() - start:.2f} s): {matched.status[:160]}, "
        f"{matched.stability}, max Re(eig) {matched.max_real_eigenvalue:.6g}; "
        f"{_compare(_values(copasi), _values(matched))}"
    )
    print(flush=True)


def facts() -> dict:
    """The libRoadRunner behaviours docs/biomodels_findings.md reports, re-measured against COPASI."""
    import roadrunner

    out: dict = {}
    # 0033: NLEQ2 fails from the initial state; presimulation to t = 1000 finds the published state.
    reference = json.loads((BIOMODELS_DIR / "BIOMD0000000033.reference.json").read_text())["values"]
    plain = roadrunner_reference("BIOMD0000000033.xml")
    presimulated = roadrunner_reference("BIOMD0000000033.xml", presimulation_time=1000)
    out["0033_plain_newton_fails"] = plain.status.startswith("failed")
    out["0033_presimulated_rel_diff_vs_published"] = max_relative_difference(presimulated.concentrations,
                                                                             reference)[0]
    # Moiety analysis switched on after a time course recomputes the totals from a mixed state.
    r = roadrunner.RoadRunner(str(BIOMODELS_DIR / "BIOMD0000000033.xml"))
    total = r["EGF"] + r["boundEGFReceptor"]
    r.simulate(0, 1000, 2)
    r.conservedMoietyAnalysis = True
    out["0033_moiety_after_simulate_total_change_rel"] = abs(r["EGF"] + r["boundEGFReceptor"] - total) / total
    # 0853: steadyState() evaluates `time <= tstimdur` at t = 0 (stimulus on for ever); COPASI does not.
    copasi = copasi_steady_state("BIOMD0000000853.xml", mca=False)
    at_zero = roadrunner_reference("BIOMD0000000853.xml")
    no_stimulus = roadrunner_reference("BIOMD0000000853.xml", {"tstimdur": -1.0})
    out["0853_PP_at_time_zero"] = at_zero.concentrations["PP"]
    out["0853_PP_copasi"] = copasi.concentrations["PP"]
    out["0853_no_stimulus_rel_diff_vs_copasi"] = max_relative_difference(copasi.concentrations,
                                                                         no_stimulus.concentrations)[0]
    # 0569: NLEQ2's residual is in amounts: "found" in the 1e-16 L synapse where concentrations still move.
    copasi = copasi_steady_state("BIOMD0000000569.xml", mca=False)
    plain = roadrunner_reference("BIOMD0000000569.xml")
    recipe = roadrunner_reference("BIOMD0000000569.xml", {"synapse": 1.0}, timecourse_to=100)
    out["0569_nleq2_status"] = plain.status
    out["0569_nleq2_residual_amounts"] = plain.residual
    out["0569_nleq2_relative_rate_per_s"] = plain.relative_rate
    out["0569_nleq2_min_concentration"] = min(plain.concentrations.values())
    out["0569_recipe_rel_diff_vs_copasi"] = max_relative_difference(copasi.concentrations,
                                                                    recipe.concentrations)[0]
    # 0020: rate-rule variables are not solved by steadyState(); a full-state Newton agrees with COPASI.
    copasi = copasi_steady_state("BIOMD0000000020.xml", mca=False)
    newton = roadrunner_full_state_newton("BIOMD0000000020.xml", timecourse_to=200)
    out["0020_full_state_newton_rel_diff_vs_copasi"] = max_relative_difference(copasi.ode_values,
                                                                               newton.ode_values)[0]
    # 0127: events: libRoadRunner refuses the steady state.
    out["0127_events_refused"] = "events" in roadrunner_reference("BIOMD0000000127.xml").status
    # 0183: with the laws COPASI misreads rewritten, COPASI matches a tight unreduced time course.
    rewritten = kinetic_laws_to_assignment_rules("BIOMD0000000183.xml",
                                                 ["reaction_129", "reaction_130", "reaction_131", "reaction_132"])
    copasi = copasi_steady_state(rewritten, mca=False)
    course = roadrunner_reference("BIOMD0000000183.xml", moiety=False, integrator_absolute_tolerance=1e-30,
                                  timecourse_to=1e4, solve=False)
    out["0183_time_course_rel_diff_vs_copasi"] = max_relative_difference(copasi.concentrations,
                                                                         course.concentrations)[0]
    out["all_hold"] = bool(
        out["0033_plain_newton_fails"] and out["0033_presimulated_rel_diff_vs_published"] < 1e-9
        and out["0033_moiety_after_simulate_total_change_rel"] > 1e-3
        and abs(out["0853_PP_at_time_zero"] - (1 + 0.0035) / 0.005) < 1e-6 * out["0853_PP_at_time_zero"]
        and out["0853_no_stimulus_rel_diff_vs_copasi"] < 1e-9
        and out["0569_nleq2_status"] == "found" and out["0569_nleq2_relative_rate_per_s"] > 1.0
        and out["0569_nleq2_min_concentration"] < 0 and out["0569_recipe_rel_diff_vs_copasi"] < 1e-6
        and out["0020_full_state_newton_rel_diff_vs_copasi"] < 1e-9 and out["0127_events_refused"]
        and out["0183_time_course_rel_diff_vs_copasi"] < 1e-9
    )
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="survey these models (4-digit BioModels numbers, or 'all')")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.models is not None:
        for model in sorted(RECIPES) if args.models in ([], ["all"]) else args.models:
            survey(model)
        summary: dict = {"surveyed": args.models or "all"}
    else:
        summary = facts()
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(summary, default=str))
    return summary


if __name__ == "__main__":
    main()
