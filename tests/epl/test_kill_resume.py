"""A run killed at any moment (SIGKILL: no cleanup, no finally) is continued by a resume to the logbook
an uninterrupted run writes; a second writer is refused while the first is alive.

The runs are forked from this process (no interpreter start per run), so that 20 kills cost seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from epl_sysbio.epl.config import PRESETS
from epl_sysbio.epl.job import run_job
from epl_sysbio.errors import RunLockedError

#: Smoke-sized: 4 learners x 3 generations of one XOR epoch, no plots (seconds per run).
CONFIG = PRESETS["smoke"].replace(neat={"population_size": 4}, run={"generations": 3, "plots": False},
                                  task={"epochs": 1})


def _fork(out: Path, *, resume: bool, kill_after: tuple[str, int] | None = None) -> int:
    """Start ``run_job(CONFIG, out)`` in a forked child; its pid. The child exits 0 on success, 3 on an error
    (written to ``out.parent / 'error.txt'``). With ``kill_after = (name, n)`` it SIGKILLs itself right after
    the n-th atomic rename onto a file called ``name`` (a state transition of the run directory)."""
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if kill_after:
            real, count = os.replace, [0]

            def replace_then_die(src, dst, *args, **kwargs):
                real(src, dst, *args, **kwargs)
                count[0] += Path(dst).name == kill_after[0]
                if count[0] == kill_after[1]:
                    os.kill(os.getpid(), signal.SIGKILL)

            os.replace = replace_then_die
        run_job(CONFIG, out, resume_run=resume)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - reported to the parent through the file
        (out.parent / "error.txt").write_text(f"{type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


def _wait(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _logbook(out: Path) -> list[list[str]]:
    """logbook.csv without the wall_s column (timings differ between runs)."""
    rows = [line.split(",") for line in (out / "logbook.csv").read_text().splitlines()]
    drop = rows[0].index("wall_s")
    return [row[:drop] + row[drop + 1:] for row in rows]


def _journal(out: Path) -> list[dict]:
    entries = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    for entry in entries:
        entry["record"].pop("wall_s")
    return entries


def _resume_to_completion(out: Path) -> None:
    """What a user does after a kill: --resume, or a fresh start if the kill came before the directory existed."""
    code = _wait(_fork(out, resume=out.exists()))
    assert code == 0, (out.parent / "error.txt").read_text()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, float]:
    """An uninterrupted run and its duration (timed on a second run: the first fills the kernel's JIT cache)."""
    warm = tmp_path_factory.mktemp("warm") / "run"
    assert _wait(_fork(warm, resume=False)) == 0
    out = tmp_path_factory.mktemp("reference") / "run"
    t0 = time.perf_counter()
    assert _wait(_fork(out, resume=False)) == 0
    assert _logbook(out) == _logbook(warm) and _journal(out) == _journal(warm)  # a run is a function of its config
    return out, time.perf_counter() - t0


@pytest.mark.slow
def test_sigkill_at_20_random_moments_then_resume_gives_the_uninterrupted_logbook(reference, tmp_path):
    ref, duration = reference
    rng = random.Random(18)
    killed_mid_run = 0
    for i in range(20):
        out = tmp_path / f"kill{i}" / "run"
        out.parent.mkdir()
        pid = _fork(out, resume=False)
        time.sleep(rng.uniform(0.0, duration))
        os.kill(pid, signal.SIGKILL)
        killed_mid_run += _wait(pid) == -signal.SIGKILL
        _resume_to_completion(out)
        assert _logbook(out) == _logbook(ref), f"kill {i}"
        assert _journal(out) == _journal(ref), f"kill {i}"
        assert not list(out.rglob(".*.tmp"))  # no temporary file of an interrupted write is left
    assert killed_mid_run >= 10  # most moments fell inside the runs, not after them (run times vary with load)


@pytest.mark.parametrize("kill_after", [
    ("config.toml", 1),          # the run's config written, nothing else: a resume starts it
    ("trace.npz", 1),            # generation 0's champion traces written, its journal line not
    ("generations.jsonl", 1),    # generation 0 committed, logbook.csv not yet rewritten, no checkpoint yet
    ("gen-000001.json", 1),      # generation 0 committed and checkpointed by the loop
    ("gen-000002.json", 1),
    ("logbook.csv", 6),          # the last generation's logbook written (the loop's, then the job's), summary not
    ("summary.json", 4),         # the final summary, after the champion's export
])
def test_sigkill_right_after_a_state_transition_then_resume_gives_the_uninterrupted_logbook(
        reference, tmp_path, kill_after):
    """The windows between the files of one generation (``analysis/fault_injection.py`` kills after every one)."""
    ref, _ = reference
    out = tmp_path / "run"
    assert _wait(_fork(out, resume=False, kill_after=kill_after)) == -signal.SIGKILL
    _resume_to_completion(out)
    assert _logbook(out) == _logbook(ref)
    assert _journal(out) == _journal(ref)


def test_a_second_writer_is_refused_while_the_first_is_alive(tmp_path):
    out = tmp_path / "run"
    pid = _fork(out, resume=False)
    try:
        deadline = time.monotonic() + 60
        while not (out / "config.toml").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        for kwargs in ({"force": True}, {"resume_run": True}):
            with pytest.raises(RunLockedError, match=rf"in use by process {pid} .*--force does not override"):
                run_job(CONFIG, out, **kwargs)
    finally:
        os.kill(pid, signal.SIGKILL)
        _wait(pid)
    run_job(CONFIG, out, resume_run=True)  # its owner is dead: the lock is free, the run continues
    assert len(_journal(out)) == CONFIG.run.generations


def test_a_child_forked_by_the_owner_does_not_hold_the_lock(tmp_path):
    """The job forks isolated native calls; one still running when the job is killed must not keep the
    directory locked against the --resume that follows (found by killing runs at random moments)."""
    from epl_sysbio.evolve.rundir import RunLock

    lock = RunLock(tmp_path).acquire()
    ready, started = os.pipe()
    child = os.fork()
    if child == 0:  # the isolated call: still alive after its parent gave the lock up
        os.write(started, b"1")  # the fork hooks have run by now
        time.sleep(30)
        os._exit(0)
    try:
        assert os.read(ready, 1) == b"1"
        lock.release()
        with RunLock(tmp_path):  # taken at once although the forked child lives on
            pass
        assert os.waitpid(child, os.WNOHANG) == (0, 0)
    finally:
        os.kill(child, signal.SIGKILL)
        _wait(child)
        os.close(ready)
        os.close(started)
