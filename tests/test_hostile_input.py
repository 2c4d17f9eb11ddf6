"""What a hostile user feeds the toolkit never crashes it, hangs it or costs them their files (issue 18).

One test per reproduction of the issue, each asserting the exit code, that no traceback is printed, and
where relevant that nothing was lost. Fixture files are generated here (tests/hostile_fixtures.py).
Commands run in-process through ``main()``: the model commands fork their own child, so a native crash
happens there, exactly as from a shell; the few behaviours that need a real process (a broken pipe,
Ctrl-C, a file-size limit, another user) run the installed command.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from epl_sysbio import Engine, EplSysbioError, EquilibriumLayer, Model
from epl_sysbio.cli import main
from epl_sysbio.errors import CheckpointError, InvalidValueError, ModelLimitError, ModelLoadError, TimeLimitError
from epl_sysbio.isolation import Isolation, run_isolated
from epl_sysbio.simulate.solvers import Newton

from hostile_fixtures import (
    IMPORTED_MODEL,
    IMPORTING_MODEL,
    antimony_minus_chain,
    antimony_nested_calls,
    external_model_sbml,
    nested_annotation_sbml,
    nested_math_sbml,
)
from inline_models import CONSERVED_CYCLE

#: The installed command (what a user runs), else the module.
_SCRIPT = Path(sys.executable).with_name("epl-sysbio")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "epl_sysbio.cli"]


def run(capfd, *argv: str) -> tuple[int, str, str]:
    """``main(argv)``: exit code, stdout, stderr (file-descriptor level: native output included)."""
    code = main([str(a) for a in argv])
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ----------------------------------------------------------------------- 1. segfaults on nested XML

@pytest.mark.parametrize("make, depth, command", [
    (nested_math_sbml, 10_000, "validate"),     # libsbml's reader crashed
    (nested_math_sbml, 5_000, "steady"),        # libRoadRunner's compiler crashed
    (nested_annotation_sbml, 30_000, "validate"),
    (nested_annotation_sbml, 10_000, "convert"),  # took over a minute (quadratic)
])
def test_deeply_nested_xml_is_refused_before_parsing_with_the_limit(capfd, tmp_path, make, depth, command):
    model = write(tmp_path / "deep.xml", make(depth))
    t0 = time.perf_counter()
    code, out, err = run(capfd, command, model, *(["--to", "sbml"] if command == "convert" else []))
    assert code == 2 and out == ""
    assert "nests too deeply" in err and "the limit max_depth is 1,000" in err and "--max-depth" in err
    assert time.perf_counter() - t0 < 20


def test_a_native_crash_past_a_raised_limit_is_exit_2_with_the_signal(capfd, tmp_path):
    model = write(tmp_path / "deep.xml", nested_math_sbml(10_000))
    code, out, err = run(capfd, "validate", model, "--max-depth", "20000")
    assert code == 2 and out == ""
    assert "crashed the process it ran in (SIGSEGV)" in err


@pytest.mark.parametrize("text", [antimony_nested_calls(4_500), antimony_minus_chain(8_000)])
def test_antimony_that_would_crash_antimony_is_refused(capfd, tmp_path, text):
    code, _, err = run(capfd, "steady", write(tmp_path / "deep.ant", text))
    assert code == 2 and "may nest too deeply" in err and "--max-depth" in err
    with pytest.raises(ModelLimitError, match="max_depth"):
        Model.from_antimony(text)


def test_too_many_elements_and_too_many_bytes_are_refused(capfd, tmp_path):
    model = write(tmp_path / "m.xml", Model.from_antimony(CONSERVED_CYCLE).to_sbml())
    code, _, err = run(capfd, "validate", model, "--max-elements", "10")
    assert code == 2 and "too many elements" in err and "--max-elements" in err
    code, _, err = run(capfd, "validate", model, "--max-bytes", "100")
    assert code == 2 and "too large" in err and "--max-bytes" in err


# ----------------------------------------------------------------------- 2. hangs

@pytest.mark.parametrize("model, assignment", [
    ("receptor_synapse", "kon=1e308"), ("receptor_synapse", "L=1e308"), ("receptor_synapse", "cleft=1e-300"),
    ("homeostatic_unit", "h=1e308"), ("homeostatic_unit", "ATP=1e308"),  # finite rates: NLEQ2 hung all the same
])
def test_overflowing_values_end_in_a_status_not_a_hang(capfd, sbml_models_dir, model, assignment):
    t0 = time.perf_counter()
    code, out, err = run(capfd, "steady", sbml_models_dir / f"{model}.ant", "--set", assignment,
                         "--format", "json", "--timeout", "120")
    assert code == 1 and json.loads(out)["status"] == "not_converged"
    assert time.perf_counter() - t0 < 60


@pytest.mark.parametrize("model, assignment", [
    ("receptor_synapse", "cleft=1e308"), ("epl_appendix_b", "mem=1e308"), ("phosphorylation_cycle_neuron", "soma=1e308"),
])
def test_an_overflowing_jacobian_never_reaches_lapack(capfd, sbml_models_dir, model, assignment):
    """Found by analysis/fault_injection.py's grid: LAPACK's SVD raised a bare LinAlgError, and libRoadRunner's
    eigenvalue routine (zgebal) looped for ever, on a Jacobian with infinite entries."""
    t0 = time.perf_counter()
    code, out, err = run(capfd, "steady", sbml_models_dir / f"{model}.ant", "--set", assignment, "--format", "json")
    assert code in (0, 1) and json.loads(out)["status"] in ("stable", "marginal", "not_converged")
    assert "internal error" not in err and time.perf_counter() - t0 < 60


def test_the_budget_stops_a_command_and_says_how_to_raise_it(capfd, sbml_models_dir):
    # 200,000 solves take over 10 s even in a warm process (400 took 0.03 s in a test worker and finished)
    code, out, err = run(capfd, "analyze", sbml_models_dir / "schloegl_bistable.ant", "--scan", "k4=5:7:200000",
                         "--timeout", "0.5")
    assert code == 1 and out == ""
    assert "did not finish within its 0.5 s budget" in err and "--timeout" in err


def test_every_main_job_preset_gives_its_workers_a_time_limit():
    """The main job hung in generation 0 on NLEQ2 because its preset set no time limit; the supervised
    workers (tests/evolve/test_evolve_executors.py) kill a learner past it."""
    from epl_sysbio.epl.config import PRESETS
    from epl_sysbio.evolve.executors import ProcessExecutor, make_executor

    assert all(0 < config.run.time_limit <= 3600 for config in PRESETS.values())
    executor = make_executor(PRESETS["paper"].run)
    try:
        assert isinstance(executor, ProcessExecutor) and executor.time_limit == 600.0
    finally:
        executor.close()


def _spin_without_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGALRM})  # like NLEQ2 in C
    while True:
        pass


def test_run_isolated_kills_a_call_that_ignores_signals():
    t0 = time.perf_counter()
    with pytest.raises(TimeLimitError, match="0.5 s budget"):
        run_isolated(_spin_without_signals, timeout=0.5, label="a spinning call")
    assert time.perf_counter() - t0 < 10


def test_an_isolated_engine_turns_a_crash_into_a_status_and_keeps_working(monkeypatch, sbml_models_dir):
    engine = Engine(Model.from_antimony_file(sbml_models_dir / "receptor_synapse.ant"), isolation=Isolation(timeout=60))
    direct = Engine(Model.from_antimony_file(sbml_models_dir / "receptor_synapse.ant"))
    assert engine.steady_state({"kon": 2.0}).values == pytest.approx(direct.steady_state({"kon": 2.0}).values)
    assert engine.concentrations() == pytest.approx(direct.concentrations())  # the child's final state adopted
    monkeypatch.setattr(Newton, "solve", lambda self, *args: os.kill(os.getpid(), signal.SIGSEGV))
    crashed = engine.steady_state(start="reset")
    assert crashed.status.value == "not_converged" and "SIGSEGV" in crashed.message
    monkeypatch.undo()
    assert engine.steady_state(start="reset").stable  # the caller's engine is intact


# ----------------------------------------------------------------------- 5. stdout carries results only

def test_solver_warnings_never_reach_stdout(capfd, sbml_models_dir):
    code, out, err = run(capfd, "steady", sbml_models_dir / "receptor_synapse.ant", "--set", "kon=1e30",
                         "--format", "json")
    assert code == 1
    assert json.loads(out)["status"] == "not_converged"  # the whole of stdout is one JSON object
    assert "[WARNING]" not in out and "[WARNING]" in err  # SUNDIALS still speaks, on stderr


def test_library_calls_never_write_to_stdout(capfd, sbml_models_dir):
    engine = Engine(Model.from_antimony_file(sbml_models_dir / "receptor_synapse.ant"))
    engine.steady_state({"kon": 1e30})
    out, _ = capfd.readouterr()
    assert out == ""


def test_an_epl_learner_on_libroadrunner_never_writes_to_stdout(capfd):
    """The main job's learners on the roadrunner backend: CVODE's warnings of a blow-up go to stderr."""
    from epl_sysbio.epl.learner import EplLearner

    engine = Engine(Model.from_antimony("model blow\n J0: -> x; x^2\n J1: y -> ; y\n x = 1; y = 1\nend\n"))
    learner = EplLearner(engine, ("y",), ("x",), ("x",))
    assert learner.initialise() == "too_stiff"
    out, err = capfd.readouterr()
    assert out == "" and "[WARNING]" in err


# ----------------------------------------------------------------------- 6. Antimony import

def test_antimony_import_is_refused_and_the_imported_file_is_never_read(capfd, tmp_path):
    write(tmp_path / "inner.ant", IMPORTED_MODEL)
    model = write(tmp_path / "outer.ant", IMPORTING_MODEL.format(path="inner.ant"))
    code, out, err = run(capfd, "convert", model, "--to", "antimony")
    assert code == 2 and out == "" and "imports 'inner.ant'" in err and "--allow-imports" in err
    assert "SECRET-TOKEN" not in err
    code, _, err = run(capfd, "steady", write(tmp_path / "pw.ant", IMPORTING_MODEL.format(path="/etc/passwd")))
    assert code == 2 and "/etc/passwd" in err and "'root'" not in err and "reserved word" not in err


def test_allowed_imports_read_only_below_the_model_directory(capfd, tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models / "sub").mkdir(parents=True)
    write(models / "sub" / "inner.ant", IMPORTED_MODEL)
    model = write(models / "outer.ant", IMPORTING_MODEL.format(path="sub/inner.ant"))
    # Antimony looks in the current directory first: a file planted there must not be the one read.
    (tmp_path / "cwd" / "sub").mkdir(parents=True)
    write(tmp_path / "cwd" / "sub" / "inner.ant", "model inner()\n  PLANTED = 1\nend\n")
    monkeypatch.chdir(tmp_path / "cwd")
    code, out, _ = run(capfd, "convert", model, "--to", "antimony", "--allow-imports")
    assert code == 0 and "A.k" in out.replace("A_k", "A.k") and "PLANTED" not in out
    outside = write(models / "escape.ant", IMPORTING_MODEL.format(path="../cwd/sub/inner.ant"))
    code, _, err = run(capfd, "convert", outside, "--to", "antimony", "--allow-imports")
    assert code == 2 and "outside" in err and "PLANTED" not in err


@pytest.mark.parametrize("source, fragment", [
    ("/etc/passwd", "is not a relative path inside the model's directory"),
    ("../outside.xml", "is not a relative path inside the model's directory"),
    ("link.xml", "leaves"),  # a symlink next to the model, pointing outside its directory
])
def test_sbml_external_model_files_outside_the_model_directory_are_refused(capfd, tmp_path, source, fragment):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "link.xml").symlink_to("/etc/passwd")
    code, _, err = run(capfd, "validate", write(tmp_path / "models" / "ext.xml", external_model_sbml(source)))
    assert code == 2 and fragment in err and "root:x" not in err


# ----------------------------------------------------------------------- 7. atomic outputs

def test_a_convert_that_fails_midway_leaves_the_old_output_unchanged(tmp_path, sbml_models_dir):
    out = write(tmp_path / "out.xml", "precious\n" * 1000)

    def limit_file_size():  # the converted model is larger than this: the write fails midway
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    proc = subprocess.run([*CLI, "convert", str(sbml_models_dir / "receptor_synapse.ant"), "--to", "sbml",
                           "-o", str(out)], capture_output=True, text=True, preexec_fn=limit_file_size, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "File too large" in proc.stderr
    assert out.read_text() == "precious\n" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["out.xml"]  # no temporary file left


def test_an_archive_write_killed_midway_leaves_nothing_in_the_working_directory(tmp_path, sbml_models_dir):
    """libcombine staged archive entries as temp<N>.tmp in the current directory; runs killed during the
    champion's export left them in the user's folder (found after the kill-and-resume campaign)."""
    from epl_sysbio.model.omex import write_omex_archive

    sbml = Model.from_antimony_file(sbml_models_dir / "receptor_synapse.ant").to_sbml()
    cwd, out = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir()
    out.mkdir()
    pid = os.fork()
    if pid == 0:  # killed when the archive is written, before libcombine cleans up
        os.chdir(cwd)
        os.replace = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
        write_omex_archive(out / "model.omex", [("model.xml", sbml, "sbml", True)])
        os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == -signal.SIGKILL
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("target", ["/proc/x", "{tmp}/missing/dir/x.xml", "{tmp}", "/dev/full"])
def test_an_unwritable_convert_output_is_exit_2_with_a_message(capfd, tmp_path, sbml_models_dir, target):
    target = target.format(tmp=tmp_path)
    code, _, err = run(capfd, "convert", sbml_models_dir / "receptor_synapse.ant", "--to", "sbml", "-o", target)
    assert code == 2 and f"Cannot write output file {target!r}" in err
    assert Path("/dev/full").exists() and not Path("/dev/full").is_file()  # never replaced by a regular file


@pytest.mark.parametrize("target", ["/proc/x", "/dev/full", "{tmp}/file"])
def test_an_unwritable_output_directory_is_exit_2_with_a_message(capfd, tmp_path, sbml_models_dir, target):
    target = target.format(tmp=tmp_path)
    write(tmp_path / "file", "a file, not a directory")
    model = sbml_models_dir / "phosphorylation_cycle_neuron.ant"
    for argv in (["demo", "--model", model, "--out", target], ["analyze", model, "--report", target],
                 ["xor", "--out", target, "--generations", "1", "--executor", "serial"]):
        code, _, err = run(capfd, *argv)
        assert code == 2 and target in err, (argv, err)


# ----------------------------------------------------------------------- 8. messages, not tracebacks

#: Root reads any file: as root, the command runs without the capabilities that bypass permissions.
_DROP_ROOT_READ = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
                   "--inh-caps", "-dac_override,-dac_read_search"]


@pytest.mark.parametrize("command", ["steady", "validate", "convert"])
def test_an_unreadable_model_is_exit_2(tmp_path, command):
    model = write(tmp_path / "m.ant", CONSERVED_CYCLE)
    model.chmod(0)
    prefix = _DROP_ROOT_READ if os.geteuid() == 0 else []
    if prefix and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: no way to be refused a read")
    argv = [*prefix, *CLI, command, str(model), *(["--to", "sbml"] if command == "convert" else [])]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"Cannot read model file {str(model)!r}: Permission denied" in proc.stderr


def test_a_negative_compartment_size_is_exit_2(capfd, tmp_path, sbml_models_dir):
    text = (sbml_models_dir / "receptor_synapse.ant").read_text().replace("cleft = 0.5", "cleft = -0.5")
    code, _, err = run(capfd, "steady", write(tmp_path / "neg.ant", text))
    assert code == 2 and "compartment sizes must be finite and > 0; got 'cleft' = -0.5" in err
    code, _, err = run(capfd, "steady", sbml_models_dir / "receptor_synapse.ant", "--set", "cleft=0")
    assert code == 2 and "'cleft' must have a size > 0" in err


@pytest.mark.parametrize("command", ["evolve", "xor"])
def test_a_config_that_is_not_utf8_is_exit_2(capfd, tmp_path, command):
    config = tmp_path / "c.toml"
    config.write_bytes(b"[run]\nseed = 1 # caf\xe9\n")
    argv = [command, config, "--out", tmp_path / "run"] if command == "evolve" else \
        [command, "--config", config, "--out", tmp_path / "run"]
    code, _, err = run(capfd, *argv)
    assert code == 2 and "is not UTF-8 text" in err and str(config) in err
    assert not (tmp_path / "run").exists()


def test_a_closed_pipe_ends_quietly(sbml_models_dir):
    proc = subprocess.Popen([*CLI, "steady", str(sbml_models_dir / "receptor_synapse.ant"), "--format", "csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # `| head -0`: the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_ctrl_c_ends_with_130_and_a_resume_hint(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([*CLI, "evolve", "--preset", "smoke", "--out", str(out)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / "config.toml").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # during generation 0: --resume refused this directory
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 130
    assert "Traceback" not in err and "interrupted" in err and f"--out {out} --resume" in err
    resumed = subprocess.run([*CLI, "evolve", "--preset", "smoke", "--out", str(out), "--resume"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    reference = tmp_path / "reference"
    subprocess.run([*CLI, "evolve", "--preset", "smoke", "--out", str(reference)], check=True, capture_output=True,
                   timeout=600)

    def logbook(run: Path) -> list[list[str]]:  # wall-clock column aside
        rows = [line.split(",") for line in (run / "logbook.csv").read_text().splitlines()]
        drop = rows[0].index("wall_s")
        return [row[:drop] + row[drop + 1:] for row in rows]

    assert logbook(out) == logbook(reference)


# ----------------------------------------------------------------------- 9. absurd bounds

@pytest.mark.parametrize("command", ["evolve", "xor"])
def test_a_population_no_machine_can_hold_is_refused_before_compute(capfd, tmp_path, command):
    config = write(tmp_path / "c.toml", "[neat]\npopulation_size = 1000000000\n")
    argv = [command, config, "--out", tmp_path / "run"] if command == "evolve" else \
        [command, "--config", config, "--out", tmp_path / "run"]
    t0 = time.perf_counter()
    code, _, err = run(capfd, *argv)
    assert code == 2 and "population_size" in err and "[2, 100,000]" in err and "1000000000" in err
    assert time.perf_counter() - t0 < 30 and not (tmp_path / "run").exists()


def test_a_time_course_no_machine_can_hold_is_refused():
    with pytest.raises(InvalidValueError, match=r"points.*\[2, 1,000,000\]"):
        Engine(Model.from_antimony(CONSERVED_CYCLE)).time_course(10.0, points=10**9)


# ----------------------------------------------------------------------- 10. the Python API

@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Model.from_antimony(CONSERVED_CYCLE))


@pytest.mark.parametrize("call, match", [
    (lambda e: Model.from_sbml_file(None), "must be a str or os.PathLike. Got None"),
    (lambda e: e.inject(["A"]), "inject takes a mapping of id -> number.*Got \\['A'\\] \\(list\\)"),
    (lambda e: e.inject({"A": "1"}), "value for 'A' must be a number. Got '1' \\(str\\)"),
    (lambda e: e.inject({"A": True}), "value for 'A' must be a number. Got True \\(bool\\)"),
    (lambda e: e.set_values({"k1": np.bool_(True)}), "must be a number"),
    (lambda e: e.relax(t_max=-1.0), "'t_max' parameter of relax must be a float in \\(0, inf\\) or None"),
    (lambda e: e.relax(t_max=float("nan")), "'t_max' parameter of relax must be a float in \\(0, inf\\) or None"),
    (lambda e: e.steady_state(["A"]), "steady_state takes a mapping"),
    (lambda e: EquilibriumLayer(None, inputs=["k1"], outputs=["[C]"], params=[]), "'model' parameter"),
    (lambda e: EquilibriumLayer(e.model, inputs="k1", outputs=["[C]"], params=[]), "'inputs' parameter"),
    (lambda e: EquilibriumLayer(e.model, inputs=["k1"], outputs=["[C]"], params=[]).forward([["a"]]),
     "x must be numbers"),
])
def test_api_misuse_is_an_eplsysbio_error(engine, call, match):
    with pytest.raises(EplSysbioError, match=match):
        call(engine)


# ----------------------------------------------------------------------- 11. checkpoints

def _checkpointed_run(tmp_path) -> Path:
    from epl_sysbio.evolve import EvolveConfig, evolve, xor_fitness

    config = EvolveConfig().replace(neat={"population_size": 10},
                                    run={"generations": 2, "executor": "serial", "progress": False, "plots": False})
    evolve(xor_fitness, config, run_dir=tmp_path)
    return tmp_path


def test_a_checkpoint_value_edited_under_a_recomputed_checksum_is_refused(tmp_path):
    from epl_sysbio.evolve import latest_checkpoint, resume, xor_fitness
    from epl_sysbio.evolve.checkpoint import _checksum

    run_dir = _checkpointed_run(tmp_path)
    path = latest_checkpoint(run_dir / "checkpoints")
    document = json.loads(path.read_text())
    document["state"]["threshold"] = -5
    document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=r"'threshold'.*Got -5 instead"):
        resume(run_dir, xor_fitness)


def test_an_object_array_in_a_checkpoint_is_refused_without_unpickling(capfd, tmp_path):
    import hashlib
    import io

    from epl_sysbio.evolve import latest_checkpoint
    from epl_sysbio.evolve.checkpoint import _checksum

    run_dir = _checkpointed_run(tmp_path)
    path = latest_checkpoint(run_dir / "checkpoints")
    buffer = io.BytesIO()
    np.savez(buffer, pop_weights=np.array([{"evil": 1}], dtype=object))
    path.with_suffix(".npz").write_bytes(buffer.getvalue())
    document = json.loads(path.read_text())
    document["arrays_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document))
    code, _, err = run(capfd, "xor", "--out", run_dir, "--resume")
    assert code == 2 and "cannot be read as plain arrays" in err


# ----------------------------------------------------------------------- 12. memory

def test_steady_states_from_reset_do_not_call_the_leaking_simulate(monkeypatch, tmp_path):
    """libRoadRunner 2.10's simulate() leaks ~120 bytes per call (found with BIOMD0000000033, whose
    Newton fails from the start, so every solve presimulates); the steady-state routes use oneStep."""
    engine = Engine(Model.from_sbml_file(Path(__file__).parent / "data" / "biomodels" / "BIOMD0000000033.xml"))
    calls = []
    rr_type = type(engine.roadrunner)
    original = rr_type.simulate
    monkeypatch.setattr(rr_type, "simulate", lambda self, *a, **k: calls.append(a) or original(self, *a, **k))
    result = engine.steady_state(start="reset")
    assert result.method.value == "presimulation" and result.stable
    assert calls == []
