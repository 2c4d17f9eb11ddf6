"""The generation loop: reproducibility, XOR, resume, checkpoints, faults, progress and plots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from epl_sysbio.errors import CheckpointError
from epl_sysbio.evolve import EvolveConfig, evolve, latest_checkpoint, list_checkpoints, resume, xor_fitness
from epl_sysbio.evolve.xor import XOR_INPUTS, XOR_TARGETS
from epl_sysbio.evolve import compile_genome

from evolve_helpers import faulty, noisy_xor, rounded_xor


def small(seed=0, generations=6, **run):
    return EvolveConfig().replace(neat={"population_size": 40},
                                  run={"seed": seed, "generations": generations, "executor": "serial",
                                       "progress": False, "plots": False, **run})


def test_seeded_runs_are_reproducible():
    a = evolve(noisy_xor, small(seed=3))
    b = evolve(noisy_xor, small(seed=3))
    c = evolve(noisy_xor, small(seed=4))
    assert list(a.logbook) == list(b.logbook)
    assert a.best == b.best and a.population == b.population
    assert list(a.logbook) != list(c.logbook)
    assert [r["gen"] for r in a.logbook] == list(range(6))
    assert a.evaluations == 6 * 40


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xor_is_solved(seed):
    config = EvolveConfig().replace(run={"seed": seed, "executor": "serial", "progress": False, "plots": False})
    result = evolve(xor_fitness, config)
    assert result.solved and result.generations <= 100
    out = compile_genome(result.solution)(XOR_INPUTS)[:, 0]
    assert np.all((out > 0.5) == (XOR_TARGETS > 0.5))


def test_resume_gives_the_uninterrupted_logbook(tmp_path):
    full = evolve(noisy_xor, small(generations=8), run_dir=tmp_path / "full")
    evolve(noisy_xor, small(generations=3), run_dir=tmp_path / "cut")
    assert latest_checkpoint(tmp_path / "cut" / "checkpoints").name == "gen-000003.json"
    resumed = resume(tmp_path / "cut", noisy_xor, generations=8)
    assert list(resumed.logbook) == list(full.logbook)
    assert resumed.best == full.best and resumed.population == full.population
    assert (tmp_path / "cut" / "logbook.csv").read_text() == (tmp_path / "full" / "logbook.csv").read_text()
    # resuming from an older checkpoint also reproduces the run
    again = resume(tmp_path / "cut", noisy_xor, checkpoint=tmp_path / "cut" / "checkpoints" / "gen-000006.json")
    assert list(again.logbook) == list(full.logbook)
    assert len(list_checkpoints(tmp_path / "cut" / "checkpoints")) == 3  # keep_checkpoints


def test_population_wide_stagnation_refocuses_and_survives_a_resume(tmp_path, monkeypatch):
    # a clock of 1 generation: whenever the best has not improved for 2, only the two best species breed
    config = small(generations=10).replace(neat={"population_stagnation_generations": 1})
    import epl_sysbio.evolve.loop as loop
    refocused = []
    reproduce = loop.reproduce

    def spy(*args, refocus=False, **kwargs):
        refocused.append(refocus)
        children, alive = reproduce(*args, refocus=refocus, **kwargs)
        assert not refocus or len(alive) <= 2
        return children, alive

    monkeypatch.setattr(loop, "reproduce", spy)
    full = evolve(rounded_xor, config, run_dir=tmp_path / "full")
    assert any(refocused) and not all(refocused)
    evolve(rounded_xor, config.replace(run={"generations": 4}), run_dir=tmp_path / "cut")
    state = json.loads(latest_checkpoint(tmp_path / "cut" / "checkpoints").read_text())["state"]
    assert {"best_ever", "best_improved"} <= set(state)
    resumed = resume(tmp_path / "cut", rounded_xor, generations=10)
    assert list(resumed.logbook) == list(full.logbook)


def test_damaged_checkpoints_are_refused(tmp_path):
    evolve(noisy_xor, small(generations=2), run_dir=tmp_path)
    path = latest_checkpoint(tmp_path / "checkpoints")
    text = path.read_text()

    doc = json.loads(text)
    doc["state"]["threshold"] = 2.5
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="fails its checksum"):
        resume(tmp_path, noisy_xor)

    path.write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        resume(tmp_path, noisy_xor)

    path.write_text(text)
    npz = path.with_suffix(".npz")
    npz.write_bytes(npz.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="fails its SHA-256"):
        resume(tmp_path, noisy_xor)


def test_resume_under_another_config_is_refused(tmp_path):
    evolve(noisy_xor, small(generations=2), run_dir=tmp_path)
    with pytest.raises(CheckpointError, match="different config"):
        resume(tmp_path, noisy_xor, config=small(generations=2).replace(neat={"c3": 0.5}))
    with pytest.raises(CheckpointError, match="already holds checkpoints"):
        evolve(noisy_xor, small(), run_dir=tmp_path)
    with pytest.raises(CheckpointError, match="No checkpoint"):
        resume(tmp_path / "empty", noisy_xor, config=small())


def test_faults_get_worst_fitness_and_are_logged(tmp_path):
    config = small(generations=2, time_limit=0.3, worst_fitness=-1.0).replace(neat={"population_size": 14})
    result = evolve(faulty, config, run_dir=tmp_path)
    assert result.generations == 2
    rows = (tmp_path / "faults.csv").read_text().splitlines()
    reasons = "\n".join(rows[1:])
    assert rows[0] == "generation,index,seed,reason"
    assert "raised ValueError: boom" in reasons and "returned nan" in reasons and "time limit of 0.3 s" in reasons
    assert sum(r["faults"] for r in result.logbook) == len(rows) - 1
    assert min(r["min"] for r in result.logbook) == -1.0


def test_run_directory_holds_config_logbook_plots_and_progress(tmp_path, capsys):
    config = small(generations=3, progress=True, plots=True)
    result = evolve(noisy_xor, config, run_dir=tmp_path)
    err = capsys.readouterr().err
    assert "generation 1/3" in err and "evals/s" in err and "species" in err
    header = (tmp_path / "logbook.csv").read_text().splitlines()[0]
    assert header.startswith("gen,nevals,evaluations,species,threshold,faults")
    for name in ("fitness.png", "species.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "best.json").read_text())["fitness"] == result.best_fitness
    assert (tmp_path / "config.toml").read_text().startswith("[neat]")
