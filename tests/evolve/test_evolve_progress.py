"""Progress moves within a generation: a tick per finished evaluation, evals/s to one decimal, an ETA."""

from __future__ import annotations

import time

import pytest

from epl_sysbio.evolve.executors import ProcessExecutor, SerialExecutor
from epl_sysbio.evolve.report import ProgressReporter


def _slow_square(x: float, seed: int) -> float:
    time.sleep(0.05)
    return x * x


def test_reporter_counts_each_evaluation_and_estimates_the_rest(capsys):
    progress = ProgressReporter(total=3, enabled=True, line_seconds=0.0)
    ticking = progress.wrap(SerialExecutor())
    seen = []
    results = ticking.map(_slow_square, [1.0, 2.0, 3.0, 4.0], [0, 1, 2, 3], on_done=seen.append)
    assert results == [1.0, 4.0, 9.0, 16.0] and seen == [0, 1, 2, 3]
    err = capsys.readouterr().err.splitlines()
    # within the generation: 1/4, 2/4, 3/4 evaluated (the 4th ends it), rate with one decimal, ETA of the run
    assert [line.split("  ")[1] for line in err] == ["1/4 evaluated", "2/4 evaluated", "3/4 evaluated"]
    assert all(line.split("  ")[2].endswith("evals/s") and "." in line.split("  ")[2] for line in err)
    assert 0 < progress.rate <= 20.0  # each evaluation sleeps 0.05 s
    # remaining: this generation's last 0 + two more generations of 4, at ~20/s
    assert progress.eta_seconds() == pytest.approx(8 / progress.rate, rel=1e-3)  # the rate moves with the clock
    progress.update(0, best=1.0, mean=0.5, n_species=2, evaluations=4)
    line = capsys.readouterr().err
    assert line.startswith("generation 1/3  best 1  mean 0.5  species 2") and "ETA" in line


def test_process_executor_reports_each_result_as_it_arrives():
    seen = []
    with ProcessExecutor(workers=2) as executor:
        results = executor.map(_slow_square, [1.0, 2.0, 3.0], [0, 1, 2], on_done=seen.append)
        assert results == [1.0, 4.0, 9.0] and sorted(seen) == [0, 1, 2]
        # slow tasks travel one by one (the chunk size follows the measured task time)
        assert executor._chunk_size(100) == 1


def test_disabled_reporter_leaves_the_executor_alone():
    executor = SerialExecutor()
    assert ProgressReporter(total=1, enabled=False).wrap(executor) is executor
