"""Text-level conversions: Antimony <-> SBML, safe SBML reading.

Antimony keeps process-global state (every loaded module stays loaded); it is
confined to :func:`_with_antimony`, which clears it before and after each call.
Antimony has no syntax for arbitrary XML annotations, so :func:`sbml_to_antimony`
appends them as one structured comment block that :func:`antimony_to_sbml`
re-attaches by id: a round trip through our Antimony keeps every annotation,
while other Antimony readers see only a comment.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path

import antimony
import libsbml

from epl_sysbio.errors import ModelLoadError

from .imports import import_closure, refuse_imports
from epl_sysbio.limits import DEFAULT_LIMITS, LoadLimits, check_antimony_depth, check_size, scan_sbml

__all__ = ["antimony_to_sbml", "sbml_to_antimony", "read_sbml_document", "MAX_MODEL_BYTES"]

#: Larger texts are refused before parsing (the largest curated BioModels are a few MB); see LoadLimits.
MAX_MODEL_BYTES = DEFAULT_LIMITS.max_bytes

_ANNOTATION_TAG = "// epl_sysbio:annotations "
_ANTIMONY_LOCK = threading.Lock()
_DTD_PATTERN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _check_text(text: object, what: str, source: str, limits: LoadLimits) -> str:
    if not isinstance(text, str):
        raise ModelLoadError(
            f"{source}: expected {what} text as str, got {type(text).__name__}. "
            "Pass the file contents, or use the *_file constructor for a path."
        )
    if not text.strip():
        raise ModelLoadError(f"{source}: the {what} text is empty. Pass a model definition.")
    check_size(len(text.encode("utf-8", "surrogatepass")), limits, source, f"{what} text")
    if "\x00" in text:
        raise ModelLoadError(f"{source}: the {what} text contains NUL bytes; it is not a text model.")
    return text


def read_sbml_document(text: str, source: str = "<string>", *,
                       limits: LoadLimits = DEFAULT_LIMITS) -> libsbml.SBMLDocument:
    """Parse SBML text into a libsbml document, refusing anything unsafe or unreadable.

    DTDs and entity declarations are refused before parsing: SBML never needs
    them, and they are how entity-expansion bombs ("billion laughs") work.
    Size, nesting depth and element count are checked against ``limits``
    before libsbml sees the text (:mod:`~epl_sysbio.limits`); external
    model files are read only when a hierarchical model is flattened
    (:mod:`~epl_sysbio.model.hierarchy`). Raises :class:`ModelLoadError`
    listing the reader's errors with their lines.
    """
    text = _check_text(text, "SBML", source, limits)
    if _DTD_PATTERN.search(text):
        raise ModelLoadError(
            f"{source}: the XML declares a DOCTYPE/ENTITY; SBML never needs one and entity "
            "expansion is refused for safety. Remove the <!DOCTYPE ...> block."
        )
    if not text.lstrip().startswith("<"):
        raise ModelLoadError(
            f"{source}: this is not XML (it does not start with '<'). If it is Antimony, "
            "use Model.from_antimony / from_antimony_file."
        )
    scan_sbml(text, limits, source)
    doc = libsbml.readSBMLFromString(text)
    problems = []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            problems.append(f"line {err.getLine()}: {err.getShortMessage()}: {err.getMessage().strip()}")
    if doc.getModel() is None and not problems:
        problems.append("the document has no <model> element")
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... ({len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ModelLoadError(
            f"{source}: cannot read SBML ({len(problems)} error(s)):\n  {shown}{more}\n"
            "Fix the XML/SBML at the lines shown (libsbml's messages above)."
        )
    return doc


def _antimony_error() -> str:
    try:
        return (antimony.getLastError() or "unknown error").strip()
    except UnicodeDecodeError:
        # Antimony echoes the offending bytes back, sometimes cut mid-character.
        return "a syntax error next to non-ASCII text (Antimony's own message was not valid UTF-8)"


def _with_antimony(load, arg: str, source: str, what: str):
    """Run one Antimony load on a clean slate and return (sbml, antimony) of its main module."""
    with _ANTIMONY_LOCK:
        antimony.clearPreviousLoads()
        try:
            status = load(arg)
            if status < 0:
                message = _antimony_error()
                raise ModelLoadError(
                    f"{source}: Antimony could not read this {what}:\n  {message}\n"
                    "Fix the line Antimony names above."
                )
            module = antimony.getMainModuleName()
            if not module:
                raise ModelLoadError(f"{source}: the {what} defines no model. Add 'model name ... end'.")
            sbml = antimony.getSBMLString(module)
            ant = antimony.getAntimonyString(module)
            if not sbml or not ant:
                message = _antimony_error()
                raise ModelLoadError(f"{source}: Antimony produced no model: {message}")
            return sbml, ant
        finally:
            antimony.clearPreviousLoads()


def _annotated_elements(doc: libsbml.SBMLDocument):
    model = doc.getModel()
    yield "", model
    elements = model.getListOfAllElements()
    for i in range(elements.getSize()):
        el = elements.get(i)
        if el.isSetId() and el.isSetAnnotation():
            yield el.getId(), el


def _custom_annotations(doc: libsbml.SBMLDocument) -> dict[str, str]:
    """Annotations by element id ('' for the model), without the RDF Antimony already keeps."""
    out = {}
    for sid, el in _annotated_elements(doc):
        if not el.isSetAnnotation():
            continue
        ann = el.getAnnotation()
        kept = [
            libsbml.XMLNode.convertXMLNodeToString(ann.getChild(i))
            for i in range(ann.getNumChildren())
            if ann.getChild(i).getName() != "RDF"
        ]
        if kept:
            out[sid] = "<annotation>" + "".join(kept) + "</annotation>"
    return out


def sbml_to_antimony(sbml: str, source: str = "<string>", *, limits: LoadLimits = DEFAULT_LIMITS) -> str:
    """Antimony text for an SBML model; custom annotations ride along in one comment line."""
    doc = read_sbml_document(sbml, source, limits=limits)
    annotations = _custom_annotations(doc)
    _, ant = _with_antimony(antimony.loadSBMLString, sbml, source, "SBML")
    if annotations:
        blob = base64.b64encode(json.dumps(annotations, sort_keys=True).encode()).decode()
        ant = ant.rstrip("\n") + "\n\n" + _ANNOTATION_TAG + blob + "\n"
    return ant


def antimony_to_sbml(text: str, source: str = "<string>", *, limits: LoadLimits = DEFAULT_LIMITS,
                     imports_from: str | Path | None = None) -> str:
    """SBML (Antimony's Level 3 output) for Antimony text, re-attaching carried annotations.

    ``import`` statements are refused unless ``imports_from`` names the model
    file the text came from; then only files below its directory may be
    imported (see :mod:`~epl_sysbio.model.imports`).
    """
    text = _check_text(text, "Antimony", source, limits)
    if text.lstrip().startswith("<"):
        raise ModelLoadError(
            f"{source}: this looks like XML, not Antimony. Use Model.from_sbml / from_sbml_file."
        )
    check_antimony_depth(text, limits, source)
    if imports_from is None:
        refuse_imports(text, source)
        sbml, _ = _with_antimony(antimony.loadAntimonyString, text, source, "Antimony text")
    else:
        with import_closure(Path(imports_from), text, limits) as closed:
            sbml, _ = _with_antimony(antimony.loadAntimonyString, closed, source, "Antimony text")
    annotations = {}
    for line in text.splitlines():
        if line.startswith(_ANNOTATION_TAG):
            try:
                annotations = json.loads(base64.b64decode(line[len(_ANNOTATION_TAG):]))
            except ValueError as exc:
                raise ModelLoadError(
                    f"{source}: the '{_ANNOTATION_TAG.strip()}' comment is corrupted ({exc}). "
                    "Remove that line to load the model without its custom annotations."
                ) from None
    if not annotations:
        return sbml
    doc = read_sbml_document(sbml, source, limits=limits)
    model = doc.getModel()
    for sid, xml in sorted(annotations.items()):
        el = model if sid == "" else model.getElementBySId(sid)
        if el is None:
            continue
        if not el.isSetMetaId():
            el.setMetaId(f"meta_{sid or 'model'}")
        node = libsbml.XMLNode.convertStringToXMLNode(xml)
        if node is not None:
            for i in range(node.getNumChildren()):
                el.appendAnnotation(node.getChild(i))
    return libsbml.writeSBMLToString(doc)
