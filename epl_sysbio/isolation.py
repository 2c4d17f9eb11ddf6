"""Run native code where a crash or a hang cannot take the caller with it.

libsbml and libRoadRunner are native code: a hostile model segfaults them
(deeply nested XML), and NLEQ2 loops for ever, ignoring Ctrl-C, once a rate
overflows to infinity. Python cannot interrupt a native loop (a signal
handler runs only between bytecodes), so the only guarantee is a process
boundary. :func:`run_isolated` runs a function in a child process with a
wall-clock budget:

- the child is *forked*, so it starts with the caller's memory (an
  :class:`~epl_sysbio.simulate.Engine`'s compiled model included) and costs
  milliseconds, not an interpreter start; where ``fork`` is unavailable the
  function and its arguments must pickle (``spawn``);
- the child's result, or the exception it raised, comes back pickled through
  a pipe; its file descriptor 1 points at the caller's stderr, so nothing a
  native library prints can reach the caller's stdout;
- past the budget the child is killed (SIGKILL) and
  :class:`~epl_sysbio.errors.TimeLimitError` is raised; if it dies without
  answering (a segfault, an abort, the OOM killer)
  :class:`~epl_sysbio.errors.NativeCrashError` names the signal;
- Ctrl-C in the caller kills the child and re-raises ``KeyboardInterrupt``.

The child works on a copy: nothing it changes reaches the caller's objects
except through the returned value (the engine adopts the child's final
state explicitly, see ``Engine(isolation=...)``).
"""

from __future__ import annotations

import faulthandler
import io
import math
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from epl_sysbio.errors import ConfigError, Interval, NativeCrashError, TimeLimitError, validate_fields

__all__ = ["Isolation", "run_isolated", "signal_name"]


@dataclass(frozen=True, kw_only=True)
class Isolation:
    """Options of an isolated call.

    Parameters
    ----------
    timeout : float
        Wall-clock budget of one call, in seconds (> 0; ``inf`` for none).
    """

    timeout: float = 600.0

    def __post_init__(self) -> None:
        validate_fields(self, {"timeout": Interval((int, float), 0, None, closed="right")}, error=ConfigError)


def signal_name(code: int) -> str:
    """``'SIGSEGV'`` for a child's exit code -11; ``'exit code 3'`` for 3."""
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when its parent dies (a killed caller leaves no hung orphan)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(conn: Any, parent: int, fn: Callable, args: tuple, kwargs: dict, capture: bool) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    faulthandler.disable()  # a crash here is the caller's to report, in one line, not as a stack dump
    # Native libraries print to fd 1 (SUNDIALS warnings): send it to stderr, keep stdout for results.
    sys.stdout.flush()
    os.dup2(2, 1)
    out, err = io.StringIO(), io.StringIO()
    if capture:
        sys.stdout, sys.stderr = out, err
    try:
        payload = ("ok", fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller, which re-raises it
        # The traceback does not survive pickling: keep where it was raised, for messages about bugs.
        exc.isolated_traceback = traceback.format_exc()
        payload = ("error", exc)
    try:
        conn.send((*payload, out.getvalue(), err.getvalue()))
    except Exception as exc:  # the value or the exception did not pickle
        conn.send(("error", NativeCrashError(f"the isolated call's result could not be sent back "
                                             f"({type(exc).__name__}: {exc})"), out.getvalue(), err.getvalue()))
    conn.close()


def run_isolated(fn: Callable, /, *args: Any, timeout: float = math.inf, label: str = "the computation",
                 capture: bool = False, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a child process with a wall-clock budget of ``timeout`` seconds.

    Parameters
    ----------
    fn : callable
        What to run; its return value must pickle.
    timeout : float
        Budget in seconds (``inf``: none).
    label : str
        What the call does, for messages ("the steady state of 'm'").
    capture : bool
        Return ``(value, text)``, ``text`` being what ``fn`` printed to
        ``sys.stdout`` (the command line prints it itself, after the child
        is gone, so that native output never mixes in); what ``fn`` printed
        to ``sys.stderr`` is replayed on the caller's ``sys.stderr``.

    Raises
    ------
    TimeLimitError
        The budget ran out; the child was killed.
    NativeCrashError
        The child died without answering (segfault, abort, out of memory).
    Exception
        Whatever ``fn`` raised, re-raised in the caller.
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    # Not a daemon: an isolated call may itself isolate (a daemon may not start processes).
    process = context.Process(target=_child, args=(sender, os.getpid(), fn, args, kwargs, capture))
    sys.stdout.flush()
    sys.stderr.flush()
    process.start()
    sender.close()  # the parent's copy: end-of-file on `receiver` now means the child is gone
    try:
        ready = receiver.poll(None if math.isinf(timeout) else timeout)
        message = receiver.recv() if ready else None
    except EOFError:
        message = None
    except BaseException:  # KeyboardInterrupt: the child must not outlive the caller
        process.kill()
        process.join()
        raise
    finally:
        receiver.close()
    if message is None:
        if process.is_alive() and not ready:
            process.kill()
            process.join()
            raise TimeLimitError(f"{label} did not finish within its {timeout:g} s budget and was stopped. If it is "
                                 "just slow, give it more time (--timeout SECONDS, or Isolation(timeout=...)).")
        process.join()
        raise NativeCrashError(f"{label} crashed the process it ran in ({signal_name(process.exitcode)}); the "
                               "native library (libsbml or libRoadRunner) failed on this input. Nothing was "
                               "changed. Check the model for extreme values or structure.")
    process.join()
    status, value, out, err = message
    if err:
        sys.stderr.write(err)
        sys.stderr.flush()
    if status == "error":
        raise value
    return (value, out) if capture else value
