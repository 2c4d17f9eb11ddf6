"""How the command line survives what a user feeds it: isolation, budgets, limits and exit codes.

:func:`guarded_main` wraps every command. What reaches the user:

=========================================  ==========================================================
what happened                              exit code and message (stderr; stdout carries results only)
=========================================  ==========================================================
bad input (``EplSysbioError``)             2, the error's message
a file cannot be read or written           2, the path and the reason (permissions, a directory, ...)
a model crashes libsbml/libRoadRunner      2, which signal, and that nothing was written
the budget (``--timeout``) runs out        1, the budget and how to raise it
Ctrl-C                                     130, "interrupted" (a run directory says how to resume)
the reader of stdout goes away (``head``)  the command's own code, silently
anything else (a bug)                      1, "internal error" with the exception and where it arose
=========================================  ==========================================================

Model commands (``validate``, ``convert``, ``steady``, ``analyze``,
``demo``, ``sedml``) run in a child process (:func:`~epl_sysbio.isolation.run_isolated`)
with a wall-clock budget; what they print to stdout is captured there and
printed by the parent after the child is gone, so solver warnings that
native code writes to file descriptor 1 never mix into a table, CSV or JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from epl_sysbio.errors import Constraint, EplSysbioError, Interval, TimeLimitError
from epl_sysbio.files import describe_os_error

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "add_budget_argument",
           "add_model_arguments", "model_options", "run_model_command", "guarded_main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Default wall-clock budgets (seconds) of the isolated commands.
DEFAULT_TIMEOUTS = {"validate": 300.0, "convert": 300.0, "steady": 300.0, "analyze": 3600.0, "demo": 3600.0,
                    "sedml": 3600.0}


def _checked(parse: Callable[[str], Any], constraint: Constraint) -> Callable[[str], Any]:
    """An argparse ``type``: the flag's text parsed, refused unless in ``constraint`` (argparse
    names the flag before the message)."""
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = text
        if value not in constraint:
            raise argparse.ArgumentTypeError(f"must be {constraint}. Got {text!r} instead.")
        return value
    return convert


_SECONDS = _checked(float, Interval(float, 0, None, closed="right"))  # inf: no budget
_COUNT = _checked(int, Interval(int, 1, None, closed="left"))


def add_budget_argument(parser: argparse.ArgumentParser, command: str) -> argparse._ArgumentGroup:
    """``--timeout``: the command then runs isolated (:func:`run_model_command`)."""
    group = parser.add_argument_group("safety (budget and load limits)")
    group.add_argument("--timeout", type=_SECONDS, default=DEFAULT_TIMEOUTS[command], metavar="SECONDS",
                       help=f"wall-clock budget; the work runs in a child process that is stopped after it "
                            f"(exit 1). Default {DEFAULT_TIMEOUTS[command]:g}")
    return group


def add_model_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The budget, load-limit and import flags of a command that loads a model."""
    from epl_sysbio.limits import DEFAULT_LIMITS

    group = add_budget_argument(parser, command)
    group.add_argument("--max-bytes", type=_COUNT, default=DEFAULT_LIMITS.max_bytes, metavar="N",
                       help=f"largest model file accepted (default {DEFAULT_LIMITS.max_bytes:,})")
    group.add_argument("--max-depth", type=_COUNT, default=DEFAULT_LIMITS.max_depth, metavar="N",
                       help=f"deepest XML/expression nesting accepted (default {DEFAULT_LIMITS.max_depth:,})")
    group.add_argument("--max-elements", type=_COUNT, default=DEFAULT_LIMITS.max_elements, metavar="N",
                       help=f"most XML elements accepted (default {DEFAULT_LIMITS.max_elements:,})")
    group.add_argument("--allow-imports", action="store_true",
                       help="let an Antimony model import files below its own directory (refused by default)")


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """``load_model`` keyword arguments from the flags of :func:`add_model_arguments`."""
    from epl_sysbio.limits import LoadLimits

    limits = LoadLimits(max_bytes=args.max_bytes, max_depth=args.max_depth, max_elements=args.max_elements)
    return {"limits": limits, "allow_imports": args.allow_imports}


def run_model_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``func(args)`` in a child process with the ``--timeout`` budget; its stdout printed here afterwards."""
    from epl_sysbio.isolation import run_isolated

    what = getattr(args, "model", None) or getattr(args, "archive", None)
    code, text = run_isolated(func, args, timeout=args.timeout, label=f"processing {what!r}",
                              capture=True)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head -1`: the reader has what it wanted
        _silence_stdout()
    return code


def _where(exc: BaseException) -> str:
    """``file:line in function`` where ``exc`` was raised (in the isolated child, if it came from one)."""
    text = getattr(exc, "isolated_traceback", None)
    if text:
        frames = [line.strip() for line in text.splitlines() if line.strip().startswith('File "')]
        if frames:  # 'File "/path/relaxation.py", line 98, in state_newton'
            path, line, func = frames[-1].split(", ", 2)
            return f"{os.path.basename(path[6:-1])}:{line.removeprefix('line ')} {func}"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}"


def _silence_stdout() -> None:
    """After the reader of stdout went away: point fd 1 at /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def guarded_main(command: str, run: Callable[[], int]) -> int:
    """``run()``'s exit code, every failure turned into a message on stderr and a documented exit code."""
    prefix = f"epl-sysbio {command}"
    try:
        return run()
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"\n{prefix}: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TimeLimitError as exc:
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except EplSysbioError as exc:  # NativeCrashError included: the input crashed a native library
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        path = f" {exc.filename!r}" if exc.filename else ""
        print(f"{prefix}: error: cannot access{path}: {describe_os_error(exc)}.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UnicodeError as exc:
        print(f"{prefix}: error: a file is not UTF-8 text ({exc}). Save it as UTF-8.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, never a traceback
        print(f"{prefix}: internal error (a bug, please report it): {type(exc).__name__}: {exc} "
              f"(at {_where(exc)}). Set EPL_SYSBIO_TRACEBACK=1 to see the traceback.", file=sys.stderr)
        if os.environ.get("EPL_SYSBIO_TRACEBACK"):
            traceback.print_exc()
            if getattr(exc, "isolated_traceback", None):
                print(f"In the isolated child:\n{exc.isolated_traceback}", file=sys.stderr)
        return EXIT_FAILED
