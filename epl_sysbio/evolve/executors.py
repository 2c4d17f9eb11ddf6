"""Where evaluations run: serially, in local processes, or on a Dask cluster.

An executor's :meth:`Executor.map` has DEAP's ``toolbox.map`` signature and
returns results in input order; ``on_done(index)``, if given, is called as
each result arrives (progress reporting). It never loses work: a task whose worker dies
is re-submitted (up to ``retries`` times) and, if it still cannot finish, its
result is a :class:`TaskLost` with the reason, which the generation loop
turns into the worst fitness with the reason in ``faults.csv``; the run goes
on. Because an evaluation is a pure function of (genome, seed),
re-submission and ordering do not change results.

Time limits (``[run] time_limit``) work at two levels. :func:`evaluate_guarded`
interrupts Python code at the limit (SIGALRM, or a watchdog thread where
signals cannot be used) and returns an :class:`Outcome` with the reason. Native
code (an NLEQ2 loop inside libRoadRunner) cannot be interrupted that way, so
:class:`ProcessExecutor` also watches every task from the outside and kills
and replaces a worker whose task runs past the limit (plus a grace period).
The serial executor has only the first level.

:func:`evaluate_guarded` wraps a fitness function so that raising, returning
NaN or exceeding the time limit become an :class:`Outcome` with a reason
instead of an exception.
"""

from __future__ import annotations

import abc
import math
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from epl_sysbio.errors import InvalidValueError, check_parameter
from epl_sysbio.isolation import signal_name

from .config import RunConfig

__all__ = [
    "Evaluation",
    "Outcome",
    "TaskLost",
    "WORKER_LOST",
    "evaluate_guarded",
    "Executor",
    "SerialExecutor",
    "ProcessExecutor",
    "DaskExecutor",
    "make_executor",
]

@dataclass(frozen=True)
class TaskLost:
    """The result of a task that could not finish, and why: its worker died on every attempt, or
    it ran past the executor's time limit and its worker was killed. The generation loop gives it
    the worst fitness and writes ``reason`` to ``faults.csv``."""

    reason: str


#: A task lost for an unknown reason (a placeholder until a task reports).
WORKER_LOST = TaskLost("worker lost")


@dataclass(frozen=True)
class Evaluation:
    """What a fitness function may return instead of a float: the fitness, whether the task is solved, and
    ``info``, anything picklable the function wants to hand back (the generation loop passes it on to its
    reporters with the genome, so nothing has to be recomputed or sent through files)."""

    fitness: float
    solved: bool = False
    info: Any = None


@dataclass(frozen=True)
class Outcome:
    """What one evaluation gave: the fitness, whether the task is solved, why it failed ("" if it did not)
    and the fitness function's ``info`` (:class:`Evaluation`; None otherwise)."""

    fitness: float
    solved: bool = False
    reason: str = ""
    seconds: float = 0.0
    info: Any = None


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

    ``fitness`` returns a float, ``(float, solved)`` or an :class:`Evaluation`.
    A raised exception, a non-finite value, or running past ``time_limit``
    seconds give ``worst`` with the reason (and no info).
    """
    start = time.perf_counter()
    try:
        value = _call_with_limit(fitness, (genome, seed), time_limit)
    except _TimeLimit:
        return Outcome(worst, False, f"time limit of {time_limit} s exceeded", time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - any failure of user code becomes a logged result
        return Outcome(worst, False, f"raised {type(exc).__name__}: {exc}", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    solved, info = False, None
    if isinstance(value, Evaluation):
        value, solved, info = value.fitness, value.solved, value.info
    elif isinstance(value, tuple):
        value, solved = value
    try:
        value = float(value)
    except (TypeError, ValueError):
        return Outcome(worst, False, f"returned {value!r}, not a number", seconds)
    if not math.isfinite(value):
        return Outcome(worst, False, f"returned {value}", seconds)
    return Outcome(value, bool(solved), "", seconds, info)


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


class _Worker:
    """One spawned worker process and the chunk of tasks it is running."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.chunk: list[int] = []  # unreported tasks, the first one running
        self.since = math.inf  # when the running task started (monotonic; inf until the worker says it began)
        self.baseline_mb = math.inf  # resident memory after its first chunk (imports done)

    def rss_mb(self) -> float:
        """Resident memory in MB (Linux ``/proc``; 0 where unavailable)."""
        try:
            with open(f"/proc/{self.process.pid}/statm") as f:
                rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
        except (OSError, ValueError, IndexError):
            return 0.0
        if math.isinf(self.baseline_mb):
            self.baseline_mb = rss
        return rss

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()
        self.process.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(5.0)
        if self.process.is_alive():
            self.kill()
            return
        self.conn.close()
        self.process.close()


