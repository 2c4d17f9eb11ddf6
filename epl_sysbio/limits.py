"""Load limits: size, nesting depth and element count, checked before libsbml or Antimony parse.

libsbml, Antimony and libRoadRunner recurse over a model's tree in native
code, so a hostile model crashes them or takes minutes (measured here with
libsbml 5.20, Antimony 3.3, libRoadRunner 2.10):

==========================================  ========================================
input                                       what happens without a limit
==========================================  ========================================
MathML nested 10,000 levels                 libsbml's reader segfaults
MathML nested 5,000 levels                  libRoadRunner's compiler segfaults
annotation nested 5,000 / 30,000 levels     libsbml reads it in 8.5 s / crashes (quadratic)
Antimony ``exp(`` nested 4,500 levels       Antimony segfaults (after 1.9 GB)
Antimony ``k-k-...-k``, 8,000 terms         Antimony segfaults
==========================================  ========================================

The curated BioModels in ``tests/data/biomodels`` nest at most 14 levels
deep and hold at most 18,891 elements (1.5 MB), so the defaults below leave a
wide margin for real models and stay far from every crash. A model beyond a
limit gets :class:`~epl_sysbio.errors.ModelLimitError` naming the limit and
how to raise it (``LoadLimits(...)``, or ``--max-depth`` / ``--max-elements``
/ ``--max-bytes`` on the command line).

SBML is scanned with the standard library's expat parser (streaming, no
recursion, ~25 ms per MB), which stops at the first element past a limit.
For Antimony text the depth is bounded from above without parsing: in each
statement, the deepest parenthesis nesting plus the number of operators
(Antimony nests a chain of ``-``, ``/`` or ``^`` one level per operator).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass

from epl_sysbio.errors import ConfigError, Interval, ModelLimitError, ModelLoadError, validate_fields

__all__ = ["LoadLimits", "DEFAULT_LIMITS", "check_size", "scan_sbml", "check_antimony_depth"]


@dataclass(frozen=True, kw_only=True)
class LoadLimits:
    """Limits a model must respect before any native parser sees it.

    Parameters
    ----------
    max_bytes : int
        Largest model text, in bytes of UTF-8 (default 64 MiB).
    max_depth : int
        Deepest element nesting of the SBML (XML) tree, and the bound on the
        expression depth of one Antimony statement (default 1000).
    max_elements : int
        Most XML elements in an SBML document (default 1,000,000; libsbml needs
        about 1 GB and 6.5 s for a million).
    """

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 1000
    max_elements: int = 1_000_000

    def __post_init__(self) -> None:
        validate_fields(self, dict.fromkeys(("max_bytes", "max_depth", "max_elements"),
                                            Interval(int, 1, None, closed="left")), error=ConfigError)


DEFAULT_LIMITS = LoadLimits()

_FLAGS = {"max_bytes": "--max-bytes", "max_depth": "--max-depth", "max_elements": "--max-elements"}


def _refuse(source: str, what: str, found: str, name: str, limit: int) -> ModelLimitError:
    return ModelLimitError(
        f"{source}: {what} ({found}); the limit {name} is {limit:,}. Nothing was parsed. "
        f"If the model is trusted, raise the limit: LoadLimits({name}=...) in Python, {_FLAGS[name]} N "
        "on the command line.")


def check_size(n_bytes: int, limits: LoadLimits, source: str, what: str = "model") -> None:
    """Refuse a text of ``n_bytes`` bytes above ``limits.max_bytes``."""
    if n_bytes > limits.max_bytes:
        raise _refuse(source, f"the {what} is too large", f"{n_bytes:,} bytes", "max_bytes", limits.max_bytes)


class _Stop(Exception):
    """Raised inside the expat handlers at the first element past a limit."""


#: The SBML comp package's external model reference, read from a file by libsbml and libRoadRunner.
_EXTERNAL_MODEL = "externalModelDefinition"


def scan_sbml(text: str, limits: LoadLimits, source: str) -> tuple[int, int, tuple[str, ...]]:
    """Check an SBML text against ``limits`` without building a tree.

    Returns
    -------
    depth, elements : int
        Deepest nesting and number of elements.
    external : tuple of str
        The ``source`` attributes of comp ``externalModelDefinition`` elements
        (files that libsbml and libRoadRunner would read).

    Raises
    ------
    ModelLimitError
        Past ``max_depth`` or ``max_elements`` (the scan stops there).
    ModelLoadError
        The text is not well-formed XML (with expat's line, column and reason).
    """
    depth = deepest = elements = 0
    external: list[str] = []
    parser = xml.parsers.expat.ParserCreate(encoding="utf-8", namespace_separator=" ")

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth, deepest, elements
        depth += 1
        elements += 1
        deepest = max(deepest, depth)
        if depth > limits.max_depth or elements > limits.max_elements:
            raise _Stop
        if name.rpartition(" ")[2] == _EXTERNAL_MODEL:
            external.extend(v for k, v in attributes.items() if k.rpartition(" ")[2] == "source")

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(text.encode("utf-8", "surrogatepass"), True)
    except _Stop:
        if depth > limits.max_depth:
            raise _refuse(source, "the XML nests too deeply", f"more than {limits.max_depth:,} levels at line "
                          f"{parser.CurrentLineNumber}", "max_depth", limits.max_depth) from None
        raise _refuse(source, "the XML has too many elements", f"more than {limits.max_elements:,}",
                      "max_elements", limits.max_elements) from None
    except xml.parsers.expat.ExpatError as exc:
        raise ModelLoadError(
            f"{source}: cannot read SBML: not well-formed XML at line {exc.lineno}, column {exc.offset + 1}: "
            f"{xml.parsers.expat.ErrorString(exc.code)}. Fix the XML there.") from None
    return deepest, elements, tuple(external)


# Comments and string literals do not nest expressions (nor hide an `import`): masked before counting.
_ANTIMONY_MASK = re.compile(r'//[^\n]*|#[^\n]*|/\*.*?(?:\*/|$)|"[^"\n]*"?', re.DOTALL)
_OPERATOR = re.compile(r"[-+*/^<>=!&|]+")


def mask_antimony(text: str) -> str:
    """``text`` with comments and string literals blanked (same length and lines)."""
    return _ANTIMONY_MASK.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def check_antimony_depth(text: str, limits: LoadLimits, source: str) -> int:
    """Refuse Antimony text whose expression depth may exceed ``limits.max_depth``.

    The bound, per statement (text between ``;`` or line ends): the deepest
    parenthesis nesting plus the number of operator tokens. Returns the
    largest bound found.
    """
    worst, worst_line = 0, 0
    for number, line in enumerate(mask_antimony(text).splitlines(), start=1):
        for statement in line.split(";"):
            if not statement.strip():
                continue
            depth = deepest = 0
            for ch in statement:
                if ch == "(":
                    depth += 1
                    deepest = max(deepest, depth)
                elif ch == ")":
                    depth -= 1
            bound = deepest + len(_OPERATOR.findall(statement))
            if bound > worst:
                worst, worst_line = bound, number
    if worst > limits.max_depth:
        raise _refuse(source, "an Antimony expression may nest too deeply",
                      f"up to {worst:,} levels, counting parentheses and operators, at line {worst_line}",
                      "max_depth", limits.max_depth)
    return worst
