"""Export a network as SBML, Antimony and a COMBINE/OMEX archive with a SED-ML steady-state task.

The archive (written by libcombine, https://combinearchive.org) holds
``manifest.xml``, the SBML model ``model.xml`` and ``simulation.sedml``:
SED-ML Level 1 Version 4 (written by libsedml) with one ``steadyState``
simulation of the model, a task, and a report of every floating species'
steady-state concentration. The SED-ML document is the archive's master file.
tellurium's and COPASI's archive readers run it as it is
(``tests/test_omex.py``), and so does ``epl-sysbio sedml model.omex``.
"""

from __future__ import annotations

from pathlib import Path

from epl_sysbio.model import Model
from epl_sysbio.model.omex import FORMAT_SBML, FORMAT_SEDML, write_omex_archive
from epl_sysbio.model.sedml import simulation_experiment

__all__ = ["sedml_steady_state", "write_omex", "export_network"]


def sedml_steady_state(model: Model, source: str = "model.xml") -> str:
    """SED-ML L1V4 text: a steady-state simulation of ``source`` reporting every floating species."""
    return simulation_experiment(model, source=source, steady_state=True)


def write_omex(model: Model, path: str | Path, *, time_course: tuple[float, int] | None = None) -> Path:
    """Write a COMBINE/OMEX archive holding the model (SBML L3V2) and its SED-ML steady-state task.

    ``time_course=(t_end, steps)`` adds a uniform time course task and report.
    """
    sedml = simulation_experiment(model, source="model.xml", steady_state=True, time_course=time_course)
    return write_omex_archive(path, [("model.xml", model.to_sbml(), FORMAT_SBML, False),
                                     ("simulation.sedml", sedml, FORMAT_SEDML, True)])


def export_network(model: Model, directory: str | Path, stem: str = "model") -> dict[str, Path]:
    """Write ``<stem>.xml`` (SBML), ``<stem>.ant`` (Antimony) and ``<stem>.omex`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"sbml": directory / f"{stem}.xml", "antimony": directory / f"{stem}.ant",
             "omex": directory / f"{stem}.omex"}
    model.save(paths["sbml"])
    model.save(paths["antimony"])
    write_omex(model, paths["omex"])
    return paths
