"""COPASI as an independent reference executor, for tests.

This is a test helper, not package code: :func:`copasi_steady_state` answers
"what is the right steady state of this SBML model?" with COPASI
(python-copasi's raw API; basico's global "current model" is never touched,
every call imports a fresh ``CDataModel`` and removes it afterwards);
:func:`copasi_rate_mismatches` finds reactions COPASI imports wrongly and
:func:`kinetic_laws_to_assignment_rules` rewrites them so that it cannot.
The survey of libRoadRunner's own behaviour on the same models (the direct
libRoadRunner recipes) is ``analysis/biomodels_survey.py``.

Everything is keyed by SBML id.  Species values are concentrations (what both
tools report as a species' value: ``[id]`` in libRoadRunner, "concentration"
in COPASI).  See docs/biomodels_findings.md for what these helpers found on
the curated BioModels in tests/data/biomodels.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BIOMODELS_DIR = Path(__file__).parent / "data" / "biomodels"

#: COPASI's CSteadyStateMethod::ReturnCode, as text.
_COPASI_STATUS = {0: "not found", 1: "found", 2: "found equilibrium", 3: "found negative"}


@dataclass(frozen=True)
class CopasiSteadyState:
    """What COPASI says about a model's steady state.

    Attributes
    ----------
    status : str
        ``"not found"``, ``"found"``, ``"found equilibrium"`` (all fluxes zero)
        or ``"found negative"`` (a negative concentration; COPASI rejects it
        unless negative concentrations are accepted).
    stability : str
        ``"stable"`` if the largest real part of the reduced Jacobian's
        eigenvalues is below ``-eigen_tol``, ``"unstable"`` if above
        ``+eigen_tol``, ``"marginal"`` otherwise, ``"unknown"`` if no state.
    concentrations : dict
        Floating (non-fixed) species concentration by SBML id, in the model's
        concentration unit.  Species set by assignment rules are included.
    ode_values : dict
        Value of every global parameter or compartment driven by a rate rule
        (COPASI "ODE" status), by SBML id.
    eigenvalues : numpy.ndarray, complex, shape (n_independent,)
        Eigenvalues of COPASI's reduced Jacobian (independent variables only).
    max_real_eigenvalue : float
        Largest real part of ``eigenvalues`` (``nan`` if there are none).
    scaled_cc, unscaled_cc : dict or None
        Concentration control coefficients keyed ``(species id, reaction id)``
        from COPASI's MCA task, or ``None`` when MCA was not requested or
        failed.  COPASI's MCA is per reaction (it perturbs reaction rates), not
        per parameter.
    seconds_steady_state, seconds_mca : float
        Wall time of the steady-state task and of the MCA task (0 if not run).
    message : str
        COPASI's messages, if any.
    """

    status: str
    stability: str
    concentrations: dict[str, float]
    ode_values: dict[str, float]
    eigenvalues: np.ndarray
    max_real_eigenvalue: float
    scaled_cc: dict[tuple[str, str], float] | None = None
    unscaled_cc: dict[tuple[str, str], float] | None = None
    seconds_steady_state: float = 0.0
    seconds_mca: float = 0.0
    message: str = ""

    @property
    def found(self) -> bool:
        return self.status.startswith("found") and self.status != "found negative"


def read_sbml(sbml_path_or_string: str | os.PathLike) -> str:
    text = str(sbml_path_or_string)
    if "<" not in text:
        path = Path(text)
        if not path.is_file():
            path = BIOMODELS_DIR / text
        return path.read_text(encoding="utf-8")
    return text


def stability_word(max_real: float, eigen_tol: float) -> str:
    if math.isnan(max_real):
        return "unknown"
    if max_real < -eigen_tol:
        return "stable"
    if max_real > eigen_tol:
        return "unstable"
    return "marginal"


def max_relative_difference(a: dict[str, float], b: dict[str, float], *, floor: float = 1e-12) -> tuple[float, str]:
    """Largest ``|a - b| / max(|a|, |b|, floor)`` over the ids both dicts share.

    Returns the difference and the id where it occurs.  Values below ``floor``
    in both are compared absolutely against ``floor`` (so 1e-20 vs 0 is 1e-8,
    not 1).
    """
    worst, where = 0.0, ""
    for key in sorted(set(a) & set(b)):
        x, y = a[key], b[key]
        d = abs(x - y) / max(abs(x), abs(y), floor)
        if d > worst or (math.isnan(d) and not math.isnan(worst)):
            worst, where = d, key
    return worst, where


# --------------------------------------------------------------------- COPASI


def _copasi_cc_by_id(data_model, annotated) -> dict[tuple[str, str], float]:
    """A COPASI CDataArray (species x reactions) as {(species id, reaction id): value}."""
    import COPASI

    def ids(dim: int) -> list[str | None]:
        # Annotations are common names of metabolites / reactions; COPASI
        # appends a "Summation Error" string column that has no SBML id.
        out: list[str | None] = []
        for cn in annotated.getAnnotationsCN(dim):
            obj = data_model.getObject(COPASI.CCommonName(str(cn)))
            sid = obj.getSBMLId() if obj is not None and hasattr(obj, "getSBMLId") else ""
            out.append(sid or None)
        return out

    rows, cols = ids(0), ids(1)
    array = annotated.getArray()
    return {
        (r, c): float(array.get(i, j))
        for i, r in enumerate(rows)
        if r is not None
        for j, c in enumerate(cols)
        if c is not None
    }


def copasi_steady_state(
    sbml_path_or_string: str | os.PathLike,
    changes: dict[str, float] | None = None,
    *,
    mca: bool = True,
    resolution: float = 1e-9,
    use_newton: bool = True,
    use_integration: bool = True,
    iteration_limit: int = 50,
    derivation_factor: float = 1e-6,
    eigen_tol: float = 1e-9,
    accept_negative: bool = False,
) -> CopasiSteadyState:
    """Run COPASI's steady-state task (and optionally MCA) on an SBML model.

    Parameters
    ----------
    sbml_path_or_string
        SBML text, a path, or a file name under tests/data/biomodels.
    changes
        Initial values to set before solving, by SBML id: species take a
        concentration, parameters and compartments a value.  Initial
        assignments that depend on a changed value are re-evaluated.
    mca
        Also run COPASI's Metabolic Control Analysis task (it re-solves the
        steady state itself) and return concentration control coefficients.
    resolution, use_newton, use_integration, iteration_limit
        COPASI's steady-state method settings ("Resolution", "Use Newton",
        "Use Integration", "Iteration Limit"); defaults are COPASI's.
    derivation_factor
        COPASI's "Derivation Factor", the relative step of the finite
        differences behind its Jacobian (and so the eigenvalues).  COPASI's
        default 1e-3 gives wrong eigenvalues on BIOMD0000000009 (largest real
        part -0.0929 instead of -0.0716 +- 0.0512i; an independent central
        difference and libRoadRunner agree on the latter); 1e-6 fixes it.
    eigen_tol
        Threshold on the largest real eigenvalue for the stability verdict.
    accept_negative
        COPASI's "Accept Negative Concentrations": species that may be
        negative (EPL momenta, 0 at the steady state up to rounding) need it.

    Returns
    -------
    CopasiSteadyState
    """
    import COPASI

    text = read_sbml(sbml_path_or_string)
    settings = {
        "Resolution": resolution,
        "Use Newton": use_newton,
        "Use Integration": use_integration,
        "Iteration Limit": iteration_limit,
        "Derivation Factor": derivation_factor,
        "Accept Negative Concentrations": accept_negative,
    }
    data_model = _copasi_data_model(text, changes, settings)
    try:
        model = data_model.getModel()
        task = data_model.getTask("Steady-State")
        problem = task.getProblem()
        problem.getParameter("JacobianRequested").setBoolValue(True)
        problem.getParameter("StabilityAnalysisRequested").setBoolValue(True)
        task.setUpdateModel(True)

        n_messages = COPASI.CCopasiMessage.size()
        start = time.perf_counter()
        if not task.initializeRaw(COPASI.CCopasiTask.OUTPUT_UI):
            raise RuntimeError("COPASI steady-state task did not initialise: " + COPASI.CCopasiMessage.getAllMessageText())
        task.processRaw(True)
        seconds_ss = time.perf_counter() - start
        code = int(task.getResult())
        message = _copasi_messages_since(n_messages)

        # With update_model on, the model now holds the steady state.
        concentrations = {}
        for metab in model.getMetabolites():
            if metab.getStatus() != COPASI.CModelEntity.Status_FIXED:
                concentrations[metab.getSBMLId()] = float(metab.getConcentration())
        ode_values = {}
        for entity in list(model.getModelValues()) + list(model.getCompartments()):
            if entity.getStatus() == COPASI.CModelEntity.Status_ODE:
                ode_values[entity.getSBMLId()] = float(entity.getValue())

        eigen = task.getEigenValuesReduced()
        re, im = eigen.getR(), eigen.getI()
        eigenvalues = np.array([complex(re.get(i), im.get(i)) for i in range(re.size())])
        task.restore(True)
    finally:
        COPASI.CRootContainer.removeDatamodel(data_model)

    max_real = float(eigenvalues.real.max()) if eigenvalues.size else float("nan")
    status = _COPASI_STATUS.get(code, f"code {code}")
    found = status in ("found", "found equilibrium")
    if not found:
        concentrations = {k: float("nan") for k in concentrations}
        ode_values = {k: float("nan") for k in ode_values}
        eigenvalues, max_real = np.array([], dtype=complex), float("nan")

    scaled_cc = unscaled_cc = None
    seconds_mca = 0.0
    if mca and found:
        # A fresh data model: after a steady-state run with update_model on,
        # COPASI's MCA task reports "No steady state was found" on
        # BIOMD0000000569 although a fresh MCA finds it.
        scaled_cc, unscaled_cc, seconds_mca, mca_message = _copasi_mca(text, changes, settings)
        message = "\n".join(m for m in (message, mca_message) if m)

    return CopasiSteadyState(
        status=status,
        stability=stability_word(max_real, eigen_tol),
        concentrations=concentrations,
        ode_values=ode_values,
        eigenvalues=eigenvalues,
        max_real_eigenvalue=max_real,
        scaled_cc=scaled_cc,
        unscaled_cc=unscaled_cc,
        seconds_steady_state=seconds_ss,
        seconds_mca=seconds_mca,
        message=message,
    )


def _copasi_data_model(text: str, changes: dict[str, float] | None, settings: dict):
    """A new COPASI data model of ``text`` with ``changes`` and steady-state ``settings``.

    The caller must remove it with ``COPASI.CRootContainer.removeDatamodel``.
    """
    import COPASI

    data_model = COPASI.CRootContainer.addDatamodel()
    try:
        if not data_model.importSBMLFromString(text):
            raise RuntimeError("COPASI could not import the SBML: " + COPASI.CCopasiMessage.getAllMessageText())
        if changes:
            _copasi_apply_changes(data_model.getModel(), changes)
        method = data_model.getTask("Steady-State").getMethod()
        for name, value in settings.items():
            parameter = method.getParameter(name)
            if isinstance(value, bool):
                parameter.setBoolValue(value)
            elif isinstance(value, int):
                parameter.setIntValue(value)
            else:
                parameter.setDblValue(float(value))
    except BaseException:
        COPASI.CRootContainer.removeDatamodel(data_model)
        raise
    return data_model


#: COPASI messages that say nothing about the result.
_NOISE = ("MIRIAM resource", "has not been set in the model", "No output file defined", "differs from the substance")


def _copasi_messages_since(n_before: int) -> str:
    """COPASI's messages added since ``n_before``, without the routine import warnings."""
    import COPASI

    if COPASI.CCopasiMessage.size() <= n_before:
        return ""
    lines = COPASI.CCopasiMessage.getAllMessageText().splitlines()
    kept = [line.strip() for line in lines if line.strip() and not line.startswith(">") and not any(n in line for n in _NOISE)]
    return "\n".join(kept)


