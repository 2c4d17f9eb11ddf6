"""COMBINE/OMEX archives (https://combinearchive.org), read and written with libcombine.

An archive is a zip holding files and a ``manifest.xml`` that names each
file's format with an identifiers.org URI. libcombine writes the manifest, so
the format URIs are the ones tellurium's and COPASI's readers (libcombine
too) recognise: ``http://identifiers.org/combine.specifications/sbml`` and
``.../sed-ml``.

Which SBML file is "the model" of an archive (:meth:`OmexArchive.model_location`):
the master file if it is SBML; otherwise the only SBML file; otherwise the
one SBML file the master SED-ML document's models point to. Anything else is
ambiguous and the error lists the candidates.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from epl_sysbio.errors import InvalidValueError, ModelFileNotFoundError, ModelLoadError, format_ids
from epl_sysbio.limits import DEFAULT_LIMITS, LoadLimits, check_size

__all__ = ["OmexArchive", "OmexEntry", "write_omex_archive", "FORMAT_SBML", "FORMAT_SEDML"]

FORMAT_SBML = "sbml"
FORMAT_SEDML = "sed-ml"


def _libcombine():
    import libcombine

    return libcombine


def normalise_location(location: str) -> str:
    """``./model.xml`` and ``model.xml`` are the same entry; paths inside an archive use ``/``."""
    text = str(PurePosixPath(location.replace("\\", "/")))
    return text[2:] if text.startswith("./") else text


@dataclass(frozen=True)
class OmexEntry:
    """One file listed in the manifest: its location, format URI and master flag."""

    location: str
    format: str
    master: bool

    def is_format(self, key: str) -> bool:
        """Whether the format URI is ``key`` (``"sbml"``, ``"sed-ml"``, ...), any level and version."""
        return bool(_libcombine().KnownFormats.isFormat(key, self.format))


class OmexArchive:
    """The manifest and file texts of a COMBINE/OMEX archive, read into memory.

    Parameters
    ----------
    path : path
        The ``.omex`` file.

    Raises
    ------
    ModelFileNotFoundError
        ``path`` does not exist or is not a file.
    ModelLoadError
        The file is not a zip, or libcombine cannot read its manifest.
    """

    def __init__(self, path: str | os.PathLike, *, limits: LoadLimits = DEFAULT_LIMITS) -> None:
        p = Path(path)
        if not p.is_file():
            raise ModelFileNotFoundError(f"COMBINE archive {str(p)!r} does not exist or is not a file. Check the path.")
        if not zipfile.is_zipfile(p):
            raise ModelLoadError(f"{p}: not a COMBINE/OMEX archive (not a zip file). Give an .omex file, or load "
                                 "SBML/Antimony text with load_model.")
        # Every entry is read into memory: a zip bomb is refused by its declared sizes first.
        with zipfile.ZipFile(p) as zf:
            sizes = [info.file_size for info in zf.infolist()]
        check_size(max(sizes, default=0), limits, str(p), "largest file in the archive")
        check_size(sum(sizes) // 4, limits, str(p), "archive (a quarter of its uncompressed size)")
        lc = _libcombine()
        archive = lc.CombineArchive()
        try:
            if not archive.initializeFromArchive(str(p)):
                raise ModelLoadError(f"{p}: libcombine could not read the archive's manifest.xml. Check that the "
                                     "archive holds a valid OMEX manifest.")
            entries = []
            for i in range(archive.getNumEntries()):
                content = archive.getEntry(i)
                entries.append(OmexEntry(normalise_location(content.getLocation()), content.getFormat(),
                                         bool(content.getMaster())))
            self.path = p
            self.entries = tuple(e for e in entries if e.location not in (".", "manifest.xml"))
            self._texts = {e.location: archive.extractEntryToString(e.location) for e in self.entries}
        finally:
            archive.cleanUp()

    def __repr__(self) -> str:
        return f"OmexArchive({str(self.path)!r}, entries={[e.location for e in self.entries]})"

    def locations(self, key: str) -> list[str]:
        """Locations of the entries of format ``key`` (``"sbml"``, ``"sed-ml"``), in manifest order."""
        return [e.location for e in self.entries if e.is_format(key)]

    @property
    def master(self) -> OmexEntry | None:
        """The entry marked ``master="true"``, if any."""
        return next((e for e in self.entries if e.master), None)

    def text(self, location: str) -> str:
        """The content of the file at ``location`` as text."""
        loc = normalise_location(location)
        if loc not in self._texts:
            raise ModelLoadError(f"{self.path}: the archive has no file {location!r}; it holds "
                                 f"{format_ids(self._texts)}.")
        return self._texts[loc]

    def model_location(self) -> str:
        """Location of the archive's model (module docstring: master SBML, only SBML, or the master SED-ML's)."""
        sbml = self.locations(FORMAT_SBML)
        master = self.master
        if master is not None and master.is_format(FORMAT_SBML):
            return master.location
        if len(sbml) == 1:
            return sbml[0]
        if not sbml:
            raise ModelLoadError(f"{self.path}: the archive holds no SBML model (entries: "
                                 f"{format_ids(e.location for e in self.entries)}).")
        if master is not None and master.is_format(FORMAT_SEDML):
            from epl_sysbio.model.sedml import model_sources

            base = PurePosixPath(master.location).parent
            used = sorted({normalise_location(str(base / s)) for s in model_sources(self.text(master.location))} &
                          set(sbml))
            if len(used) == 1:
                return used[0]
        raise ModelLoadError(f"{self.path}: {len(sbml)} SBML models ({format_ids(sbml)}) and no master SBML; name "
                             "one with Model.from_omex(path, location=...).")


def write_omex_archive(path: str | os.PathLike, files: Sequence[tuple[str, str, str, bool]]) -> Path:
    """Write a COMBINE/OMEX archive atomically.

    Parameters
    ----------
    path : path
        The ``.omex`` file to write (replaced if it exists).
    files : sequence of tuple
        Each file as ``(location, text, format_key, master)``: its location inside the archive, its text, a libcombine
        format key (``"sbml"``, ``"sed-ml"``, ...) and whether it is the master file.
    """
    lc = _libcombine()
    path = Path(path)
    if sum(bool(f[3]) for f in files) > 1:
        raise InvalidValueError(f"An OMEX archive has at most one master file; got {sum(bool(f[3]) for f in files)}.")
    archive = lc.CombineArchive()
    # libcombine's addFileFromString stages each file as temp<N>.tmp in the current directory, where a kill
    # before cleanUp() leaves them in the user's folder: stage them in a private temporary directory instead.
    with tempfile.TemporaryDirectory(prefix="epl-sysbio-omex-") as staging:
        for i, (location, text, key, master) in enumerate(files):
            uri = lc.KnownFormats.lookupFormat(key)
            if not uri:
                raise InvalidValueError(f"libcombine knows no format {key!r} (for {location!r}); use 'sbml' or "
                                        "'sed-ml'.")
            staged = Path(staging) / str(i)
            staged.write_text(text, encoding="utf-8")
            if not archive.addFile(str(staged), location, uri, bool(master)):
                raise InvalidValueError(f"libcombine refused {location!r} ({key}).")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            if not archive.writeToFile(tmp):
                raise InvalidValueError(f"libcombine could not write the archive {str(path)!r}.")
            os.replace(tmp, path)
        finally:
            archive.cleanUp()
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path
