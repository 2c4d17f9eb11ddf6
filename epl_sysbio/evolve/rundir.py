"""One writer per run directory: a lock file that names its owner.

A run directory advances by atomic renames only (:mod:`epl_sysbio.files`),
so a kill at any moment leaves a state ``--resume`` continues; what it
cannot survive is two processes writing at once (a ``--force`` over a live
run, a ``--resume`` of a run still going: generations duplicated and lost,
silently). :class:`RunLock` makes the second writer fail before it touches
anything:

- ``<run>/.lock`` is locked with ``flock`` (exclusive, non-blocking). The
  kernel releases it when the owner exits or is killed, even by SIGKILL, so a
  lock is never stale and never needs breaking by hand.
- While held, the file holds the owner's pid, host and start time, which the
  refusal quotes: :class:`~epl_sysbio.errors.RunLockedError` says who owns the
  directory and how to stop it.
- The file itself is never deleted (deleting it would let a second process
  lock a new file while the first still holds the old one).
- A child the owner forks (an isolated native call) closes its copy of the
  descriptor at once: a flock belongs to the open file, so a child still
  running when its parent was killed would otherwise keep the directory
  locked against the ``--resume`` that follows.
"""

from __future__ import annotations

import json
import os
import socket
import time
import weakref
from pathlib import Path

from epl_sysbio.errors import FileAccessError, RunLockedError
from epl_sysbio.files import describe_os_error, remove_stale_temporaries

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

__all__ = ["RunLock", "LOCK_NAME"]

LOCK_NAME = ".lock"

_HELD: weakref.WeakSet = weakref.WeakSet()  # the locks this process holds


def _close_in_child() -> None:
    """After a fork, in the child: drop the lock descriptors (the parent keeps the locks)."""
    for lock in list(_HELD):
        if lock._fd is not None:
            os.close(lock._fd)
            lock._fd = None  # nor may the child's release() truncate the owner's record
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


class RunLock:
    """Exclusive ownership of a run directory, held from :meth:`acquire` to :meth:`release` (or a ``with``).

    Parameters
    ----------
    directory : path
        The run directory; created if missing.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock, or raise :class:`RunLockedError` naming the live owner.

        Leftover temporary files of writes a kill interrupted are removed once
        the lock is ours (no one else can be writing them).
        """
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FileAccessError(f"Run directory {str(self.directory)!r} is not writable "
                                  f"({describe_os_error(exc)}); choose another --out.") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = self._owner(fd)
                os.close(fd)
                raise RunLockedError(
                    f"Run directory {str(self.directory)!r} is in use by {owner}; a run directory has one writer. "
                    "Wait for that run to finish or stop it (it can be resumed), then retry; --force does not "
                    "override a live run.") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        self._fd = fd
        _HELD.add(self)
        remove_stale_temporaries(self.directory)
        return self

    @staticmethod
    def _owner(fd: int) -> str:
        try:
            owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
            return f"process {owner['pid']} on {owner['host']} (since {owner['started']})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def release(self) -> None:
        """Give the lock up (the kernel also does when the process ends)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
            _HELD.discard(self)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