def _copasi_apply_changes(model, changes: dict[str, float]) -> None:
    import COPASI

    by_id = {}
    for collection in (model.getMetabolites(), model.getModelValues(), model.getCompartments()):
        for entity in collection:
            by_id[entity.getSBMLId()] = entity
    unknown = sorted(set(changes) - set(by_id))
    if unknown:
        raise KeyError(f"ids not in the COPASI model: {unknown}")
    references = COPASI.ObjectStdVector()
    for sid in sorted(changes):
        entity = by_id[sid]
        if isinstance(entity, COPASI.CMetab):
            entity.setInitialConcentration(float(changes[sid]))
            references.push_back(entity.getInitialConcentrationReference())
        else:
            entity.setInitialValue(float(changes[sid]))
            references.push_back(entity.getInitialValueReference())
    # Propagates the change to dependent initial values (initial assignments,
    # amounts from concentrations).
    model.updateInitialValues(references)


def _copasi_mca(text: str, changes: dict[str, float] | None, settings: dict):
    """Scaled and unscaled concentration control coefficients, seconds, messages."""
    import COPASI

    data_model = _copasi_data_model(text, changes, settings)
    try:
        task = data_model.getTask("Metabolic Control Analysis")
        task.getProblem().getParameter("Steady-State").setBoolValue(True)
        method = task.getMethod()
        n_messages = COPASI.CCopasiMessage.size()
        start = time.perf_counter()
        ok = task.initializeRaw(COPASI.CCopasiTask.OUTPUT_UI) and task.processRaw(True)
        seconds = time.perf_counter() - start
        message = _copasi_messages_since(n_messages)
        scaled = unscaled = None
        if ok:
            scaled = _copasi_cc_by_id(data_model, method.getScaledConcentrationCCAnn())
            unscaled = _copasi_cc_by_id(data_model, method.getUnscaledConcentrationCCAnn())
        task.restore(True)
        return scaled, unscaled, seconds, ("MCA: " + message) if message else ""
    finally:
        COPASI.CRootContainer.removeDatamodel(data_model)


