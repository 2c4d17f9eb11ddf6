"""libsbml consistency checks, reported with severity, element id and line."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import libsbml

__all__ = ["ValidationIssue", "ValidationReport", "validate_document"]

_SEVERITY = {
    libsbml.LIBSBML_SEV_INFO: "info",
    libsbml.LIBSBML_SEV_WARNING: "warning",
    libsbml.LIBSBML_SEV_ERROR: "error",
    libsbml.LIBSBML_SEV_FATAL: "fatal",
}


@dataclass(frozen=True)
class ValidationIssue:
    """One libsbml finding.

    ``element_id`` is the id of the innermost element with an id that starts at
    or before ``line`` (libsbml reports lines, not elements); None if unknown.
    """

    severity: str
    code: int
    category: str
    element_id: str | None
    line: int
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", element {self.element_id!r}" if self.element_id else "")
        return f"{self.severity} {self.code} ({self.category}) at {where}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """All findings of one validation run, most severe first."""

    issues: tuple[ValidationIssue, ...]

    @property
    def errors(self) -> tuple[ValidationIssue, ...]:
        return tuple(i for i in self.issues if i.severity in ("error", "fatal"))

    @property
    def warnings(self) -> tuple[ValidationIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error or fatal issue (warnings allowed)."""
        return not self.errors

    def __str__(self) -> str:
        if not self.issues:
            return "valid: 0 errors, 0 warnings"
        head = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        return head + "\n" + "\n".join(f"  {i}" for i in self.issues)


def _line_index(doc: libsbml.SBMLDocument) -> tuple[list[int], list[str]]:
    """Sorted start lines of elements with ids, for mapping an error line to an element."""
    spans = []
    model = doc.getModel()
    if model is not None:
        elements = model.getListOfAllElements()
        for i in range(elements.getSize()):
            el = elements.get(i)
            if el.isSetId() and el.getLine() > 0:
                spans.append((el.getLine(), el.getId()))
    spans.sort()
    return [s[0] for s in spans], [s[1] for s in spans]


def validate_document(doc: libsbml.SBMLDocument, *, units: bool = False) -> ValidationReport:
    """Run libsbml's consistency checks on ``doc`` (a copy, so the caller's error log stays).

    Parameters
    ----------
    doc : libsbml.SBMLDocument
        Parsed from text, so that line numbers refer to that text.
    units : bool
        Also check unit consistency (real models often fail it harmlessly).
    """
    doc = doc.clone()
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, units)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    lines, ids = _line_index(doc)
    issues = []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        line = err.getLine()
        pos = bisect.bisect_right(lines, line) - 1
        issues.append(
            ValidationIssue(
                severity=_SEVERITY.get(err.getSeverity(), "error"),
                code=err.getErrorId(),
                category=err.getCategoryAsString(),
                element_id=ids[pos] if pos >= 0 and line > 0 else None,
                line=line,
                message=" ".join(err.getMessage().split()),
            )
        )
    order = {"fatal": 0, "error": 1, "warning": 2, "info": 3}
    issues.sort(key=lambda i: (order[i.severity], i.line, i.code))
    return ValidationReport(tuple(issues))
