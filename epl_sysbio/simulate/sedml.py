"""Run SED-ML simulation experiments on the :class:`~epl_sysbio.simulate.Engine`.

:func:`run_omex` executes every SED-ML document of a COMBINE/OMEX archive and
:func:`run_sedml` one document, writing each report as CSV (``<sedml
stem>_<report id>.csv``, columns named by the data sets' labels, as
tellurium's executor names and lays them out) and each 2-D plot as PNG.

What is executed (anything else is refused with an
:class:`~epl_sysbio.errors.UnsupportedModelError` naming the element):

- models: SBML files in the archive, or another model of the document
  (``source`` = its id); model changes ``changeAttribute`` (parameter
  ``value``, species ``initialConcentration``/``initialAmount``, compartment
  ``size``) and ``computeChange`` (math of variables read from the model as
  changed so far, and parameters), applied in document order;
- simulations: ``uniformTimeCourse`` (initial time, output start and end,
  steps; integrated by CVODE whatever deterministic KiSAO term is named, at
  libRoadRunner's default tolerances unless the algorithm's parameters
  KISAO:0000209/0000211 set them; an
  integrator failure gives NaN values and a reason in ``SedmlRun.failed``) and
  ``steadyState`` (:meth:`Engine.steady_state`, with its fallbacks; a task
  whose steady state is not found reports NaN and says why);
- tasks: ``task`` (one model, one simulation), each from the model's
  initial state;
- data generators: variables (species concentrations, or amounts for species
  with only substance units; parameter values; compartment sizes; reaction
  rates; the symbol ``time``) combined by the math evaluator of
  :func:`epl_sysbio.model.sedml.evaluate_math`;
- outputs: ``report`` (CSV), ``plot2D`` (PNG).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from epl_sysbio.errors import InvalidValueError, ModelLoadError, UnsupportedModelError, format_ids
from epl_sysbio.model import Model
from epl_sysbio.model.omex import FORMAT_SEDML, OmexArchive, normalise_location
from epl_sysbio.model.sedml import evaluate_math, parse_target, read_sedml_document
from epl_sysbio.simulate.engine import Engine

__all__ = ["SedmlReport", "SedmlRun", "run_sedml", "run_omex"]

_TIME_SYMBOL = "urn:sedml:symbol:time"
#: KiSAO ids of the integrator tolerances SED-ML algorithm parameters may set.
_TOLERANCES = {"KISAO:0000209": "relative_tolerance", "KISAO:0000211": "absolute_tolerance"}
_DEFAULT_TOLERANCES = {"relative_tolerance": 1e-6, "absolute_tolerance": 1e-12}
_STOCHASTIC_KISAO = {"KISAO:0000029", "KISAO:0000241", "KISAO:0000039", "KISAO:0000038", "KISAO:0000027"}


@dataclass(frozen=True)
class SedmlReport:
    """One SED-ML report: column labels and values, shape (rows, columns)."""

    id: str
    labels: tuple[str, ...]
    values: np.ndarray

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.labels)
        writer.writerows([[repr(float(v)) for v in row] for row in self.values])
        return out.getvalue()


@dataclass(frozen=True)
class SedmlRun:
    """What :func:`run_sedml` computed.

    Attributes
    ----------
    source : str
        The SED-ML document's name.
    data : dict of str to ndarray
        Each data generator's values by id, shape (points,).
    reports : tuple of SedmlReport
    steady_states : dict of str to str
        Each steady-state task's status (``stable``, ``not_converged``, ...).
    failed : dict of str to str
        Time-course tasks whose integration failed, with the reason (their values are NaN).
    files : tuple of Path
        Files written (reports as CSV, plots as PNG).
    notes : tuple of str
    """

    source: str
    data: dict[str, np.ndarray]
    reports: tuple[SedmlReport, ...]
    steady_states: dict[str, str]
    failed: dict[str, str] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True unless a steady-state task found no steady state or a time course failed."""
        return not self.failed and all(s in ("stable", "unstable", "marginal") for s in self.steady_states.values())


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class _Runner:
    """One SED-ML document: models resolved once, engines compiled once per model."""

    def __init__(self, text: str, source: str, load_source: Callable[[str], Model]) -> None:
        import libsedml

        self.ls = libsedml
        self.source = source
        self.doc = read_sedml_document(text, source)
        self.load_source = load_source
        self.models: dict[str, Model] = {}
        self.engines: dict[str, Engine] = {}
        self.notes: list[str] = []

    # ------------------------------------------------------------ models
    def model(self, model_id: str, seen: tuple[str, ...] = ()) -> Model:
        if model_id in self.models:
            return self.models[model_id]
        sed = self.doc.getModel(model_id)
        if sed is None:
            raise ModelLoadError(f"{self.source}: no model {model_id!r} in the SED-ML document.")
        if model_id in seen:
            raise ModelLoadError(f"{self.source}: models {format_ids(seen)} refer to each other in a cycle.")
        language = sed.getLanguage() or ""
        if language and "sbml" not in language.lower():
            raise UnsupportedModelError(f"{self.source}: model {model_id!r} is in {language!r}; only SBML is run.")
        ref = sed.getSource().lstrip("#")
        if self.doc.getModel(ref) is not None and ref != model_id:
            model = self.model(ref, (*seen, model_id)).copy()
        else:
            model = self.load_source(sed.getSource())
        for i in range(sed.getNumChanges()):
            self._apply_change(model, sed.getChange(i), model_id)
        self.models[model_id] = model
        return model

    def _apply_change(self, model: Model, change, model_id: str) -> None:
        code = change.getTypeCode()
        ls = self.ls
        kind, sid, attribute = parse_target(change.getTarget())
        if code == ls.SEDML_CHANGE_ATTRIBUTE:
            try:
                value = float(change.getNewValue())
            except ValueError:
                raise InvalidValueError(f"{self.source}: model {model_id!r} changes {sid!r} to "
                                        f"{change.getNewValue()!r}, not a number.") from None
        elif code == ls.SEDML_CHANGE_COMPUTECHANGE:
            env = {p.getId(): p.getValue() for p in change.getListOfParameters()}
            if change.getNumVariables():
                engine = Engine(model)
                for var in change.getListOfVariables():
                    env[var.getId()] = engine.roadrunner.getValue(self._selection(model, var.getTarget()))
            value = float(evaluate_math(ls.formulaToL3String(change.getMath()), env))
        else:
            raise UnsupportedModelError(
                f"{self.source}: model {model_id!r} has a {change.getElementName()} change; only changeAttribute "
                "and computeChange are run (XML changes are not).")
        element = model.sbml_model.getElementBySId(sid)
        if element is None:
            raise InvalidValueError(f"{self.source}: model {model_id!r} changes {sid!r}, which is not in "
                                    f"{model.id!r}.")
        setters = {("parameter", "value"): "setValue", ("compartment", "size"): "setSize",
                   ("species", "initialConcentration"): "setInitialConcentration",
                   ("species", "initialAmount"): "setInitialAmount"}
        setter = setters.get((kind, attribute))
        if setter is None:
            raise UnsupportedModelError(f"{self.source}: changing {kind} {sid!r} attribute {attribute!r} is not "
                                        f"supported (supported: {sorted(f'{k}/@{a}' for k, a in setters)}).")
        if kind == "species":  # the two initial values exclude each other
            element.unsetInitialAmount()
            element.unsetInitialConcentration()
        getattr(element, setter)(value)

    def engine(self, model_id: str, *, reduced: bool) -> Engine:
        """The model compiled with conserved-moiety analysis (steady states) or without (time courses:
        a dependent species computed as total - others loses the digits of species far below their
        total, 4e-3 relative on BIOMD0000000569's femtolitre synapse)."""
        key = f"{model_id}:{'reduced' if reduced else 'full'}"
        if key not in self.engines:
            self.engines[key] = Engine(self.model(model_id), conserved_moiety_analysis=reduced)
        return self.engines[key]

    @staticmethod
    def _selection(model: Model, target: str) -> str:
        """The libRoadRunner selection of a SED-ML variable target."""
        kind, sid, attribute = parse_target(target)
        if attribute is not None:
            raise UnsupportedModelError(f"SED-ML variable target {target!r}: attributes are not read; "
                                        "point at the element itself.")
        if model.sbml_model.getElementBySId(sid) is None:
            raise InvalidValueError(f"SED-ML variable target {target!r}: {sid!r} is not in model {model.id!r}.")
        if kind == "species" and not model.sbml_model.getSpecies(sid).getHasOnlySubstanceUnits():
            return f"[{sid}]"
        return sid

    # ------------------------------------------------------------ tasks
    def run_task(self, task_id: str, variables: list[tuple[str, object]]) -> dict[tuple[str, str], np.ndarray]:
        """Values of ``variables`` ((data generator id, libsedml variable) pairs referring to this task),
        keyed by (data generator id, variable id): a variable's id is local to its data generator."""
        ls = self.ls
        task = self.doc.getTask(task_id)
        if task is None:
            raise InvalidValueError(f"{self.source}: no task {task_id!r}.")
        if task.getTypeCode() != ls.SEDML_TASK:
            raise UnsupportedModelError(f"{self.source}: task {task_id!r} is a {task.getElementName()}; only plain "
                                        "tasks (one model, one simulation) are run.")
        model_id, sim = task.getModelReference(), self.doc.getSimulation(task.getSimulationReference())
        if sim is None:
            raise InvalidValueError(f"{self.source}: task {task_id!r} names no simulation that exists.")
        code = sim.getTypeCode()
        engine = self.engine(model_id, reduced=code != ls.SEDML_SIMULATION_UNIFORMTIMECOURSE)
        selections = ["time" if v.getSymbol() == _TIME_SYMBOL else self._selection(engine.model, v.getTarget())
                      for _, v in variables]
        keys = [(g, v.getId()) for g, v in variables]
        for _, v in variables:
            if v.getSymbol() and v.getSymbol() != _TIME_SYMBOL:
                raise UnsupportedModelError(f"{self.source}: variable {v.getId()!r} uses the symbol "
                                            f"{v.getSymbol()!r}; only {_TIME_SYMBOL} is supported.")
        algorithm = sim.getAlgorithm().getKisaoID() if sim.isSetAlgorithm() else ""
        if algorithm in _STOCHASTIC_KISAO:
            raise UnsupportedModelError(f"{self.source}: simulation {sim.getId()!r} asks for a stochastic "
                                        f"algorithm ({algorithm}); the engine is deterministic.")
        rr = engine.roadrunner
        engine.reset()
        if code == ls.SEDML_SIMULATION_UNIFORMTIMECOURSE:
            steps = sim.getNumberOfSteps() if self.doc.getVersion() >= 4 or self.doc.getLevel() > 1 \
                else sim.getNumberOfPoints()
            t0, start, end = sim.getInitialTime(), sim.getOutputStartTime(), sim.getOutputEndTime()
            if not (t0 <= start <= end) or steps < 1:
                raise InvalidValueError(f"{self.source}: simulation {sim.getId()!r} needs initialTime <= "
                                        f"outputStartTime <= outputEndTime and >= 1 step; got {t0}, {start}, "
                                        f"{end}, {steps}.")
            rr.model.setTime(t0)
            engine_tolerances = {k: rr.integrator.getValue(k) for k in _TOLERANCES.values()}
            try:
                self._set_tolerances(rr, sim)
                if start > t0:
                    rr.simulate(t0, start, 2)
                trace = np.asarray(rr.simulate(start, end, int(steps) + 1, selections or ["time"]))
            except RuntimeError as exc:  # CVODE gave up: a result with a reason, not a traceback
                self.failed[task_id] = f"integrator failed: {str(exc).strip().splitlines()[0][:160]}"
                self.notes.append(f"task {task_id!r}: {self.failed[task_id]}; its values are NaN")
                return {key: np.full(int(steps) + 1, np.nan) for key in keys}
            finally:
                for key, value in engine_tolerances.items():
                    rr.integrator.setValue(key, value)
            return {key: trace[:, k] for k, key in enumerate(keys)}
        if code == ls.SEDML_SIMULATION_STEADYSTATE:
            result = engine.steady_state()
            self.steady_states[task_id] = result.status.value
            if not result.converged:
                self.notes.append(f"task {task_id!r}: no steady state ({result.message}); its values are NaN")
                return {key: np.array([np.nan]) for key in keys}
            return {key: np.array([rr.getValue(s)]) for key, s in zip(keys, selections)}
        raise UnsupportedModelError(f"{self.source}: simulation {sim.getId()!r} is a {sim.getElementName()}; "
                                    "only uniformTimeCourse and steadyState are run.")

    @staticmethod
    def _set_tolerances(rr, sim) -> None:
        """libRoadRunner's default CVODE tolerances (what tellurium uses: relative 1e-6, absolute 1e-12),
        or those the simulation's algorithm parameters name. The engine's own absolute tolerance,
        scaled down for femtolitre compartments, is meant for relaxation to a steady state: on
        BIOMD0000000183 (1e-31) it made CVODE give up within t = 1e-4."""
        values = dict(_DEFAULT_TOLERANCES)
        algorithm = sim.getAlgorithm() if sim.isSetAlgorithm() else None
        for i in range(algorithm.getNumAlgorithmParameters() if algorithm is not None else 0):
            parameter = algorithm.getAlgorithmParameter(i)
            if parameter.getKisaoID() in _TOLERANCES:
                values[_TOLERANCES[parameter.getKisaoID()]] = float(parameter.getValue())
        for key, value in values.items():
            rr.integrator.setValue(key, value)

    # ------------------------------------------------------------ everything
    def run(self, out: Path | None) -> SedmlRun:
        doc, ls = self.doc, self.ls
        self.steady_states: dict[str, str] = {}
        self.failed: dict[str, str] = {}
        by_task: dict[str, list] = {}
        for g in range(doc.getNumDataGenerators()):
            gen = doc.getDataGenerator(g)
            for var in gen.getListOfVariables():
                by_task.setdefault(var.getTaskReference(), []).append((gen.getId(), var))
        unknown = set(by_task) - {doc.getTask(t).getId() for t in range(doc.getNumTasks())}
        if unknown:
            raise InvalidValueError(f"{self.source}: data generators refer to tasks {format_ids(unknown)}, "
                                    "which the document does not define.")
        values: dict[tuple[str, str], np.ndarray] = {}
        for t in range(doc.getNumTasks()):
            task_id = doc.getTask(t).getId()
            if task_id in by_task:
                values.update(self.run_task(task_id, by_task[task_id]))
        data: dict[str, np.ndarray] = {}
        for g in range(doc.getNumDataGenerators()):
            gen = doc.getDataGenerator(g)
            env = {p.getId(): p.getValue() for p in gen.getListOfParameters()}
            env.update({v.getId(): values[(gen.getId(), v.getId())] for v in gen.getListOfVariables()})
            data[gen.getId()] = np.atleast_1d(evaluate_math(ls.formulaToL3String(gen.getMath()), env))
        reports, files = [], []
        stem = PurePosixPath(self.source).stem
        for o in range(doc.getNumOutputs()):
            output = doc.getOutput(o)
            if output.getTypeCode() == ls.SEDML_OUTPUT_REPORT:
                sets = list(output.getListOfDataSets())
                columns = [data[s.getDataReference()] for s in sets]
                rows = max((len(c) for c in columns), default=0)
                table = np.full((rows, len(columns)), np.nan)
                for k, c in enumerate(columns):
                    table[: len(c), k] = c
                report = SedmlReport(output.getId(), tuple(s.getLabel() or s.getId() for s in sets), table)
                reports.append(report)
                if out is not None:
                    path = out / f"{stem}_{output.getId()}.csv"
                    _write_atomic(path, report.to_csv().encode())
                    files.append(path)
            elif output.getTypeCode() == ls.SEDML_OUTPUT_PLOT2D:
                if out is not None:
                    files.append(self._plot(output, data, out / f"{stem}_{output.getId()}.png"))
            else:
                self.notes.append(f"output {output.getId()!r} ({output.getElementName()}) not drawn: only reports "
                                  "and 2-D plots are written")
        return SedmlRun(self.source, data, tuple(reports), dict(self.steady_states), dict(self.failed), tuple(files),
                        tuple(self.notes))

    def _plot(self, output, data: dict[str, np.ndarray], path: Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
        x_label = None
        for curve in output.getListOfCurves():
            x, y = data[curve.getXDataReference()], data[curve.getYDataReference()]
            x_gen = self.doc.getDataGenerator(curve.getXDataReference())
            y_gen = self.doc.getDataGenerator(curve.getYDataReference())
            x_label = x_label or (x_gen.getName() or x_gen.getId())
            ax.plot(x, y, label=curve.getName() or y_gen.getName() or y_gen.getId(), lw=1.4,
                    marker="o" if len(x) == 1 else None)
            if curve.isSetLogX() and curve.getLogX():
                ax.set_xscale("log")
            if curve.isSetLogY() and curve.getLogY():
                ax.set_yscale("log")
        ax.set_xlabel(x_label or "")
        ax.set_title(output.getName() or output.getId())
        if len(output.getListOfCurves()) <= 12:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        _write_atomic(path, buffer.getvalue())
        return path


def run_sedml(text: str, *, load_source: Callable[[str], Model], out: str | os.PathLike | None = None,
              source: str = "simulation.sedml") -> SedmlRun:
    """Execute one SED-ML document (module docstring).

    Parameters
    ----------
    text : str
        The SED-ML document.
    load_source : callable
        Maps a model's ``source`` attribute to a :class:`Model`.
    out : path, optional
        Directory for report CSVs and plot PNGs (created); nothing is written without it.
    source : str
        The document's file name (names the output files and messages).
    """
    target = None
    if out is not None:
        target = Path(out)
        target.mkdir(parents=True, exist_ok=True)
    return _Runner(text, source, load_source).run(target)


def run_omex(path: str | os.PathLike, *, out: str | os.PathLike | None = None) -> list[SedmlRun]:
    """Execute every SED-ML document of a COMBINE/OMEX archive, models read from the archive.

    Model sources are archive locations relative to the SED-ML file; a source
    outside the archive (a URL, ``urn:miriam:...``) is refused: nothing is
    downloaded.
    """
    archive = OmexArchive(path)
    documents = archive.locations(FORMAT_SEDML)
    if not documents:
        raise ModelLoadError(f"{archive.path}: the manifest lists no SED-ML document (entries: "
                             f"{format_ids(e.location for e in archive.entries)}).")
    runs = []
    for location in documents:
        base = PurePosixPath(location).parent

        def load_source(src: str, base: PurePosixPath = base) -> Model:
            if ":" in src.split("/")[0]:
                raise UnsupportedModelError(f"{archive.path}: model source {src!r} is outside the archive; "
                                            "put the SBML file into the archive.")
            where = normalise_location(str(base / src))
            return Model.from_sbml(archive.text(where), source=f"{archive.path}:{where}")

        runs.append(run_sedml(archive.text(location), load_source=load_source, out=out, source=location))
    return runs
