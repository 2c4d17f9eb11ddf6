import json
import subprocess
import sys

import pytest

from epl_sysbio.cli import main
from epl_sysbio.model import Model

from inline_models import CONSERVED_CYCLE


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_steady_json_shape(capsys, sbml_models_dir):
    code, out, _ = run(capsys, "steady", str(sbml_models_dir / "receptor_synapse.ant"), "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert set(payload) >= {"model", "status", "stable", "residual", "method", "values"}
    assert payload["status"] == "stable" and payload["stable"] is True
    assert payload["values"]["C"] == pytest.approx(0.29751390648708, rel=1e-9)


def test_steady_set_and_csv(capsys, sbml_models_dir):
    code, out, _ = run(capsys, "steady", str(sbml_models_dir / "phosphorylation_cycle_neuron.ant"),
                       "--set", "u=1", "--format", "csv")
    assert code == 0
    rows = dict(line.split(",") for line in out.strip().splitlines()[1:])
    assert float(rows["Xp"]) == pytest.approx(0.5, rel=1e-9)


def test_steady_unstable_exits_1(capsys, tmp_path):
    path = tmp_path / "grow.ant"
    path.write_text("model grow\n A -> 2 A; k*A\n k = 1; A = 0\nend\n")
    code, out, _ = run(capsys, "steady", str(path))
    assert code == 1 and "unstable" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["steady", "{m}", "--set", "nope=1"], "unknown ids 'nope'"),
        (["steady", "{m}", "--set", "k1"], "id=value"),
        (["steady", "{m}", "--set", "k1=abc"], "not a number"),
        (["steady", "{m}", "--set", "A=-1"], ">= 0"),
        (["steady", "{m}", "--set", "k1=nan"], "finite"),
        (["steady", "{missing}"], "does not exist"),
        (["validate", "{empty}"], "empty"),
    ],
)
def test_bad_input_exits_2_with_message(capsys, tmp_path, argv, fragment):
    m = tmp_path / "m.ant"
    m.write_text(CONSERVED_CYCLE)
    (tmp_path / "empty.xml").write_text("")
    argv = [a.format(m=m, missing=tmp_path / "missing.xml", empty=tmp_path / "empty.xml") for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_validate_and_convert(capsys, tmp_path, sbml_models_dir):
    code, out, _ = run(capsys, "validate", str(sbml_models_dir / "receptor_synapse.ant"))
    assert code == 0 and "0 errors" in out
    target = tmp_path / "synapse.xml"
    code, _, _ = run(capsys, "convert", str(sbml_models_dir / "receptor_synapse.ant"), "--to", "sbml", "-o", str(target))
    assert code == 0
    assert Model.from_sbml_file(target).species_ids == ["L", "R", "C", "D"]
    code, out, _ = run(capsys, "convert", str(target), "--to", "antimony")
    assert code == 0 and "binding:" in out


def test_validate_invalid_model_exits_1(capsys, tmp_path):
    sbml = Model.from_antimony(CONSERVED_CYCLE).to_sbml().replace('compartment="c"', 'compartment="zz"', 1)
    path = tmp_path / "bad.xml"
    path.write_text(sbml)
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1 and "error" in out and "'A'" in out


def test_console_script_is_installed(tmp_path, sbml_models_dir):
    exe = __import__("shutil").which("epl-sysbio") or str(__import__("pathlib").Path(sys.executable).parent / "epl-sysbio")
    proc = subprocess.run([exe, "steady", str(sbml_models_dir / "homeostatic_unit.ant"), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["values"]["ATP"] == pytest.approx(10 / 3, rel=1e-9)


def test_demo_writes_outputs(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--out", str(tmp_path / "demo"))
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["stable_points"] == summary["points"] == 301
    assert summary["half_max_input"] == pytest.approx(1.0, abs=0.02)
    for name in ("input_response.csv", "input_response.png", "summary.json"):
        assert (tmp_path / "demo" / name).stat().st_size > 0


def test_xor_command_runs_refuses_overwrite_and_resumes(capsys, tmp_path):
    out = tmp_path / "xor"
    code, stdout, _ = run(capsys, "xor", "--out", str(out), "--seed", "3", "--executor", "serial", "--generations", "5")
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["generations"] == 5 and summary["evaluations"] == 5 * 150
    assert code == (0 if summary["solved"] else 1)
    for name in ("config.toml", "logbook.csv", "fitness.png", "checkpoints"):
        assert (out / name).exists()
    code, _, err = run(capsys, "xor", "--out", str(out), "--seed", "3")
    assert code == 2 and "already holds checkpoints" in err
    code, stdout, _ = run(capsys, "xor", "--out", str(out), "--resume", "--generations", "8")
    assert json.loads(stdout.strip().splitlines()[-1])["generations"] == 8


def test_version_and_help_need_no_heavy_library():
    code = ("import sys\nfrom epl_sysbio.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('roadrunner', 'libsbml', 'numpy', 'matplotlib', 'tellurium') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines() == ["epl-sysbio 0.1.0", "[]"]


def test_bundled_models_by_name(capsys):
    from epl_sysbio import models

    assert {"receptor_synapse", "schloegl_bistable", "phosphorylation_cycle_neuron"} <= set(models.names())
    assert models.path("receptor_synapse").read_text().startswith("// Receptor-binding synapse")
    assert models.path("receptor_synapse.ant") == models.path("receptor_synapse")
    assert models.load("homeostatic_unit").id == "homeostatic_unit"
    from epl_sysbio.errors import UnknownIdError

    with pytest.raises(UnknownIdError, match="'receptor_synapse'"):
        models.path("receptor_synapses")
    code, out, _ = run(capsys, "models")
    assert code == 0 and str(models.path("schloegl_bistable")) in out
    code, out, _ = run(capsys, "steady", "receptor_synapse", "--format", "json")
    assert code == 0 and json.loads(out)["model"] == "receptor_synapse"
    code, _, err = run(capsys, "steady", "no_such_model")
    assert code == 2 and "neither a file nor a bundled model" in err and "receptor_synapse" in err


def test_analyze_prints_kind_eigenvalues_and_control_coefficients(capsys):
    code, out, _ = run(capsys, "analyze", "schloegl_bistable", "--scan", "k4=5:7:21")
    assert code == 0
    assert "kind      stable node" in out
    assert "leading eigenvalues of the reduced Jacobian" in out and "\n  -2\n" in out
    assert "[X] / decay" in out and "-5.5" in out
    assert "folds at 5.6151, 6.3849; hysteresis between 5.6151 and 6.3849" in out


def test_status_prints_as_its_value():
    from epl_sysbio import Engine, models

    result = Engine(models.load("receptor_synapse")).steady_state()
    assert str(result.status) == "stable" and f"{result.method}" == "newton"