def copasi_rate_mismatches(
    sbml_path_or_string: str | os.PathLike, *, seed: int = 0, rtol: float = 1e-6
) -> dict[str, tuple[float, float]]:
    """Reactions whose rate differs between COPASI's import and libRoadRunner.

    Both engines get the same random state (every species that reactions
    change is set to its initial concentration times U(0.5, 2), floored at
    1e-9, so that no rate vanishes because a species starts at zero); the
    rates are compared by reaction id.  Returns ``{reaction id: (COPASI rate,
    libRoadRunner rate)}`` for relative differences above ``rtol``, sorted by
    id.  On BIOMD0000000183 this finds reaction_129..132: COPASI 4.48 imports
    ``compartment * transition1_R_T(kRT, b, S)`` (= kRT * S * b^(1/2)) as
    "Mass action (irreversible)" with k1 = kRT, dropping b^(1/2).
    """
    import COPASI
    import roadrunner

    text = read_sbml(sbml_path_or_string)
    rng = np.random.default_rng(seed)
    data_model = _copasi_data_model(text, None, {})
    try:
        model = data_model.getModel()
        values: dict[str, float] = {}
        references = COPASI.ObjectStdVector()
        for metab in model.getMetabolites():
            if metab.getStatus() == COPASI.CModelEntity.Status_REACTIONS:
                value = float(rng.uniform(0.5, 2.0)) * max(metab.getInitialConcentration(), 1e-9)
                values[metab.getSBMLId()] = value
                metab.setInitialConcentration(value)
                references.push_back(metab.getInitialConcentrationReference())
        model.updateInitialValues(references)
        model.applyInitialValues()
        copasi_rates = {reaction.getSBMLId(): float(reaction.getFlux()) for reaction in model.getReactions()}
    finally:
        COPASI.CRootContainer.removeDatamodel(data_model)
    r = roadrunner.RoadRunner(text)
    for sid, value in values.items():
        r.setValue(f"[{sid}]", value)
    rr_rates = dict(zip(r.model.getReactionIds(), np.asarray(r.model.getReactionRates(), dtype=float)))
    mismatches = {}
    for rid in sorted(rr_rates):
        a, b = copasi_rates[rid], float(rr_rates[rid])
        if abs(a - b) > rtol * max(abs(a), abs(b)):
            mismatches[rid] = (a, b)
    return mismatches


