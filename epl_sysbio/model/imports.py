"""Which files loading an Antimony model may read: its ``import`` statements.

Loading a model never reads a file the user did not name. Antimony's
``import "file"`` reads any file it can open, resolved against the *current
directory first* and then the importing file's directory (measured with
Antimony 3.3: a ``sub/inner.ant`` in the current directory wins over the one
beside the model), and its error messages quote the imported file's content
(``import "/etc/passwd"`` put its first token into the message).

Policy:

- ``import`` is refused by default, with the imported paths in the message.
- With ``allow_imports=True`` (file loaders only, ``--allow-imports`` on the
  command line) every import, recursively, must resolve (relative to the
  importing file, symlinks followed) to a regular file below the directory
  of the model file being loaded. Antimony then reads a private copy of that
  closure in which every ``import`` names an absolute path inside the copy,
  so neither the current directory nor a search path can substitute another
  file. An imported SBML file may not name external model files of its own.

SBML's own external model definitions (the comp package) are resolved, only
next to a model file, by :mod:`epl_sysbio.model.hierarchy`.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from epl_sysbio.errors import ModelLoadError, format_ids

from epl_sysbio.limits import LoadLimits, check_antimony_depth, check_size, mask_antimony, scan_sbml

__all__ = ["antimony_imports", "refuse_imports", "refuse_external_models", "import_closure"]

_KEYWORD = re.compile(r"\bimport\b")
_PATH = re.compile(r'\s*"([^"\n]*)"')


def _import_spans(text: str) -> list[tuple[int, int, str | None]]:
    """(start, end, path) of each ``import`` statement outside comments and strings; path None if unreadable."""
    spans = []
    for match in _KEYWORD.finditer(mask_antimony(text)):
        literal = _PATH.match(text, match.end())
        spans.append((match.start(), literal.end() if literal else match.end(), literal.group(1) if literal else None))
    return spans


def antimony_imports(text: str) -> list[str]:
    """The paths Antimony text imports (``'?'`` for an ``import`` without a readable path)."""
    return [path if path is not None else "?" for _, _, path in _import_spans(text)]


def refuse_imports(text: str, source: str) -> None:
    """Raise :class:`ModelLoadError` if Antimony ``text`` imports anything."""
    paths = antimony_imports(text)
    if paths:
        raise ModelLoadError(
            f"{source}: the model imports {format_ids(paths)}. Loading a model never reads files you did not name, "
            "so Antimony 'import' is refused. Paste the imported models into this file, or load it with "
            "allow_imports=True (--allow-imports) to allow imports of files below the model's own directory.")


def refuse_external_models(sources: tuple[str, ...], source: str) -> None:
    """Raise :class:`ModelLoadError` if an SBML document refers to external model files."""
    if sources:
        raise ModelLoadError(
            f"{source}: the SBML refers to external model files {format_ids(sources)} (comp "
            "externalModelDefinition); loading a model never reads files you did not name. Flatten the model "
            "first (libsbml's CompFlatteningConverter) and load the flat file.")


@contextlib.contextmanager
def import_closure(model_path: Path, text: str, limits: LoadLimits) -> Iterator[str]:
    """Antimony ``text`` (the content of ``model_path``) with every import pointing into a private copy.

    Yields the rewritten main text; the copy is deleted on exit. Raises
    :class:`ModelLoadError` for an import outside ``model_path``'s directory,
    a missing file, or a cycle-free closure that breaks a load limit.
    """
    root = Path(model_path).resolve().parent
    workdir = Path(tempfile.mkdtemp(prefix="epl-sysbio-imports-"))
    copies: dict[Path, Path] = {}

    def rewrite(content: str, importer: Path) -> str:
        pieces, last = [], 0
        for start, end, path in _import_spans(content):
            if path is None:
                raise ModelLoadError(f"{importer}: an 'import' without a quoted file name; write import \"file.ant\".")
            pieces += [content[last:start], f'import "{copy_of(path, importer)}"']
            last = end
        return "".join(pieces) + content[last:]

    def copy_of(path: str, importer: Path) -> Path:
        target = (importer.parent / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            where = "is not a file" if target.is_relative_to(root) else f"is outside {str(root)!r}"
            raise ModelLoadError(
                f"{importer}: import {path!r} resolves to {str(target)!r}, which {where}. With allow_imports, "
                "a model may import only files below its own directory.")
        if target in copies:
            return copies[target]
        copies[target] = copy = workdir / f"{len(copies)}_{target.name}"
        data = target.read_bytes()
        check_size(len(data), limits, str(target), "imported file")
        content = data.decode("utf-8", errors="replace")
        if content.lstrip().startswith("<"):
            refuse_external_models(scan_sbml(content, limits, str(target))[2], str(target))
        else:
            check_antimony_depth(content, limits, str(target))
            content = rewrite(content, target)
        copy.write_text(content, encoding="utf-8")
        return copy

    try:
        yield rewrite(text, Path(model_path).resolve())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