def _worker_main(conn: Any) -> None:
    """A worker's loop: receive ``(fn, [(index, args), ...])``; send ``(first index, "begin", None)`` once
    the chunk is unpickled (its imports done: the clock starts), then ``(index, "ok" | "error", value)``
    after each task."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops the workers
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        fn, tasks = message
        conn.send((tasks[0][0], "begin", None))
        for index, args in tasks:
            try:
                conn.send((index, "ok", fn(*args)))
            except Exception as exc:  # noqa: BLE001 - re-raised in the parent, as a local map would
                conn.send((index, "error", exc))


class ProcessExecutor(Executor):
    """Local worker processes (started by ``spawn``, one per core by default), supervised.

    Tasks travel in chunks to keep the inter-process overhead low for cheap
    evaluations: about ``chunk_seconds`` of work each, judged by the task
    times of the previous call, at most a quarter of a worker's share and at
    least one task (the first call sends single tasks), so expensive
    evaluations go one by one. A worker reports each task's result as soon as
    it has it (``on_done`` is called then), so the parent always knows which
    task a worker is running and since when. Then:

    - a task running longer than ``time_limit`` seconds (plus a grace of
      ``max(1 s, 10 %)``, so that a fitness function's own limit can fire
      first) has its worker killed (SIGKILL) and replaced; its result is a
      :class:`TaskLost` with the reason, and the rest of the chunk runs
      elsewhere. Native code (an NLEQ2 loop) cannot be interrupted any other way;
    - a worker that dies is replaced and the task it was running re-submitted,
      up to ``retries`` times; a task that kills its worker every time becomes
      a :class:`TaskLost`. Tasks it had not started run elsewhere, unblamed;
    - a worker whose resident memory grew by more than ``max_growth_mb`` since
      its first chunk is replaced between chunks, so a leak in native code
      (which no fitness function can free) is bounded by that much per worker.
    """

    def __init__(self, workers: int = 0, retries: int = 2, time_limit: float = 0.0, *,
                 chunk_seconds: float = 0.05, max_growth_mb: float = 1024.0) -> None:
        check_parameter("ProcessExecutor", "time_limit", isinstance(time_limit, (int, float)) and time_limit >= 0,
                        "a float in [0, inf)", time_limit)
        check_parameter("ProcessExecutor", "max_growth_mb", isinstance(max_growth_mb, (int, float))
                        and max_growth_mb > 0, "a float in (0, inf]", max_growth_mb)
        self.workers = _default_workers(workers)
        self.retries = retries
        self.time_limit = float(time_limit)
        self.chunk_seconds = chunk_seconds
        self.max_growth_mb = float(max_growth_mb)
        self.recycled = 0  # workers replaced for their memory growth
        self._task_seconds: float | None = None  # wall time per task per worker, last call
        self._context = multiprocessing.get_context("spawn")
        self._pool: list[_Worker] = []

    @property
    def hard_limit(self) -> float:
        """Seconds after which a running task's worker is killed (inf without a time limit)."""
        return self.time_limit + max(1.0, 0.1 * self.time_limit) if self.time_limit > 0 else math.inf

    def _dispatch(self, busy: list[_Worker], fn: Callable, args: list[tuple], chunk: list[int]) -> None:
        """Send ``chunk`` to an idle live worker (started if needed)."""
        while True:
            worker = self._idle_worker(busy)
            try:
                worker.conn.send((fn, [(i, args[i]) for i in chunk]))
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise InvalidValueError(
                    f"Could not run {getattr(fn, '__name__', fn)!r} in a worker process ({exc}); the fitness "
                    "function must be picklable: define it at module level, or use executor='serial'.") from exc
            except OSError:  # it died while idle: nothing of this chunk ran there
                self._pool.remove(worker)
                worker.kill()
                continue
            worker.chunk, worker.since = list(chunk), math.inf
            busy.append(worker)
            return

    def _idle_worker(self, busy: list[_Worker]) -> _Worker:
        for worker in list(self._pool):
            if worker in busy:
                continue
            if worker.process.is_alive():
                return worker
            self._pool.remove(worker)  # died while idle
            worker.kill()
        worker = _Worker(self._context)
        self._pool.append(worker)
        return worker

    def _chunk_size(self, n: int) -> int:
        largest = max(1, math.ceil(n / (4 * self.workers)))
        if self._task_seconds is None:
            return 1
        return max(1, min(largest, int(self.chunk_seconds / max(self._task_seconds, 1e-9))))


    def map(self, fn: Callable, *iterables: Any, on_done: Callable[[int], None] | None = None) -> list:
        args = list(zip(*iterables, strict=True))
        results: list = [WORKER_LOST] * len(args)
        size = self._chunk_size(len(args))
        t0 = time.perf_counter()
        queue = deque(list(range(k, min(k + size, len(args)))) for k in range(0, len(args), size))
        strikes: dict[int, int] = {}
        busy: list[_Worker] = []
        try:
            while queue or busy:
                while queue and len(busy) < self.workers:
                    self._dispatch(busy, fn, args, queue.popleft())
                deadline = min(w.since for w in busy) + self.hard_limit
                timeout = None if math.isinf(deadline) else max(0.0, deadline - time.monotonic())
                ready = mp_connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
                for worker in list(busy):
                    if worker.conn in ready or worker.process.sentinel in ready:
                        self._collect(worker, results, queue, strikes, busy, on_done)
                for worker in [w for w in busy if time.monotonic() - w.since > self.hard_limit]:
                    index = worker.chunk[0]
                    results[index] = TaskLost(f"time limit of {self.time_limit:g} s exceeded; its worker was "
                                              "killed and replaced")
                    if on_done is not None:
                        on_done(index)
                    self._replace(worker, busy, queue, worker.chunk[1:])
        except BaseException:  # KeyboardInterrupt included: no worker keeps computing for nobody
            for worker in busy:
                self._pool.remove(worker)
                worker.kill()
            raise
        if args:
            self._task_seconds = (time.perf_counter() - t0) * min(self.workers, len(args)) / len(args)
        return results

    def _collect(self, worker: _Worker, results: list, queue: deque, strikes: dict[int, int],
                 busy: list[_Worker], on_done: Callable[[int], None] | None) -> None:
        """Take every result the worker has sent; handle its death."""
        try:
            while worker.chunk and worker.conn.poll():
                index, kind, value = worker.conn.recv()
                if kind == "error":
                    raise value
                if kind == "ok":
                    results[index] = value
                    worker.chunk.remove(index)
                    if on_done is not None:
                        on_done(index)
                worker.since = time.monotonic()
        except (EOFError, OSError):
            pass
        if not worker.chunk:
            busy.remove(worker)
            if worker.rss_mb() - worker.baseline_mb > self.max_growth_mb:
                self._pool.remove(worker)
                worker.stop()
                self.recycled += 1
            return
        if worker.process.is_alive():
            return
        index = worker.chunk[0]  # what it was running when it died
        strikes[index] = strikes.get(index, 0) + 1
        reason = f"worker lost: its process died ({signal_name(worker.process.exitcode)})"
        if strikes[index] > self.retries:
            results[index] = TaskLost(f"{reason} on each of {strikes[index]} attempts")
            rest = worker.chunk[1:]
            if on_done is not None:
                on_done(index)
        else:
            rest = worker.chunk
        self._replace(worker, busy, queue, rest)

    def _replace(self, worker: _Worker, busy: list[_Worker], queue: deque, requeue: list[int]) -> None:
        """Kill ``worker`` (if alive), forget it, and put ``requeue`` first in line."""
        worker.kill()
        busy.remove(worker)
        self._pool.remove(worker)
        if requeue:
            queue.appendleft(requeue)

    def close(self) -> None:
        for worker in self._pool:
            worker.stop()
        self._pool = []


class DaskExecutor(Executor):
    """Dask distributed: an existing scheduler (``address``) or a LocalCluster on 127.0.0.1.

    Dask itself re-runs the tasks of a worker that dies (until its
    ``allowed-failures`` limit gives ``KilledWorker``); a task that still
    failed is re-submitted up to ``retries`` times, then reported as a
    :class:`TaskLost`. A time limit is enforced inside the task only
    (:func:`evaluate_guarded`'s watchdog thread): a task stuck in native code
    is abandoned at its limit, but its thread keeps a core busy until the
    worker restarts. The ``processes`` executor kills such a worker instead.
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
                else:
                    results[i] = TaskLost(f"worker lost on each of {self.retries + 1} attempts")
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
        return ProcessExecutor(config.workers, config.retries, config.time_limit)
    return DaskExecutor(config.scheduler, config.workers, config.retries)
