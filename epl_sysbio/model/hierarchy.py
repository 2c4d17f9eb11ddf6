"""Hierarchical models (the SBML Level 3 ``comp`` package), flattened when loaded.

libRoadRunner and tellurium flatten a hierarchical model as they load it, and
so does :class:`~epl_sysbio.model.Model`: one flat model is what every other
part of the toolkit (editing, export, the engine) works on. Flattening is
libsbml's ``CompFlatteningConverter``, so the ids are the ones libRoadRunner
reports for the same file:

* an element ``x`` of submodel ``A`` becomes ``A__x``; inside a submodel ``B``
  of ``A`` it becomes ``A__B__x`` (two underscores per level);
* an element replaced by another (``replacedElement``, ``replacedBy``) is gone
  and the replacing element keeps its own id; references to the replaced one
  follow it;
* deleted elements are gone; ports, submodels and model definitions are not
  kept, and the flattened document no longer declares the ``comp`` package.

External model definitions name other files. Loading never reads a file the
user did not point at, so they are resolved only for a model loaded from a
file, and only to files inside that file's directory (a relative path with no
``..`` and no URL scheme); each is read with the same checks as the model
itself (size, no DTD/entities, well-formed SBML). A model given as text with
external model definitions is refused with a message saying to load the
file instead.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import libsbml

from epl_sysbio.errors import ModelLoadError, format_ids
from epl_sysbio.model.convert import MAX_MODEL_BYTES, read_sbml_document

__all__ = ["is_hierarchical", "flatten_hierarchy"]


def _comp(doc: libsbml.SBMLDocument):
    return doc.getPlugin("comp") if doc.isPackageEnabled("comp") else None


def is_hierarchical(doc: libsbml.SBMLDocument) -> bool:
    """True when the document declares ``comp`` and has submodels or model definitions."""
    plugin = _comp(doc)
    if plugin is None or doc.getModel() is None:
        return False
    model_plugin = doc.getModel().getPlugin("comp")
    return bool(
        plugin.getNumModelDefinitions()
        or plugin.getNumExternalModelDefinitions()
        or (model_plugin is not None and model_plugin.getNumSubmodels())
    )


def _external_sources(doc: libsbml.SBMLDocument) -> list[tuple[str, str]]:
    plugin = _comp(doc)
    if plugin is None:
        return []
    return [(e.getId(), e.getSource()) for e in plugin.getListOfExternalModelDefinitions()]


def _resolve(source: str, referrer: Path, root: Path, what: str) -> Path:
    """The file an external model definition names, if it is allowed to be read."""
    if source.startswith("file:"):
        source = source[len("file:"):]
    rel = PurePosixPath(source)
    if not source or ":" in source or rel.is_absolute() or ".." in rel.parts:
        raise ModelLoadError(
            f"{what}: external model definition source {source!r} is not a relative path inside the "
            f"model's directory {str(root)!r}; only such files are read. Copy the file next to the model "
            "and name it by a relative path."
        )
    path = Path(os.path.normpath(referrer.parent / rel))
    # Followed through symlinks: a link next to the model must not lead outside its directory.
    if root not in path.parents or root.resolve() not in path.resolve().parents:
        raise ModelLoadError(f"{what}: external model definition source {source!r} leaves {str(root)!r}.")
    if not path.is_file():
        raise ModelLoadError(
            f"{what}: external model definition source {source!r} does not exist (looked for {str(path)!r}). "
            "Put the referenced model file next to the model."
        )
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise ModelLoadError(f"{what}: external model file {str(path)!r} is larger than {MAX_MODEL_BYTES} bytes.")
    return path


def _check_externals(doc: libsbml.SBMLDocument, path: Path, root: Path, seen: set[Path]) -> None:
    """Vet every external model file reachable from ``doc`` (read by ``path``) before libsbml reads them."""
    for _, source in _external_sources(doc):
        target = _resolve(source, path, root, str(path))
        if target in seen:
            continue
        seen.add(target)
        try:
            text = target.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelLoadError(f"{target}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
        _check_externals(read_sbml_document(text, str(target)), target, root, seen)


def flatten_hierarchy(
    doc: libsbml.SBMLDocument, *, path: Path | None, source: str
) -> tuple[libsbml.SBMLDocument, list[str]]:
    """Flatten a hierarchical document; return it (the same object) and a note on what was done.

    Parameters
    ----------
    doc : libsbml.SBMLDocument
        A document for which :func:`is_hierarchical` is true.
    path : Path or None
        The file it was read from; None for text, which then may not name external files.
    source : str
        How to name the model in messages.
    """
    externals = _external_sources(doc)
    if externals and path is None:
        raise ModelLoadError(
            f"{source}: the hierarchical model names external model files "
            f"{format_ids(s for _, s in externals)}, which are read only next to a model file. "
            "Load it with Model.from_sbml_file(path)."
        )
    submodels = [s.getId() for s in doc.getModel().getPlugin("comp").getListOfSubmodels()]
    if path is not None:
        path = path.resolve()
        _check_externals(doc, path, path.parent, {path})
        doc.setLocationURI(path.as_uri())
    props = libsbml.ConversionProperties()
    props.addOption("flatten comp", True)
    props.addOption("leavePorts", False)
    # The flattened model is validated as a whole right after, like every loaded model.
    props.addOption("performValidation", False)
    if path is not None:
        props.addOption("basePath", str(path.parent))
    status = doc.convert(props)
    if status != libsbml.LIBSBML_OPERATION_SUCCESS or doc.getModel() is None:
        log = doc.getErrorLog()
        problems = [
            " ".join(log.getError(i).getMessage().split())
            for i in range(log.getNumErrors())
            if log.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
        ]
        raise ModelLoadError(
            f"{source}: libsbml could not flatten this hierarchical (comp) model: "
            + ("; ".join(problems[:5]) or f"status {status}")
            + ". Check its submodels, replacements and model definitions."
        )
    note = "hierarchical model flattened (comp)"
    if submodels:
        note += (
            f": elements of submodel(s) {format_ids(submodels)} are now '<submodel>__<id>' "
            "unless replaced by a top-level element"
        )
    return doc, [note]
