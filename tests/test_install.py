"""A plain (non-editable) install works from any directory: the wheel carries the bundled models.

The wheel is built from a copy of the checkout and installed with ``--no-deps``
into a fresh virtual environment whose dependencies come from this test
environment's site-packages (a path entry, so this environment's editable
install of epl_sysbio is not visible there). Everything then runs from a
directory outside the repository, as a user would after ``pip install``.
``benchmarks/install.py`` measures the full install with its dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__", "*.egg-info", "build", "dist",
                                     ".pytest_cache", ".hypothesis", "_build", "tests", "analysis", "benchmarks")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, its epl-sysbio script, a work directory outside the repository, the wheel)."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE, symlinks=True)
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(dist), str(source)], check=True, capture_output=True, text=True)
    (wheel,) = dist.glob("epl_sysbio-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies: this environment's packages, after the venv's own (the wheel's copy wins)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, text=True)
    work = base / "elsewhere"
    work.mkdir()
    return python, venv / "bin" / "epl-sysbio", work, wheel


def _run(argv, work, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([str(a) for a in argv], cwd=work, capture_output=True, text=True, timeout=timeout, env=env)


def test_the_wheel_holds_the_models_and_declares_only_core_dependencies(installed):
    *_, wheel = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    for model in ("receptor_synapse", "phosphorylation_cycle_neuron", "schloegl_bistable", "homeostatic_unit"):
        assert f"epl_sysbio/models/{model}.ant" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    core = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not any(d.startswith(("tellurium", "six", "python-copasi", "torch")) for d in core), core
    assert any(d.startswith("python-libcombine") for d in core) and any(d.startswith("python-libsedml") for d in core)
    assert "License-Expression: MIT" in metadata


def test_installed_package_runs_from_another_directory(installed):
    python, exe, work, _ = installed
    where = _run([python, "-c", "import epl_sysbio; print(epl_sysbio.__file__)"], work)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(python.parent.parent), where.stdout  # not the checkout

    version = _run([exe, "--version"], work)
    assert version.returncode == 0 and version.stdout.strip() == "epl-sysbio 0.1.0"

    demo = _run([exe, "demo", "--out", "demo"], work)
    assert demo.returncode == 0, demo.stderr
    assert json.loads(demo.stdout.strip().splitlines()[-1])["stable_points"] == 301
    assert (work / "demo" / "input_response.png").read_bytes()[:4] == b"\x89PNG"

    steady = _run([exe, "steady", "receptor_synapse", "--format", "json"], work)
    assert steady.returncode == 0, steady.stderr
    assert json.loads(steady.stdout)["status"] == "stable"

    evolve = _run([exe, "evolve", "--preset", "smoke", "--out", "smoke"], work)
    assert evolve.returncode == 0, evolve.stderr
    summary = json.loads(evolve.stdout.strip().splitlines()[-1])
    assert summary["generations"] == 2 and (work / "smoke" / "best" / "model.omex").is_file()
