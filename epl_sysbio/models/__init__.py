"""The curated models that ship with epl_sysbio (package data).

They are installed with the package, so they are there whatever the working
directory and however the package was installed::

    from epl_sysbio import models

    models.names()                       # ('epl_appendix_b', 'homeostatic_unit', ...)
    models.path("receptor_synapse")      # .../epl_sysbio/models/receptor_synapse.ant
    models.load("receptor_synapse")      # a validated Model

On the command line a bundled model is named without a suffix
(``epl-sysbio steady receptor_synapse``); ``epl-sysbio models`` lists them.
Each file documents its mechanism and its analytic steady state in comments
(``README.md`` beside them has the table).

Importing this module imports nothing heavy (no libsbml, no libRoadRunner).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from epl_sysbio.errors import UnknownIdError, format_ids

if TYPE_CHECKING:  # pragma: no cover
    from epl_sysbio.model import Model

__all__ = ["names", "path", "load"]

_SUFFIX = ".ant"


def _directory() -> Path:
    # A regular install (wheel or editable) unpacks package data as files; a Path is what users pass on.
    return Path(str(resources.files(__name__)))


def names() -> tuple[str, ...]:
    """Names of the bundled models, sorted (file names without ``.ant``)."""
    return tuple(sorted(p.stem for p in _directory().glob(f"*{_SUFFIX}")))


def path(name: str) -> Path:
    """The file of the bundled model ``name`` (an Antimony ``.ant`` file).

    Parameters
    ----------
    name : str
        One of :func:`names`; a trailing ``.ant`` is accepted.

    Raises
    ------
    UnknownIdError
        ``name`` is not a bundled model (the message lists those that are).
    """
    stem = name[: -len(_SUFFIX)] if isinstance(name, str) and name.endswith(_SUFFIX) else name
    if not isinstance(stem, str) or stem not in names():
        raise UnknownIdError(
            f"No bundled model {name!r}. Bundled models: {format_ids(names())}. "
            "Give one of these names, or the path of your own .ant/.xml/.omex file."
        )
    return _directory() / f"{stem}{_SUFFIX}"


def load(name: str, *, validate: bool = True) -> Model:
    """The bundled model ``name`` as a :class:`~epl_sysbio.model.Model` (validated unless ``validate=False``)."""
    from epl_sysbio.model import Model

    return Model.from_antimony_file(path(name), validate=validate)
