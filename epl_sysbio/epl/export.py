"""Export a network as SBML, Antimony and a COMBINE/OMEX archive with a SED-ML steady-state task.

The archive (a zip, https://combinearchive.org) holds ``manifest.xml``, the
SBML model ``model.xml`` and ``simulation.sedml``: SED-ML Level 1 Version 4
(written with libsedml) with one ``steadyState`` simulation of the model, a
task, and a report of every floating species' steady-state concentration.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from epl_sysbio.errors import InvalidValueError
from epl_sysbio.files import atomic_write, atomic_write_text
from epl_sysbio.model import Model

__all__ = ["sedml_steady_state", "write_omex", "export_network"]

_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<omexManifest xmlns="http://identifiers.org/combine.specifications/omex-manifest">
  <content location="." format="http://identifiers.org/combine.specifications/omex"/>
  <content location="./manifest.xml" format="http://identifiers.org/combine.specifications/omex-manifest"/>
  <content location="./model.xml" format="http://identifiers.org/combine.specifications/sbml.level-3.version-2"/>
  <content location="./simulation.sedml" format="http://identifiers.org/combine.specifications/sed-ml.level-1.version-4" master="true"/>
</omexManifest>
"""


def _check(status: int, what: str) -> None:
    import libsedml

    if status != libsedml.LIBSEDML_OPERATION_SUCCESS:
        raise InvalidValueError(f"libsedml refused {what} (status {status}).")


def sedml_steady_state(model: Model, source: str = "model.xml") -> str:
    """SED-ML L1V4 text: a steady-state simulation of ``source`` reporting every floating species."""
    import libsedml

    doc = libsedml.SedDocument(1, 4)
    # the variables' XPath targets use the sbml: prefix
    _check(doc.getNamespaces().add("http://www.sbml.org/sbml/level3/version2/core", "sbml"), "the sbml namespace")
    sed_model = doc.createModel()
    _check(sed_model.setId("model"), "the model id")
    _check(sed_model.setSource(source), "the model source")
    _check(sed_model.setLanguage("urn:sedml:language:sbml.level-3.version-2"), "the model language")
    sim = doc.createSteadyState()
    _check(sim.setId("steady_state"), "the simulation id")
    alg = sim.createAlgorithm()
    _check(alg.setKisaoID("KISAO:0000407"), "the algorithm (KISAO:0000407, steady-state root finding)")
    task = doc.createTask()
    _check(task.setId("task"), "the task id")
    task.setModelReference("model")
    task.setSimulationReference("steady_state")
    report = doc.createReport()
    report.setId("steady_state_report")
    report.setName("steady-state concentrations")
    for sid in model.floating_species_ids:
        gen = doc.createDataGenerator()
        gen.setId(f"dg_{sid}")
        gen.setName(sid)
        var = gen.createVariable()
        var.setId(f"v_{sid}")
        var.setTaskReference("task")
        var.setTarget(f"/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='{sid}']")
        gen.setMath(libsedml.parseL3Formula(f"v_{sid}"))
        ds = report.createDataSet()
        ds.setId(f"ds_{sid}")
        ds.setLabel(sid)
        ds.setDataReference(f"dg_{sid}")
    text = libsedml.writeSedMLToString(doc)
    if not text:
        raise InvalidValueError("libsedml could not write the SED-ML document.")
    return text


def write_omex(model: Model, path: str | Path) -> Path:
    """Write a COMBINE/OMEX archive holding the model (SBML L3V2) and its SED-ML steady-state task."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.xml", _MANIFEST)
        archive.writestr("model.xml", model.to_sbml())
        archive.writestr("simulation.sedml", sedml_steady_state(model))
    return atomic_write(path, buffer.getvalue(), what="OMEX archive")


def export_network(model: Model, directory: str | Path, stem: str = "model") -> dict[str, Path]:
    """Write ``<stem>.xml`` (SBML), ``<stem>.ant`` (Antimony) and ``<stem>.omex`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"sbml": directory / f"{stem}.xml", "antimony": directory / f"{stem}.ant",
             "omex": directory / f"{stem}.omex"}
    atomic_write_text(paths["sbml"], model.to_sbml())
    atomic_write_text(paths["antimony"], model.to_antimony())
    write_omex(model, paths["omex"])
    return paths
