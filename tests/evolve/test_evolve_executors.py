"""Executors give the serial result: local processes, a real Dask LocalCluster, and lost workers."""

from __future__ import annotations

import os

import pytest

from epl_sysbio.evolve import (
    DaskExecutor,
    EvolveConfig,
    ProcessExecutor,
    SerialExecutor,
    evolve,
)
from epl_sysbio.seeds import derive_seed

from evolve_helpers import HangOnSeed, KillOnSeed, KillWorkerOnce, leaky_xor, marker_pid, noisy_xor
from roadrunner_hang import RoadRunnerLearnerHangOnSeed

CONFIG = EvolveConfig().replace(neat={"population_size": 30},
                                run={"seed": 11, "generations": 4, "progress": False, "plots": False})


@pytest.fixture(scope="module")
def serial_logbook():
    return list(evolve(noisy_xor, CONFIG, executor=SerialExecutor()).logbook)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_process_executor_equals_serial(serial_logbook, tmp_path):
    with ProcessExecutor(workers=2) as executor:
        assert list(evolve(noisy_xor, CONFIG, executor=executor).logbook) == serial_logbook
        # a worker killed mid-generation: the pool is rebuilt, the result is unchanged
        marker = str(tmp_path / "killed")
        result = evolve(KillWorkerOnce(marker), CONFIG, executor=executor)
        assert list(result.logbook) == serial_logbook
        assert not pid_alive(marker_pid(marker))


def test_task_that_always_kills_its_worker_gets_worst_fitness(tmp_path):
    config = CONFIG.replace(run={"generations": 1, "retries": 1, "worst_fitness": -5.0})
    victim = 3
    with ProcessExecutor(workers=2, retries=1) as executor:
        result = evolve(KillOnSeed(derive_seed(11, 0, victim)), config, executor=executor, run_dir=tmp_path)
    assert result.population[victim].fitness.values == (-5.0,)
    assert sum(g.fitness.values[0] == -5.0 for g in result.population) == 1  # innocent tasks were re-run
    rows = (tmp_path / "faults.csv").read_text().splitlines()
    assert rows[1].startswith(f"0,{victim},") and rows[1].endswith(
        "worker lost: its process died (exit code 1) on each of 2 attempts")


def test_a_task_stuck_past_its_time_limit_has_its_worker_killed_and_replaced(tmp_path):
    """A worker that cannot be interrupted (SIGALRM blocked, as in native code) is killed at the limit;
    the individual gets the worst fitness with the reason in faults.csv, and the run goes on."""
    config = CONFIG.replace(run={"generations": 2, "worst_fitness": -5.0, "time_limit": 1.0})
    victim = 4
    with ProcessExecutor(workers=2, time_limit=1.0) as executor:
        result = evolve(HangOnSeed(derive_seed(11, 0, victim)), config, executor=executor, run_dir=tmp_path)
        assert len(executor._pool) <= 2 and all(w.process.is_alive() for w in executor._pool)
    assert len(result.logbook) == 2  # the run went on past the stuck generation
    rows = (tmp_path / "faults.csv").read_text().splitlines()
    assert rows == ["generation,index,seed,reason",
                    f"0,{victim},{derive_seed(11, 0, victim)},time limit of 1 s exceeded; its worker was "
                    "killed and replaced"]
    serial = evolve(noisy_xor, CONFIG.replace(run={"generations": 1}), executor=SerialExecutor())
    fitness = [g.fitness.values[0] for g in serial.population]
    fitness[victim] = -5.0
    assert [r["best"] for r in result.logbook][:1] == [max(fitness)]


def test_a_roadrunner_learner_stuck_in_nleq2_has_its_worker_killed_and_the_run_goes_on(tmp_path, sbml_models_dir):
    """The main job's hang (issue 18): an EPL learner on libRoadRunner looping for ever in NLEQ2 during
    ``initialise``. Real native code, no Python signal handler can run; the supervisor kills the worker."""
    config = CONFIG.replace(run={"generations": 2, "worst_fitness": -5.0, "time_limit": 3.0})
    victim, marker = 7, str(tmp_path / "stuck")
    fitness = RoadRunnerLearnerHangOnSeed(derive_seed(11, 0, victim), str(sbml_models_dir / "receptor_synapse.ant"),
                                          marker)
    with ProcessExecutor(workers=2, time_limit=3.0) as executor:
        result = evolve(fitness, config, executor=executor, run_dir=tmp_path)
        assert not pid_alive(marker_pid(marker))  # the spinning worker is gone, not left burning a core
        assert len(executor._pool) <= 2 and all(w.process.is_alive() for w in executor._pool)
    assert len(result.logbook) == 2
    assert result.population  # and every other individual was evaluated
    rows = (tmp_path / "faults.csv").read_text().splitlines()
    assert rows == ["generation,index,seed,reason",
                    f"0,{victim},{derive_seed(11, 0, victim)},time limit of 3 s exceeded; its worker was "
                    "killed and replaced"]


@pytest.mark.slow
def test_a_worker_whose_memory_grows_past_the_bound_is_replaced(serial_logbook):
    config = CONFIG.replace(run={"generations": 1})
    with ProcessExecutor(workers=2, max_growth_mb=30) as executor:
        result = evolve(leaky_xor, config, executor=executor)  # 30 evaluations x 4 MB, in chunks of 4
        assert executor.recycled >= 1
    assert list(result.logbook) == serial_logbook[:1]


def test_dask_local_cluster_survives_a_killed_worker(serial_logbook, tmp_path):
    with DaskExecutor(workers=2) as executor:
        workers = executor.client.scheduler_info()["workers"]
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
        assert list(evolve(noisy_xor, CONFIG, executor=executor).logbook) == serial_logbook
        marker = str(tmp_path / "killed")
        result = evolve(KillWorkerOnce(marker), CONFIG, executor=executor)
        assert list(result.logbook) == serial_logbook
        assert sum(r["faults"] for r in result.logbook) == 0
        killed = marker_pid(marker)
        assert not pid_alive(killed)
        assert killed not in executor.client.run(os.getpid).values()
        # an existing cluster, by scheduler address (what --scheduler ADDRESS does)
        with DaskExecutor(address=executor.client.scheduler.address) as remote:
            assert list(evolve(noisy_xor, CONFIG, executor=remote).logbook) == serial_logbook