def kinetic_laws_to_assignment_rules(
    sbml_path_or_string: str | os.PathLike, reaction_ids: list[str]
) -> str:
    """Move the kinetic laws of ``reaction_ids`` into assignment-rule parameters.

    Each law becomes a global parameter ``rate_<reaction id>`` with an
    assignment rule (function definitions expanded first) and the law is just
    that parameter.  The ODEs are unchanged; COPASI's importer then cannot
    mistake the law for mass action (the BIOMD0000000183 mis-import, see
    :func:`copasi_rate_mismatches`).  Returns the new SBML text.
    """
    import libsbml

    document = libsbml.readSBMLFromString(read_sbml(sbml_path_or_string))
    properties = libsbml.ConversionProperties()
    properties.addOption("expandFunctionDefinitions", True)
    if document.convert(properties) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError("libsbml could not expand the function definitions")
    model = document.getModel()
    for rid in sorted(reaction_ids):
        law = model.getReaction(rid).getKineticLaw()
        if law.getNumLocalParameters() or law.getNumParameters():
            raise ValueError(f"{rid} has local parameters; this rewrite does not handle them")
        parameter = model.createParameter()
        parameter.setId(f"rate_{rid}")
        parameter.setConstant(False)
        parameter.setValue(0.0)
        rule = model.createAssignmentRule()
        rule.setVariable(parameter.getId())
        rule.setMath(law.getMath().deepCopy())
        law.setMath(libsbml.parseL3Formula(parameter.getId()))
    return libsbml.writeSBMLToString(document)


