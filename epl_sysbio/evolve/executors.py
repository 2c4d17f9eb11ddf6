"""Where evaluations run: serially, in local processes, or on a Dask cluster.

An executor's :meth:`Executor.map` has DEAP's ``toolbox.map`` signature and
returns results in input order; ``on_done(index)``, if given, is called as
each result arrives (progress reporting). It never loses work: a task whose worker dies
is re-submitted (up to ``retries`` times) and, if it still cannot finish, its
result is :data:`WORKER_LOST`, which the generation loop turns into the worst
fitness with the reason logged. Because an evaluation is a pure function of
(genome, seed), re-submission and ordering do not change results.

:func:`evaluate_guarded` wraps a fitness function so that raising, returning
NaN or exceeding the time limit become an :class:`Outcome` with a reason
instead of an exception.
"""

from __future__ import annotations

import abc
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from epl_sysbio.errors import InvalidValueError

from .config import RunConfig

__all__ = [
    "Outcome",
    "WORKER_LOST",
    "evaluate_guarded",
    "Executor",
    "SerialExecutor",
    "ProcessExecutor",
    "DaskExecutor",
    "make_executor",
]

#: Result of a task whose worker was lost on every attempt.
WORKER_LOST = None


@dataclass(frozen=True)
class Outcome:
    """What one evaluation gave: the fitness, whether the task is solved, and why it failed ("" if it did not)."""

    fitness: float
    solved: bool = False
    reason: str = ""
    seconds: float = 0.0


class _TimeLimit(BaseException):
    """Raised inside an evaluation at its time limit (BaseException: user code's ``except Exception`` misses it)."""


