"""Checkpoints: JSON metadata + a NumPy ``.npz`` of arrays, never pickle.

Both files are written atomically (temporary file, fsync, ``os.replace``);
the arrays file first, so a JSON file never points to a missing arrays file:
writing the JSON is the commit. Loading reads plain numeric arrays only
(``allow_pickle=False``; an object array is refused with a
:class:`~epl_sysbio.errors.CheckpointError`, not a traceback).
The JSON holds the SHA-256 of the arrays file, the hash of the config that
produced the run, and a checksum of its own content: a truncated or tampered
checkpoint, or a resume under another config, is refused with a
:class:`~epl_sysbio.errors.CheckpointError`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from epl_sysbio.errors import CheckpointError
from epl_sysbio.files import atomic_write

__all__ = ["atomic_write", "save_checkpoint", "load_checkpoint", "latest_checkpoint", "list_checkpoints"]

FORMAT = "epl_sysbio.evolve.checkpoint"
VERSION = 1
_NAME = re.compile(r"^gen-(\d{6})\.json$")


def _checksum(document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def save_checkpoint(directory: Path, generation: int, config_hash: str, state: dict[str, Any],
                    arrays: dict[str, np.ndarray], keep: int = 0) -> Path:
    """Write ``gen-NNNNNN.json`` and ``gen-NNNNNN.npz`` into ``directory``; keep the newest ``keep`` (0: all)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"gen-{generation:06d}"
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    blob = buffer.getvalue()
    atomic_write(directory / f"{stem}.npz", blob)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "generation": generation,
        "config_hash": config_hash,
        "arrays_file": f"{stem}.npz",
        "arrays_sha256": hashlib.sha256(blob).hexdigest(),
        "state": state,
    }
    document["checksum"] = _checksum(document)
    path = directory / f"{stem}.json"
    atomic_write(path, json.dumps(document, indent=1).encode())  # key order kept (logbook columns)
    if keep:
        for old in list_checkpoints(directory)[:-keep]:
            old.unlink(missing_ok=True)
            old.with_suffix(".npz").unlink(missing_ok=True)
    return path


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoint JSON files in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _NAME.match(p.name))


def latest_checkpoint(directory: Path) -> Path:
    """The newest checkpoint JSON in ``directory``."""
    found = list_checkpoints(directory)
    if not found:
        raise CheckpointError(f"No checkpoint (gen-NNNNNN.json) in {str(directory)!r}; "
                              "start a new run with evolve() instead of resume().")
    return found[-1]


def load_checkpoint(path: Path, config_hash: str | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and validate a checkpoint; return ``(document, arrays)``.

    Raises
    ------
    CheckpointError
        If the JSON is unreadable or truncated, its checksum or the arrays'
        SHA-256 does not match, or ``config_hash`` differs from the run's.
    """
    path = Path(path)
    where = f"Checkpoint {str(path)!r}"
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise CheckpointError(f"{where} does not exist.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{where} is not valid JSON (truncated or damaged: {exc}); "
                              "resume from an older checkpoint.") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not an epl_sysbio.evolve checkpoint.")
    if document.get("version") != VERSION:
        raise CheckpointError(f"{where} has format version {document.get('version')!r}; this code reads {VERSION}.")
    if document.get("checksum") != _checksum(document):
        raise CheckpointError(f"{where} fails its checksum: it was modified after it was written; "
                              "resume from an older checkpoint.")
    if config_hash is not None and document["config_hash"] != config_hash:
        raise CheckpointError(f"{where} was written under a different config (hash {document['config_hash'][:12]}, "
                              f"now {config_hash[:12]}); resume with the run's own config.toml.")
    arrays_path = path.parent / document["arrays_file"]
    try:
        blob = arrays_path.read_bytes()
    except FileNotFoundError as exc:
        raise CheckpointError(f"{where}: its arrays file {arrays_path.name!r} is missing.") from exc
    if hashlib.sha256(blob).hexdigest() != document["arrays_sha256"]:
        raise CheckpointError(f"{where}: its arrays file {arrays_path.name!r} fails its SHA-256 "
                              "(truncated or modified); resume from an older checkpoint.")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:  # object arrays need pickle: refused
        raise CheckpointError(f"{where}: its arrays file {arrays_path.name!r} cannot be read as plain arrays "
                              f"({exc}); checkpoints never hold pickled objects. Resume from an older "
                              "checkpoint.") from None
    odd = sorted(k for k, v in arrays.items() if v.dtype.kind not in "biuf")
    if odd:
        raise CheckpointError(f"{where}: arrays {odd} are not numeric; checkpoints hold numbers only.")
    return document, arrays
