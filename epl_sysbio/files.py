"""Files the toolkit writes: every write is atomic, every failure an :class:`~epl_sysbio.errors.FileAccessError`.

A write goes to a temporary file in the target's own directory, is flushed
and fsynced, and is then renamed over the target (``os.replace``, atomic on
POSIX); the directory is fsynced after the rename. A reader, or a kill at
any moment, sees the old file or the whole new one, never a truncated mix:
an output that fails midway (a full disk, a file-size limit) leaves the
previous file exactly as it was. The new file gets the permissions an
ordinary ``open(path, "w")`` would give it (those of the file it replaces,
else ``0o666`` minus the umask), not the private ``0o600`` of a temporary file.

An ``OSError`` (a missing or read-only directory, ``/dev/full``, a directory
in the way, ``/proc``) becomes a :class:`~epl_sysbio.errors.FileAccessError`
naming the path and the reason.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from epl_sysbio.errors import FileAccessError

__all__ = ["atomic_write", "atomic_write_text", "save_figure", "describe_os_error", "remove_stale_temporaries"]

# The process umask, read once at import (reading it means setting it, which is not thread-safe later).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def describe_os_error(exc: OSError) -> str:
    """``exc`` as a short reason: its strerror (``'Permission denied'``), else its text."""
    return exc.strerror or str(exc) or type(exc).__name__


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some filesystems do not open directories; the rename itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes, *, what: str = "output file") -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    Raises
    ------
    FileAccessError
        The directory is missing or not writable, ``path`` is a directory, the
        disk is full, ...; an existing file at ``path`` is left unchanged.
    """
    path = Path(path)
    if path.is_dir():
        raise FileAccessError(f"Cannot write {what} {str(path)!r}: it is a directory. Give a file path.")
    if path.exists() and not path.is_file():
        return _write_in_place(path, data, what)  # a device or pipe (/dev/null, /dev/stdout): no rename
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise FileAccessError(f"Cannot write {what} {str(path)!r}: {describe_os_error(exc)} (in directory "
                              f"{str(path.parent)!r}). Choose a writable location.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise FileAccessError(f"Cannot write {what} {str(path)!r}: {describe_os_error(exc)}; "
                                  "any previous file there is unchanged.") from None
        raise
    _fsync_directory(path.parent)
    return path


def _write_in_place(path: Path, data: bytes, what: str) -> Path:
    """Write to an existing non-regular file (a device, a FIFO), where renaming would replace the node itself."""
    try:
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
    except OSError as exc:
        raise FileAccessError(f"Cannot write {what} {str(path)!r}: {describe_os_error(exc)}.") from None
    return path


def atomic_write_text(path: str | os.PathLike, text: str, *, what: str = "output file") -> Path:
    """:func:`atomic_write` of ``text`` encoded as UTF-8."""
    return atomic_write(path, text.encode("utf-8"), what=what)


def save_figure(fig: Any, path: str | os.PathLike, **savefig: Any) -> Path:
    """``fig.savefig(path, **savefig)``, atomically: rendered in memory first (format from the suffix)."""
    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=savefig.pop("format", path.suffix.lstrip(".") or "png"), **savefig)
    return atomic_write(path, buffer.getvalue(), what="figure")


def remove_stale_temporaries(directory: str | os.PathLike) -> int:
    """Delete the temporary files (``.<name>.<random>.tmp``) that killed writes left below ``directory``.

    Only safe while no one else writes there (a run directory's lock holder).
    Returns how many were removed.
    """
    removed = 0
    for path in Path(directory).rglob(".*.tmp"):
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed
