"""The main job: config and presets, bad input before compute, the run directory, exported champions."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from epl_sysbio.cli import main
from epl_sysbio.epl.config import PRESETS, EplJobConfig, job_config_from_dict, job_config_hash, \
    job_config_to_toml, load_job_config, preset
from epl_sysbio.epl.job import prepare_run_dir, run_job
from epl_sysbio.errors import CheckpointError, ConfigError
from epl_sysbio.model import load_model
from epl_sysbio.simulate import Engine

SMOKE = PRESETS["smoke"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("epl") / "run"
    run_job(SMOKE, out)
    return out


# ------------------------------------------------------------------ config

@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_through_toml(tmp_path, name):
    path = tmp_path / "c.toml"
    path.write_text(job_config_to_toml(PRESETS[name]))
    assert load_job_config(path) == PRESETS[name]


def test_paper_preset_is_the_papers_scale():
    paper = preset("paper")
    assert paper.neat.population_size == 100 and paper.run.generations == 50 and paper.task.epochs == 10
    assert paper.task.name == "cartpole" and preset("frozenlake-paper").task.name == "frozenlake"


def test_a_partial_toml_keeps_the_base_values(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[task]\nname = "frozenlake"\n[run]\nseed = 4\n')
    config = load_job_config(path, base=preset("paper"))
    assert config.task.name == "frozenlake" and config.run.seed == 4 and config.neat.population_size == 100


@pytest.mark.parametrize("data, match", [
    ({"tsak": {}}, r"Unknown section \[tsak\]. Did you mean \[task\]"),
    ({"task": {"epohcs": 3}}, r"Unknown key 'epohcs' in \[task\]. Did you mean 'epochs'"),
    ({"neat": {"population_size": 0}}, r"population_size.*int in \[2, 100,000\].*Got 0"),
    ({"substrate": {"rate_scale": -1.0}}, r"\[substrate\].*rate_scale.*Got -1.0"),
    ({"learner": {"atol": -1e-3}}, r"\[learner\].*atol.*Got -0.001"),
    ({"task": {"name": "pong"}}, r"\[task\].*'name'.*one of.*cartpole.*Got 'pong'"),
    ({"fitness": {"size_weight": -1}}, r"size_weight.*Got -1"),
    ({"neat": {"n_inputs": 2}}, r"n_inputs and n_outputs must be 4 and 3"),
])
def test_bad_configs_are_refused_with_the_key_and_value(data, match):
    with pytest.raises(ConfigError, match=match):
        job_config_from_dict(data)


def test_unknown_preset_names_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'paper'"):
        preset("papr")


def test_config_hash_ignores_the_horizon_and_display_only():
    base = EplJobConfig()
    assert job_config_hash(base) == job_config_hash(base.replace(run={"generations": 7, "progress": False}))
    assert job_config_hash(base) != job_config_hash(base.replace(task={"epochs": 3}))


# ------------------------------------------------------------------ bad input before compute

def test_cli_refuses_a_bad_config_before_creating_the_run_directory(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[neat]\npopulation_size = 0\n")
    out = tmp_path / "run"
    assert main(["evolve", str(config), "--out", str(out)]) == 2
    assert "population_size" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_an_unknown_task(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('[task]\nname = "acrobot"\n')
    assert main(["evolve", str(config), "--out", str(tmp_path / "run")]) == 2
    assert "acrobot" in capsys.readouterr().err


def test_an_existing_run_is_never_overwritten_without_force(tmp_path):
    out = tmp_path / "run"
    prepare_run_dir(out, SMOKE)
    (out / "logbook.csv").write_text("precious\n")
    with pytest.raises(ConfigError, match="--force"):
        prepare_run_dir(out, SMOKE)
    assert (out / "logbook.csv").read_text() == "precious\n"
    (out / "notes.txt").write_text("mine")
    prepare_run_dir(out, SMOKE, force=True)
    assert not (out / "logbook.csv").exists() and (out / "notes.txt").read_text() == "mine"


def test_an_unwritable_run_directory_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="not writable"):
        prepare_run_dir(blocker / "run", SMOKE)


def test_resume_needs_a_run_and_the_same_config(tmp_path):
    with pytest.raises(CheckpointError, match="no config.toml"):
        prepare_run_dir(tmp_path / "empty", SMOKE, resume_run=True)
    out = tmp_path / "run"
    prepare_run_dir(out, SMOKE)
    with pytest.raises(CheckpointError, match="another config"):
        prepare_run_dir(out, SMOKE.replace(task={"epochs": 5}), resume_run=True)
    prepare_run_dir(out, SMOKE, resume_run=True)  # killed before its first checkpoint: resumable (from scratch)


# ------------------------------------------------------------------ the run directory

def test_run_directory_holds_everything(smoke_run):
    out = smoke_run
    assert load_job_config(out / "config.toml") == SMOKE
    rows = list(csv.DictReader((out / "logbook.csv").open()))
    assert len(rows) == SMOKE.run.generations
    for key in ("gen", "best_fitness", "mean_fitness", "species", "evaluations", "wall_s"):
        assert key in rows[0]
    assert [int(r["evaluations"]) for r in rows] == [6, 12]
    assert all(int(r["ok"]) + int(r["too_small"]) + int(r["stopped"]) == 6 for r in rows)
    # every status has its own column, and the stopped ones add up
    assert all(sum(int(r[s]) for s in ("diverged", "failed", "not_relaxed", "too_stiff")) == int(r["stopped"])
               for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("task", "population", "generations", "wall_s", "best_fitness", "first_gen_best_at_least_99",
                "mean_fitness_final", "training_time_reduction_pct_per_gen"):
        assert key in summary
    assert summary["best_fitness"] == max(float(r["best_fitness"]) for r in rows)
    assert summary["mean_fitness_final"] == pytest.approx(float(rows[-1]["mean_fitness"]))
    assert not (out / "neat" / "reports").exists()  # evaluations come back with their results, not through files
    assert list((out / "neat" / "checkpoints").glob("gen-*.json"))
    plots = {p.name for p in (out / "plots").iterdir()}
    assert {"fitness.png", "training_time.png", "trace.png"} <= plots
    assert any(name.startswith("network_gen") for name in plots)
    assert len((out / "generations.jsonl").read_text().splitlines()) == SMOKE.run.generations


def test_recorded_best_fitness_is_reproduced_from_genome_and_seed(smoke_run):
    """Evaluations are pure in (genome, seed, config): re-evaluating each generation's best in this process
    (a worker-free, fresh compile) gives the fitness the run recorded."""
    from epl_sysbio.epl.substrate import evaluate_genome
    from epl_sysbio.evolve.genome import genomes_from_arrays

    for line in (smoke_run / "generations.jsonl").read_text().splitlines():
        entry = json.loads(line)
        genome = genomes_from_arrays({k: np.asarray(v) for k, v in entry["genome_arrays"].items()})[0]
        report = evaluate_genome(genome, entry["record"]["best_seed"], SMOKE)
        assert report.fitness == entry["record"]["best_fitness"] == entry["report"]["fitness"]
        assert report.to_dict() == entry["report"]


def test_exported_champion_archive_and_models(smoke_run):
    best = smoke_run / "best"
    with zipfile.ZipFile(best / "model.omex") as archive:
        names = set(archive.namelist())
        assert names == {"manifest.xml", "model.xml", "simulation.sedml"}
        sedml = archive.read("simulation.sedml").decode()
        assert "<steadyState" in sedml and 'source="model.xml"' in sedml
        assert archive.read("model.xml").decode() == (best / "model.xml").read_text()
    import libsedml

    assert libsedml.readSedMLFromString(sedml).getNumErrors(libsedml.LIBSEDML_SEV_ERROR) == 0
    assert load_model(best / "model.ant").floating_species_ids == load_model(best / "model.xml").floating_species_ids
    learner = json.loads((best / "learner.json").read_text())
    assert learner["roles"]["inputs"] and learner["report"]["fitness"] == pytest.approx(
        json.loads((smoke_run / "summary.json").read_text())["best_fitness"])


def test_exported_champion_loads_in_copasi_and_tellurium_with_the_same_steady_state(smoke_run):
    import tellurium as te

    from copasi_reference import copasi_steady_state

    sbml = (smoke_run / "best" / "model.xml").read_text()
    ours = Engine(load_model(smoke_run / "best" / "model.xml")).steady_state()
    assert ours.converged
    copasi = copasi_steady_state(sbml, mca=False)
    assert copasi.found, copasi.message
    for sid, value in ours.values.items():
        if sid in copasi.concentrations:
            assert copasi.concentrations[sid] == pytest.approx(value, rel=1e-6, abs=1e-9), sid
    rr = te.loads(sbml)
    rr.conservedMoietyAnalysis = True
    rr.steadyState()
    for sid, value in zip(rr.model.getFloatingSpeciesIds(), rr.model.getFloatingSpeciesConcentrations()):
        assert value == pytest.approx(ours.values[sid], rel=1e-6, abs=1e-9), sid


def test_resume_continues_the_run(smoke_run, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(smoke_run, out)
    before = list(csv.DictReader((out / "logbook.csv").open()))
    result = run_job(SMOKE.replace(run={"generations": 3}), out, resume_run=True)
    after = list(csv.DictReader((out / "logbook.csv").open()))
    assert len(after) == 3 and result.summary["generations"] == 3
    for a, b in zip(before, after):
        assert a["best_fitness"] == b["best_fitness"] and a["mean_fitness"] == b["mean_fitness"]
    assert np.isfinite(float(after[-1]["mean_fitness"]))


def _spin(*args, **kwargs):
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGALRM})  # as NLEQ2 inside libRoadRunner
    while True:
        pass


def _segfault(*args, **kwargs):
    import os
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)


def test_a_champion_whose_alignment_hangs_or_export_crashes_costs_the_number_not_the_run(
        tmp_path, monkeypatch, capfd):
    """Both run libRoadRunner in the job's own process (the workers' supervision does not reach there)."""
    from epl_sysbio.epl import alignment, substrate

    monkeypatch.setattr(alignment, "network_alignment", _spin)
    monkeypatch.setattr(substrate, "export_champion", _segfault)
    out = tmp_path / "run"
    result = run_job(SMOKE.replace(run={"generations": 1, "time_limit": 1.0}), out)
    _, err = capfd.readouterr()
    assert "the champion's alignment did not finish within its 2 s budget" in err
    assert "the champion's export crashed" in err and "SIGSEGV" in err
    assert [r["best_alignment"] for r in result.records] == [None]
    assert (out / "generations.jsonl").exists() and json.loads((out / "summary.json").read_text())["generations"] == 1


def test_a_run_checkpointed_every_second_generation_resumes_to_the_uninterrupted_run(tmp_path):
    """The journal runs ahead of a sparse checkpoint: a resume repeats the generations after it and
    journals them again, ending where an uninterrupted run ends."""
    config = SMOKE.replace(run={"checkpoint_every": 2, "generations": 3, "plots": False})
    run_job(config, tmp_path / "cut")  # checkpoints: generation 2 only; the journal holds 0, 1, 2
    run_job(config.replace(run={"generations": 4}), tmp_path / "cut", resume_run=True)
    run_job(config.replace(run={"generations": 4}), tmp_path / "full")

    def journal(out):
        entries = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
        for entry in entries:
            entry["record"].pop("wall_s")
        return entries

    assert len(journal(tmp_path / "cut")) == 4 and journal(tmp_path / "cut") == journal(tmp_path / "full")


def test_a_journal_cut_short_resumes_from_a_checkpoint_it_reaches(tmp_path):
    """generations.jsonl lost its last generations (a hand edit, a restored backup): the resume starts from the
    newest kept checkpoint the journal reaches and ends where the uninterrupted run ended."""
    config = SMOKE.replace(run={"generations": 4, "plots": False, "keep_checkpoints": 0})
    run_job(config, tmp_path / "full")
    cut = tmp_path / "cut"
    run_job(config, cut)
    lines = (cut / "generations.jsonl").read_text().splitlines()
    (cut / "generations.jsonl").write_text(lines[0] + "\n" + lines[1] + "\n")  # checkpoints 1..4 are all kept
    run_job(config, cut, resume_run=True)

    def journal(out):
        entries = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
        for entry in entries:
            entry["record"].pop("wall_s")
        return entries

    assert len(journal(cut)) == 4 and journal(cut) == journal(tmp_path / "full")
