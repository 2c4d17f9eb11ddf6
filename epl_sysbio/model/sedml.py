"""SED-ML documents (https://sed-ml.org), written and inspected with libsedml.

:func:`simulation_experiment` writes SED-ML Level 1 Version 4 for one SBML
model: optional model changes, a steady-state task and/or a uniform time
course, and one report per task of every floating species' concentration.
:func:`model_sources` and :func:`parse_target` read what the executor
(:mod:`epl_sysbio.simulate.sedml`) needs to resolve models and variables;
:func:`evaluate_math` evaluates a SED-ML math expression on NumPy arrays.

SED-ML addresses model quantities by XPath. The targets understood here are
the ones SED-ML tools write for SBML::

    /sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='k1']/@value
    /sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='S1']          (a variable: its concentration)
    /sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='S1']/@initialConcentration

Species read as concentrations unless the species has only substance units
(then amounts), as tellurium and COPASI read them.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from epl_sysbio.errors import InvalidValueError, ModelLoadError, UnsupportedModelError

if TYPE_CHECKING:  # pragma: no cover
    from epl_sysbio.model.core import Model

__all__ = ["simulation_experiment", "model_sources", "parse_target", "target_for", "evaluate_math",
           "read_sedml_document", "KISAO_STEADY_STATE", "KISAO_CVODE"]

KISAO_STEADY_STATE = "KISAO:0000407"  #: steady-state root finding
KISAO_CVODE = "KISAO:0000019"  #: CVODE
_SBML_NS = "http://www.sbml.org/sbml/level3/version2/core"
_LIST_OF = {"species": "listOfSpecies", "parameter": "listOfParameters", "compartment": "listOfCompartments",
            "reaction": "listOfReactions"}
_TARGET = re.compile(
    r"^/sbml:sbml/sbml:model/sbml:listOf(?P<list>\w+)/sbml:(?P<kind>\w+)"
    r"\[@id=(?P<q>['\"])(?P<id>[^'\"]+)(?P=q)\](?:/@(?P<attribute>\w+))?$"
)


def _check(status: int, what: str) -> None:
    import libsedml

    if status != libsedml.LIBSEDML_OPERATION_SUCCESS:
        raise InvalidValueError(f"libsedml refused {what} (status {status}).")


def target_for(kind: str, sid: str, attribute: str | None = None) -> str:
    """The XPath SED-ML uses for the SBML element ``kind`` (species, parameter, ...) with id ``sid``."""
    path = f"/sbml:sbml/sbml:model/sbml:{_LIST_OF[kind]}/sbml:{kind}[@id='{sid}']"
    return path + (f"/@{attribute}" if attribute else "")


def parse_target(target: str) -> tuple[str, str, str | None]:
    """``(kind, id, attribute)`` of an SBML XPath target (module docstring); ``attribute`` None for a variable.

    Raises
    ------
    UnsupportedModelError
        The target is not of that form (e.g. a general XPath expression).
    """
    m = _TARGET.match(target.strip())
    if m is None or m["kind"] not in _LIST_OF:
        raise UnsupportedModelError(
            f"SED-ML target {target!r} is not supported: use /sbml:sbml/sbml:model/sbml:listOfX/sbml:x[@id='...'] "
            "for a species, parameter, compartment or reaction (optionally /@attribute).")
    return m["kind"], m["id"], m["attribute"]


def read_sedml_document(text: str, source: str = "<SED-ML>"):
    """A ``libsedml.SedDocument`` from text; errors (libsedml severity error or fatal) raise :class:`ModelLoadError`."""
    import libsedml

    doc = libsedml.readSedMLFromString(text)
    errors = [doc.getError(i) for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsedml.LIBSEDML_SEV_ERROR]
    if errors:
        shown = "; ".join(f"line {e.getLine()}: {e.getMessage().strip()}" for e in errors[:5])
        raise ModelLoadError(f"{source}: libsedml found {len(errors)} error(s) in the SED-ML document: {shown}")
    return doc


def model_sources(text: str) -> list[str]:
    """The ``source`` of every model in a SED-ML document that names a file (not another model)."""
    doc = read_sedml_document(text)
    ids = {doc.getModel(i).getId() for i in range(doc.getNumModels())}
    sources = [doc.getModel(i).getSource() for i in range(doc.getNumModels())]
    return [s for s in sources if s.lstrip("#") not in ids]


def simulation_experiment(
    model: Model,
    *,
    source: str = "model.xml",
    steady_state: bool = True,
    time_course: tuple[float, int] | None = None,
    changes: Mapping[str, float] | None = None,
    outputs: Sequence[str] | None = None,
) -> str:
    """SED-ML L1V4 text describing simulations of ``model`` (stored at ``source`` beside the SED-ML file).

    Parameters
    ----------
    model : Model
        The SBML model (ids are read from it; it is not embedded).
    source : str
        Location of the model's SBML file relative to the SED-ML file.
    steady_state : bool
        Add the task ``steady_state_task`` (KISAO:0000407) and the report ``steady_state_report``.
    time_course : tuple of (float, int), optional
        ``(t_end, steps)``: add the task ``time_course_task``: a uniform time course from 0 to ``t_end`` with ``steps``
        intervals (``steps + 1`` points, CVODE), and the report ``time_course_report`` (time first).
    changes : mapping of id to float, optional
        Model changes (``changeAttribute``): parameter values, species initial concentrations (initial
        amounts for species with only substance units) and compartment sizes.
    outputs : sequence of str, optional
        Species, parameter or compartment ids to report (default: every floating species, then the
        variables of rate rules).

    Returns
    -------
    str
        The SED-ML document; libsedml checks it on writing.
    """
    import libsedml

    if not steady_state and time_course is None:
        raise InvalidValueError("simulation_experiment needs steady_state=True or a time_course.")
    sbml = model.sbml_model
    if outputs is None:
        outputs = list(model.floating_species_ids)
        outputs += [v for v in model.rate_rule_variables if v not in outputs]
    outputs = list(outputs)
    model.require_ids([*outputs, *(changes or {})], "ids in simulation_experiment")

    def kind_of(sid: str) -> str:
        if sbml.getSpecies(sid) is not None:
            return "species"
        if sbml.getCompartment(sid) is not None:
            return "compartment"
        if sbml.getParameter(sid) is not None:
            return "parameter"
        raise InvalidValueError(f"Model {model.id!r}: {sid!r} is not a species, compartment or parameter; "
                                "SED-ML changes and reports here take those.")

    doc = libsedml.SedDocument(1, 4)
    _check(doc.getNamespaces().add(_SBML_NS, "sbml"), "the sbml namespace")  # the targets' sbml: prefix
    sed_model = doc.createModel()
    _check(sed_model.setId("model"), "the model id")
    _check(sed_model.setSource(source), "the model source")
    _check(sed_model.setLanguage("urn:sedml:language:sbml.level-3.version-2"), "the model language")
    for sid, value in (changes or {}).items():
        kind = kind_of(sid)
        attribute = {"parameter": "value", "compartment": "size"}.get(kind)
        if kind == "species":
            species = sbml.getSpecies(sid)
            attribute = "initialAmount" if species.getHasOnlySubstanceUnits() else "initialConcentration"
        change = sed_model.createChangeAttribute()
        _check(change.setTarget(target_for(kind, sid, attribute)), f"the change of {sid!r}")
        _check(change.setNewValue(repr(float(value))), f"the new value of {sid!r}")

    tasks = []
    if steady_state:
        sim = doc.createSteadyState()
        _check(sim.setId("steady_state"), "the simulation id")
        _check(sim.createAlgorithm().setKisaoID(KISAO_STEADY_STATE), "the algorithm")
        tasks.append(("steady_state", sim, False))
    if time_course is not None:
        t_end, steps = float(time_course[0]), int(time_course[1])
        if not (math.isfinite(t_end) and t_end > 0 and steps >= 1):
            raise InvalidValueError(f"time_course must be (t_end > 0, steps >= 1). Got {time_course!r} instead.")
        sim = doc.createUniformTimeCourse()
        _check(sim.setId("time_course"), "the simulation id")
        sim.setInitialTime(0.0)
        sim.setOutputStartTime(0.0)
        sim.setOutputEndTime(t_end)
        _check(sim.setNumberOfSteps(steps), "the number of steps")
        _check(sim.createAlgorithm().setKisaoID(KISAO_CVODE), "the algorithm")
        tasks.append(("time_course", sim, True))
    for name, sim, with_time in tasks:
        task = doc.createTask()
        _check(task.setId(f"{name}_task"), "the task id")
        task.setModelReference("model")
        task.setSimulationReference(sim.getId())
        report = doc.createReport()
        report.setId(f"{name}_report")
        report.setName(name.replace("_", " "))
        columns = (["time"] if with_time else []) + outputs
        for sid in columns:
            gen = doc.createDataGenerator()
            gen.setId(f"{name}_{sid}")
            gen.setName(sid)
            var = gen.createVariable()
            var.setId(f"v_{sid}")
            var.setTaskReference(f"{name}_task")
            if sid == "time":
                var.setSymbol("urn:sedml:symbol:time")
            else:
                var.setTarget(target_for(kind_of(sid), sid))
            gen.setMath(libsedml.parseL3Formula(f"v_{sid}"))
            ds = report.createDataSet()
            ds.setId(f"ds_{name}_{sid}")
            ds.setLabel(sid)
            ds.setDataReference(gen.getId())
    text = libsedml.writeSedMLToString(doc)
    if not text:
        raise InvalidValueError("libsedml could not write the SED-ML document.")
    return text


# ------------------------------------------------------------------ math
_FUNCTIONS = {
    "exp": np.exp, "ln": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs, "floor": np.floor,
    "ceiling": np.ceil, "ceil": np.ceil, "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "pow": np.power, "power": np.power,
    # SED-ML's aggregate functions reduce a whole variable
    "min": np.min, "max": np.max, "sum": np.sum, "product": np.prod,
}
_CONSTANTS = {"pi": math.pi, "exponentiale": math.e, "true": 1.0, "false": 0.0, "INF": math.inf, "NaN": math.nan}


def evaluate_math(formula: str, values: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """Evaluate an infix SED-ML/SBML L3 formula (``libsedml.formulaToL3String``) on arrays.

    Only arithmetic (``+ - * / ^``), numbers, names in ``values``, the constants
    ``pi``/``exponentiale`` and the functions in ``_FUNCTIONS`` (plus ``log(x)``,
    ``log(base, x)`` and ``root(n, x)``) are evaluated; anything else raises
    :class:`UnsupportedModelError` naming it. No Python code is ever executed.
    """
    try:
        # L3 infix writes powers as ^, which binds tighter than * as Python's ** does
        tree = ast.parse(formula.strip().replace("^", "**"), mode="eval")
    except SyntaxError:
        raise UnsupportedModelError(f"SED-ML math {formula!r} could not be parsed.") from None

    def ev(node: ast.AST):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id in values:
                return np.asarray(values[node.id], dtype=float)
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            raise UnsupportedModelError(f"SED-ML math {formula!r}: unknown name {node.id!r} (known: "
                                        f"{sorted(values)}).")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            ops = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
                   ast.Pow: np.power}
            for op, fn in ops.items():
                if isinstance(node.op, op):
                    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                        return fn(a, b)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name, args = node.func.id, [ev(a) for a in node.args]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if name == "log":
                    return np.log10(args[0]) if len(args) == 1 else np.log(args[1]) / np.log(args[0])
                if name == "root":
                    return np.sqrt(args[0]) if len(args) == 1 else np.power(args[1], 1.0 / args[0])
                if name in _FUNCTIONS:
                    return _FUNCTIONS[name](*args)
            raise UnsupportedModelError(f"SED-ML math {formula!r}: function {name!r} is not supported.")
        raise UnsupportedModelError(f"SED-ML math {formula!r}: {type(node).__name__} is not supported "
                                    "(arithmetic and elementary functions only).")

    return np.asarray(ev(tree), dtype=float)