def _call_with_limit(fn: Callable, args: tuple, limit: float) -> Any:
    if limit <= 0:
        return fn(*args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def on_alarm(signum: int, frame: object) -> None:
            raise _TimeLimit

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    # worker threads (Dask) cannot take signals: run in a watchdog-joined daemon thread
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        raise _TimeLimit
    if "error" in box:
        raise box["error"]
    return box["value"]


def evaluate_guarded(fitness: Callable, genome: Any, seed: int, *, time_limit: float = 0.0,
                     worst: float = 0.0) -> Outcome:
    """Evaluate ``fitness(genome, seed)``, turning every failure into an :class:`Outcome`.

    ``fitness`` returns a float, or ``(float, solved)``. A raised exception, a
    non-finite value, or running past ``time_limit`` seconds give ``worst``
    with the reason.
    """
    start = time.perf_counter()
    try:
        value = _call_with_limit(fitness, (genome, seed), time_limit)
    except _TimeLimit:
        return Outcome(worst, False, f"time limit of {time_limit} s exceeded", time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - any failure of user code becomes a logged result
        return Outcome(worst, False, f"raised {type(exc).__name__}: {exc}", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    solved = False
    if isinstance(value, tuple):
        value, solved = value
    try:
        value = float(value)
    except (TypeError, ValueError):
        return Outcome(worst, False, f"returned {value!r}, not a number", seconds)
    if not math.isfinite(value):
        return Outcome(worst, False, f"returned {value}", seconds)
    return Outcome(value, bool(solved), "", seconds)


class Executor(abc.ABC):
    """Runs a function over argument lists; a context manager that releases its workers on exit."""

    @abc.abstractmethod
    def map(self, fn: Callable, *iterables: Any, on_done: Callable[[int], None] | None = None) -> list:
        """``[fn(*args) for args in zip(*iterables)]``, in order; :data:`WORKER_LOST` where a worker died.

        ``on_done(i)`` is called in this process when result ``i`` has arrived."""

    def close(self) -> None:
        """Release workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Evaluates in the calling process, in order."""

    def map(self, fn: Callable, *iterables: Any, on_done: Callable[[int], None] | None = None) -> list:
        results = []
        for i, args in enumerate(zip(*iterables, strict=True)):
            results.append(fn(*args))
            if on_done is not None:
                on_done(i)
        return results


def _default_workers(workers: int) -> int:
    return workers if workers > 0 else (os.cpu_count() or 1)


def _run_chunk(fn: Callable, chunk: list[tuple]) -> list:
    return [fn(*args) for args in chunk]


class ProcessExecutor(Executor):
    """Local worker processes (started by ``spawn``, one per core by default).

    Tasks travel in chunks to keep the inter-process overhead low for cheap
    evaluations: about ``chunk_seconds`` of work each, judged by the task
    times of the previous call, at most a quarter of a worker's share and at
    least one task (the first call sends single tasks). Expensive evaluations
    therefore go one by one: the load balances and progress moves with every
    finished individual. If a worker dies, the
    pool is rebuilt and the unfinished chunks re-submitted, up to ``retries``
    times; tasks still unfinished then run one at a time, each in a fresh
    single-worker pool, so that only a task that itself kills its worker is
    reported as :data:`WORKER_LOST`.
    """

    def __init__(self, workers: int = 0, retries: int = 2, chunk_seconds: float = 0.05) -> None:
        self.workers = _default_workers(workers)
        self.retries = retries
        self.chunk_seconds = chunk_seconds
        self._task_seconds: float | None = None  # wall time per task per worker, last call
        self._context = multiprocessing.get_context("spawn")
        self._pool: ProcessPoolExecutor | None = None

    def _chunk_size(self, n: int) -> int:
        largest = max(1, math.ceil(n / (4 * self.workers)))
        if self._task_seconds is None:
            return 1
        return max(1, min(largest, int(self.chunk_seconds / max(self._task_seconds, 1e-9))))

    def _fresh_pool(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=self._context)

    def _run(self, pool: ProcessPoolExecutor, fn: Callable, args: list[tuple], todo: list[int],
             results: list, on_done: Callable[[int], None] | None = None) -> list[int]:
        """Run tasks ``todo``; return those that did not finish because the pool broke."""
        size = self._chunk_size(len(todo))
        chunks = [todo[k:k + size] for k in range(0, len(todo), size)]
        pending = {pool.submit(_run_chunk, fn, [args[i] for i in chunk]): chunk for chunk in chunks}
        lost = []
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                chunk = pending.pop(fut)
                try:
                    for i, value in zip(chunk, fut.result(), strict=True):
                        results[i] = value
                        if on_done is not None:
                            on_done(i)
                except BrokenProcessPool:
                    lost.extend(chunk)
                except Exception as exc:  # the task never ran: it could not be sent to the worker
                    for other in pending:
                        other.cancel()
                    raise InvalidValueError(
                        f"Could not run {getattr(fn, '__name__', fn)!r} in a worker process ({exc}); the fitness "
                        "function must be picklable: define it at module level, or use executor='serial'.") from exc
        return sorted(lost)

    def map(self, fn: Callable, *iterables: Any, on_done: Callable[[int], None] | None = None) -> list:
        args = list(zip(*iterables, strict=True))
        results: list = [WORKER_LOST] * len(args)
        todo = list(range(len(args)))
        t0 = time.perf_counter()
        for _ in range(self.retries + 1):
            if self._pool is None:
                self._pool = self._fresh_pool(self.workers)
            todo = self._run(self._pool, fn, args, todo, results, on_done)
            if not todo:
                if args:
                    self._task_seconds = (time.perf_counter() - t0) * min(self.workers, len(args)) / len(args)
                return results
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        for i in todo:  # isolate: blame only the task that kills its own worker
            with self._fresh_pool(1) as alone:
                if self._run(alone, fn, args, [i], results, on_done) and on_done is not None:
                    on_done(i)  # lost for good: still counted as finished
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Dask distributed: an existing scheduler (``address``) or a LocalCluster on 127.0.0.1.

    Dask itself re-runs the tasks of a worker that dies (until its
    ``allowed-failures`` limit gives ``KilledWorker``); a task that still
    failed is re-submitted up to ``retries`` times, then reported as
    :data:`WORKER_LOST`.
    """

    def __init__(self, address: str = "", workers: int = 0, retries: int = 2) -> None:
        from distributed import Client, LocalCluster

        self.retries = retries
        self._cluster = None
        if address:
            self.client = Client(address)
        else:
            self._cluster = LocalCluster(n_workers=_default_workers(workers), threads_per_worker=1,
                                         processes=True, host="127.0.0.1", dashboard_address=None)
            self.client = Client(self._cluster)

    def map(self, fn: Callable, *iterables: Any, on_done: Callable[[int], None] | None = None) -> list:
        from distributed import as_completed

        args = list(zip(*iterables, strict=True))
        results: list = [WORKER_LOST] * len(args)
        todo = list(range(len(args)))
        for attempt in range(self.retries + 1):
            futures = {self.client.submit(fn, *args[i], pure=False): i for i in todo}
            todo = []
            for fut in as_completed(futures):
                i = futures[fut]
                if fut.status == "finished":
                    results[i] = fut.result()
                elif attempt < self.retries:
                    todo.append(i)
                    continue
                if on_done is not None:
                    on_done(i)
            if not todo:
                break
        return results

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(config: RunConfig) -> Executor:
    """The executor named by ``config.executor``."""
    if config.executor == "serial":
        return SerialExecutor()
    if config.executor == "processes":
        return ProcessExecutor(config.workers, config.retries)
    return DaskExecutor(config.scheduler, config.workers, config.retries)
